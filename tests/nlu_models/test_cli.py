import json

import pytest

from core.settings import settings
from nlu_models.cli import main


@pytest.fixture
def cli_env(trained_small, monkeypatch):
    monkeypatch.setenv("SHOPDESK_NLU_MODEL_ROOT", str(trained_small.model_root))
    monkeypatch.setenv("SHOPDESK_NLU_DATA_DIR", str(trained_small.intent_data))
    return trained_small


def test_help_explains_every_command(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for command in ("ensure", "train", "evaluate", "predict", "serve"):
        assert command in out


def test_evaluate_writes_json_and_markdown(cli_env, tmp_path, capsys) -> None:
    data = tmp_path / "held_out.csv"
    data.write_text(
        "text,label\nhello there,greet\nwhere is my parcel,track_order\n"
        "any rain jackets,search_product\ntell me a joke please,out_of_scope\n",
        encoding="utf-8",
    )
    assert main(["evaluate", "--data", str(data), "--out", str(tmp_path / "report")]) == 0
    report = json.loads((tmp_path / "report" / "evaluation.json").read_text())
    assert report["examples"] == 4 and report["accuracy"] >= 0.75
    assert report["oos_label"] == "out_of_scope"
    assert "| accuracy |" in capsys.readouterr().out


def test_predict_prints_label_and_entities(cli_env, capsys) -> None:
    assert main(["predict", "where is order 000000001"]) == 0
    line = json.loads(capsys.readouterr().out.splitlines()[0])
    assert line["label"] == "track_order"
    assert line["entities"][0]["entity"] == "order_number"


def test_train_from_csv(cli_env, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SHOPDESK_NLU_MODEL_ROOT", str(tmp_path / "models"))
    data = tmp_path / "train.csv"
    rows = [f"hello number {i},greet" for i in range(6)] + [
        f"bye for now {i},goodbye" for i in range(6)
    ]
    data.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert main(["train", "--data", str(data), "--epochs", "2"]) == 0
    assert "trained on" in capsys.readouterr().out
    assert (tmp_path / "models" / "intent" / "head.safetensors").is_file()


def test_bad_data_and_settings_get_a_clear_message(cli_env, tmp_path, monkeypatch, capsys) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text("words,intent\nhi,greet\n", encoding="utf-8")
    assert main(["evaluate", "--data", str(broken)]) == 2
    assert "missing column(s) label, text" in capsys.readouterr().err
    assert main(["evaluate", "--data", str(tmp_path / "nowhere.csv")]) == 2
    monkeypatch.setenv("SHOPDESK_NLU_QUANTIZATION", "4bit")
    settings.cache_clear()  # as a new process would read it
    assert main(["predict", "hi"]) == 2
    assert "SHOPDESK_NLU_QUANTIZATION must be one of" in capsys.readouterr().err


def test_an_unloaded_catalog_gets_a_clear_message(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SHOPDESK_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    monkeypatch.setenv("SHOPDESK_NLU_MODEL_ROOT", str(tmp_path / "models"))
    assert main(["ensure", "--task", "category"]) == 2
    assert "load it first with `python -m catalog.cli load`" in capsys.readouterr().err
