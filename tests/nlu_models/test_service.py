from pathlib import Path

from fastapi.testclient import TestClient

from nlu_models.service import MAX_TEXT_LENGTH, create_app
from nlu_models.settings import ClassifierSettings


def test_parse_follows_rasas_contract(trained_small) -> None:
    settings, artifact = trained_small
    with TestClient(create_app(settings)) as client:
        health = client.get("/health")
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        assert health.json()["data_hash"] == artifact.data_hash
        assert health.json()["quantization"] == "8bit"

        response = client.post("/model/parse", json={"text": "where is order 000000001?"})
        assert response.status_code == 200
        body = response.json()
        assert body["text"] == "where is order 000000001?"
        assert body["intent"]["name"] == "track_order"
        assert 0 < body["intent"]["confidence"] <= 1
        assert next(i["name"] for i in body["intent_ranking"]) == "track_order"
        assert body["entities"][0]["entity"] == "order_number"
        assert body["entities"][0]["value"] == "000000001"


def test_bad_requests_get_clear_errors(trained_small) -> None:
    settings, _ = trained_small
    with TestClient(create_app(settings)) as client:
        assert client.post("/model/parse", json={}).status_code == 422
        assert client.post("/model/parse", json={"text": 42}).status_code == 422
        too_long = {"text": "x" * (MAX_TEXT_LENGTH + 1)}
        assert client.post("/model/parse", json=too_long).status_code == 422
        assert client.post("/model/parse", content=b"not json").status_code == 422


def test_a_missing_model_shows_on_health_and_parse(tmp_path: Path) -> None:
    settings = ClassifierSettings(model_dir=tmp_path / "nothing-here")
    with TestClient(create_app(settings)) as client:
        health = client.get("/health")
        assert health.status_code == 503
        assert "no trained classifier" in health.json()["detail"]
        assert client.post("/model/parse", json={"text": "hi"}).status_code == 503
