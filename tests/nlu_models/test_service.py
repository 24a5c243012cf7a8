import json
from itertools import pairwise
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlu_models.artifact import Artifact
from nlu_models.classifier import Classifier
from nlu_models.config import ClassifierSettings
from nlu_models.service import CATEGORY_INTENTS, MAX_BATCH, MAX_TEXT_LENGTH, create_app
from nlu_models.settings import NluSettings


@pytest.fixture(scope="module")
def client(trained_small, luma_vocabulary):
    app = create_app(trained_small, Classifier.load(trained_small), luma_vocabulary)
    with TestClient(app) as test_client:
        yield test_client


def test_parse_follows_rasas_contract(client, trained_small) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["quantization"] == "8bit"
    assert health["kernel"] == "fbgemm" and health["vocabulary"]
    intent_artifact = Artifact.read(trained_small.model_dir("intent"))
    assert intent_artifact is not None
    assert health["tasks"]["intent"]["data_hash"] == intent_artifact.data_hash
    assert set(health["tasks"]) == {"intent", "category"}

    body = client.post("/model/parse", json={"text": "where is order 000000001?"}).json()
    assert body["text"] == "where is order 000000001?"
    assert body["intent"]["name"] == "track_order"
    assert 0 < body["intent"]["confidence"] <= 1
    assert body["intent_ranking"][0]["name"] == "track_order"
    assert body["entities"][0]["entity"] == "order_number"
    assert body["entities"][0]["value"] == "000000001"
    # categories only where a product search reads them (CATEGORY_INTENTS)
    assert body["product_category"] == []


def test_parse_finds_catalog_entities_and_the_category(client) -> None:
    body = client.post("/model/parse", json={"text": "a black backpack under $50"}).json()
    found = {(e["entity"], e["value"]) for e in body["entities"]}
    assert {("color", "Black"), ("category", "Bags"), ("price_max", 50.0)} <= found
    assert body["intent"]["name"] in CATEGORY_INTENTS
    assert len(body["product_category"]) == 3
    assert body["product_category"][0]["name"] == "Gear/Bags"


def test_categories_go_with_the_intents_whose_rules_search() -> None:
    """CATEGORY_INTENTS are exactly the intents the rules answer with a product search."""
    rules = yaml.safe_load(Path("bot/data/rules.yml").read_text())["rules"]
    searching = set()
    for rule in rules:
        steps = rule.get("steps", [])
        for before, step in pairwise(steps):
            searches = {"action_search_products", "action_refine_search", "action_route_inform"}
            if step.get("action") in searches:
                searching.add(before.get("intent"))
    assert searching == CATEGORY_INTENTS


def test_classify_answers_a_batch_per_task(client) -> None:
    response = client.post(
        "/classify", json={"task": "category", "texts": ["gym bag", "warm jacket for men"]}
    )
    assert response.status_code == 200
    assert [r["label"] for r in response.json()] == ["Gear/Bags", "Men/Tops/Jackets"]
    intents = client.post("/classify", json={"task": "intent", "texts": ["hi"]}).json()
    assert intents[0]["label"] == "greet" and intents[0]["ranking"][0]["name"] == "greet"


def test_bad_requests_get_clear_errors(client) -> None:
    assert client.post("/model/parse", json={}).status_code == 422
    assert client.post("/model/parse", json={"text": 42}).status_code == 422
    too_long = {"text": "x" * (MAX_TEXT_LENGTH + 1)}
    assert client.post("/model/parse", json=too_long).status_code == 422
    assert client.post("/model/parse", content=b"not json").status_code == 422
    assert client.post("/classify", json={"task": "weather", "texts": ["x"]}).status_code == 422
    assert client.post("/classify", json={"task": "intent", "texts": []}).status_code == 422
    many = {"task": "intent", "texts": ["x"] * (MAX_BATCH + 1)}
    assert client.post("/classify", json=many).status_code == 422
    long_item = {"task": "intent", "texts": ["x" * (MAX_TEXT_LENGTH + 1)]}
    assert client.post("/classify", json=long_item).status_code == 422


def test_a_slow_call_is_logged_and_counted(trained_small, monkeypatch, caplog) -> None:
    monkeypatch.setenv("SHOPDESK_NLU_SLOW_MS", "0")
    with TestClient(create_app(trained_small, Classifier.load(trained_small, ["intent"]))) as c:
        c.post("/model/parse", json={"text": "hi"})
        assert c.get("/health").json()["slow_calls"] == 1
    assert "slow classifier call" in caplog.text


def test_a_missing_model_shows_on_health_and_parse(tmp_path: Path) -> None:
    settings = ClassifierSettings(model_root=tmp_path / "nothing-here")
    with TestClient(create_app(settings)) as client:
        health = client.get("/health")
        assert health.status_code == 503
        assert "no trained intent adapter" in health.json()["detail"]
        assert client.post("/model/parse", json={"text": "hi"}).status_code == 503


def test_with_a_token_only_callers_that_send_it_are_served(trained_small) -> None:
    classifier = Classifier.load(trained_small, ["intent"])
    with TestClient(create_app(trained_small, classifier, token="s3cret")) as secured:
        assert secured.post("/model/parse", json={"text": "hi"}).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert secured.post("/model/parse", json={"text": "hi"}, headers=wrong).status_code == 401
        right = {"Authorization": "Bearer s3cret"}
        assert secured.post("/model/parse", json={"text": "hi"}, headers=right).status_code == 200
        batch = {"task": "intent", "texts": ["hi"]}
        assert secured.post("/classify", json=batch).status_code == 401
        assert secured.get("/health").status_code == 200  # the launcher's check; no data in it


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(["/model/parse", "/classify"]),
    body=st.one_of(
        st.text(max_size=MAX_TEXT_LENGTH + 20).map(lambda t: json.dumps({"text": t}).encode()),
        st.lists(st.text(max_size=60), max_size=5).map(
            lambda ts: json.dumps({"task": "intent", "texts": ts}).encode()
        ),
        st.binary(max_size=200),
    ),
)
def test_any_input_gets_an_answer_or_a_clear_refusal(client, path: str, body: bytes) -> None:
    """Property-based: the classifier service never fails with a server error."""
    answer = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code in {200, 400, 422}, answer.text


def test_a_parse_is_the_same_whichever_adapter_was_on(trained_small) -> None:
    """parse() runs the task whose adapter is on first, to switch once; the order must not
    change any answer."""
    from nlu_models.service import parse

    classifier = Classifier.load(trained_small)
    texts = ["a gym bag", "hello", "where is my order 000000101?"]
    classifier.predict("intent", ["warm up"])
    after_intent = parse(classifier, texts)
    classifier.predict("category", ["warm up"])
    after_category = parse(classifier, texts)
    assert [r.model_dump() for r in after_intent] == [r.model_dump() for r in after_category]


def test_the_serving_threads_are_a_setting(monkeypatch) -> None:
    monkeypatch.setenv("SHOPDESK_NLU_THREADS", "2")
    assert NluSettings.from_env().classifier().serve_threads == 2
    monkeypatch.setenv("SHOPDESK_NLU_THREADS", "zero")
    with pytest.raises(ValueError, match="SHOPDESK_NLU_THREADS"):
        NluSettings.from_env().classifier()
    monkeypatch.delenv("SHOPDESK_NLU_THREADS")
    assert NluSettings.from_env().classifier().serve_threads == 1


def test_the_intent_reads_one_known_address_and_entities_keep_the_typed_one() -> None:
    from nlu_models.service import CANONICAL_EMAIL, as_classified

    text = "please subscribe victim.3f9a1b2c@example.com and x_9@mail.example.org"
    assert as_classified(text) == (f"please subscribe {CANONICAL_EMAIL} and {CANONICAL_EMAIL}")
    assert as_classified("where is order 000000101") == "where is order 000000101"
