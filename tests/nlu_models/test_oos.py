from dataclasses import replace

from fastapi.testclient import TestClient

from nlu_models.classifier import Classifier
from nlu_models.oos import decide, find_oos_label, tune_threshold
from nlu_models.service import create_app


def test_the_explicit_class_and_low_confidence_are_both_out_of_scope() -> None:
    assert decide("out_of_scope", 0.99, "out_of_scope", 0.5)
    assert decide("greet", 0.3, "out_of_scope", 0.5)
    assert not decide("greet", 0.7, "out_of_scope", 0.5)
    assert decide("greet", 0.3, None, 0.5)
    assert find_oos_label(["greet", "oos"]) == "oos"
    assert find_oos_label(["greet"]) is None


def test_threshold_catches_unsure_messages_within_the_allowed_in_scope_loss() -> None:
    predicted = ["a", "a", "b", "b", "a", "b"]
    confidences = [0.9, 0.95, 0.9, 0.85, 0.4, 0.35]
    gold = ["a", "a", "b", "b", "oos", "oos"]
    assert tune_threshold(predicted, confidences, gold, "oos", 0.0) == 0.41
    # a threshold that would reject in-scope messages is not allowed at zero loss
    unsure_in_scope = [0.9, 0.3, 0.9, 0.85, 0.4, 0.35]
    assert tune_threshold(predicted, unsure_in_scope, gold, "oos", 0.0) == 0.0
    assert tune_threshold(predicted, confidences, ["a", "a", "b", "b", "a", "b"], "oos", 0.1) == 0.0


def test_unknown_topics_reach_rasa_as_out_of_scope(trained_small) -> None:
    classifier = Classifier.load(trained_small, ["intent"])
    with TestClient(create_app(trained_small, classifier)) as client:
        body = client.post("/model/parse", json={"text": "tell me a funny joke"}).json()
        assert body["intent"]["name"] == "out_of_scope" and body["out_of_scope"]
        body = client.post("/model/parse", json={"text": "where is my order"}).json()
        assert body["intent"]["name"] == "track_order" and not body["out_of_scope"]


def test_an_unsure_prediction_becomes_out_of_scope_not_a_wrong_intent(trained_small) -> None:
    classifier = Classifier.load(trained_small, ["intent"])
    model = classifier.tasks["intent"]
    strict = replace(model.artifact, oos_threshold=0.999)
    classifier.tasks["intent"] = replace(model, artifact=strict)
    with TestClient(create_app(trained_small, classifier)) as client:
        body = client.post("/model/parse", json={"text": "where is my order"}).json()
    assert body["out_of_scope"]
    assert body["intent"]["name"] == "out_of_scope"
    assert body["intent_ranking"][0]["name"] == "out_of_scope"
    assert body["intent"]["confidence"] > 0
