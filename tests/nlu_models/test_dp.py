import json
import math
from dataclasses import replace

import pytest

from core.settings import settings
from nlu_models import dp as dp_module
from nlu_models.artifact import ARTIFACT_FILE, Artifact
from nlu_models.cli import main
from nlu_models.config import ClassifierSettings, DPConfig, TrainingSettings
from nlu_models.data import Example, data_hash, read_nlu_dir
from nlu_models.settings import NluSettings
from nlu_models.training import train

TINY = [Example(f"hello number {i}", "greet") for i in range(6)] + [
    Example(f"bye for now {i}", "goodbye") for i in range(6)
]


def tiny_settings(root, dp: DPConfig | None) -> ClassifierSettings:
    return ClassifierSettings(
        model_root=root / "models",
        training=TrainingSettings(max_epochs=2, batch_size=8, validation_fraction=0.0),
        dp=dp,
    )


@pytest.mark.slow  # trains a model or embeds in two processes: `make test-fast` leaves it out
def test_dp_training_reports_epsilon_within_the_target(tmp_path) -> None:
    artifact = train(
        tiny_settings(tmp_path, DPConfig(target_epsilon=8.0)), "intent", TINY, None, False
    )
    assert artifact.dp is not None
    spent = artifact.dp["epsilon_spent"]
    assert math.isfinite(spent) and 0 < spent <= 8.0
    assert artifact.dp["base_precision"] == "8bit"  # Opacus handles the 8-bit base
    assert artifact.dp["noise_multiplier"] > 0 and artifact.dp["delta"] == 1e-5
    saved = json.loads((tmp_path / "models" / "intent" / ARTIFACT_FILE).read_text())
    assert saved["dp"] == artifact.dp
    assert saved["settings"]["dp"]["target_epsilon"] == 8.0
    assert Artifact.read(tmp_path / "models" / "intent") == artifact


@pytest.mark.slow  # trains a model or embeds in two processes: `make test-fast` leaves it out
def test_dp_falls_back_to_fp32_when_8bit_cannot_give_per_sample_grads(
    tmp_path, monkeypatch, caplog
) -> None:
    real_probe = dp_module._probe
    calls = []

    def probe(private, tokenizer, device):
        calls.append(private.precision)
        return "made-up failure" if len(calls) == 1 else real_probe(private, tokenizer, device)

    monkeypatch.setattr(dp_module, "_probe", probe)
    settings = tiny_settings(tmp_path, DPConfig(target_epsilon=8.0))
    artifact = train(settings, "intent", TINY, None, False)
    assert artifact.dp is not None
    assert artifact.dp["base_precision"].startswith("fp32 (8-bit base unsupported by Opacus")
    assert "training on the fp32 base instead" in caplog.text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"target_epsilon": 0.0}, "epsilon must be a positive number"),
        ({"target_epsilon": -1.0}, "epsilon must be a positive number"),
        ({"max_grad_norm": 0.0}, "max_grad_norm must be positive"),
        ({"max_grad_norm": -2.0}, "max_grad_norm must be positive"),
        ({"delta": 1.5}, "delta must be between 0 and 1"),
        ({"noise_multiplier": 0.0}, "noise_multiplier must be positive"),
        ({"target_epsilon": None}, "needs a target epsilon or a noise multiplier"),
    ],
)
def test_nonsense_options_are_refused(options, message) -> None:
    with pytest.raises(ValueError, match=message):
        DPConfig(**options)


def test_cli_refuses_nonsense_before_loading_a_model(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SHOPDESK_NLU_MODEL_ROOT", str(tmp_path / "models"))
    data = tmp_path / "train.csv"
    data.write_text("text,label\n" + "\n".join(f"{e.text},{e.label}" for e in TINY) + "\n")
    assert main(["train", "--data", str(data), "--dp", "--epsilon", "0"]) == 2
    assert "epsilon must be a positive number" in capsys.readouterr().err
    assert main(["train", "--data", str(data), "--dp", "--max-grad-norm", "-1"]) == 2
    assert "max_grad_norm must be positive" in capsys.readouterr().err
    assert main(["train", "--data", str(data), "--epsilon", "8"]) == 2
    assert "--epsilon given without --dp" in capsys.readouterr().err
    monkeypatch.setenv("SHOPDESK_NLU_DP_EPSILON", "-3")
    settings.cache_clear()  # as a new process would read it
    assert main(["train", "--data", str(data)]) == 2
    assert "epsilon must be a positive number" in capsys.readouterr().err
    assert not (tmp_path / "models").exists()


def test_help_explains_the_dp_options(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    for option in ("--dp", "--epsilon", "--delta", "--max-grad-norm", "--noise-multiplier"):
        assert option in out
    assert "SHOPDESK_NLU_DP_EPSILON" in out


def test_env_turns_dp_on_and_only_then_changes_the_fingerprint(monkeypatch) -> None:
    plain = NluSettings.from_env().classifier()
    assert plain.dp is None and "dp" not in plain.fingerprint()
    monkeypatch.setenv("SHOPDESK_NLU_DP_EPSILON", "3")
    monkeypatch.setenv("SHOPDESK_NLU_DP_MAX_GRAD_NORM", "0.5")
    private = NluSettings.from_env().classifier()
    assert private.dp == DPConfig(target_epsilon=3.0, max_grad_norm=0.5)
    assert private.fingerprint()["dp"]["target_epsilon"] == 3.0


def test_the_non_dp_path_is_unchanged(trained_small) -> None:
    """The fixture trained without DP: no dp record, and its hash is still current."""
    folder = trained_small.model_dir("intent")
    saved = json.loads((folder / ARTIFACT_FILE).read_text())
    assert "dp" not in saved and "dp" not in saved["settings"]
    assert set(saved["settings"]) == {"base_model", "quantization", "lora", "training"}
    examples = read_nlu_dir(trained_small.intent_data)
    assert saved["data_hash"] == data_hash(examples, trained_small.fingerprint())
    assert replace(trained_small, dp=None).fingerprint() == saved["settings"]
