"""Rasa NLU component that asks ShopDesk's classifier service for intent and entities.

Why a component rather than Rasa's `nlu:` endpoint: with the endpoint, a failed call gives
an empty intent silently and the pipeline (FallbackClassifier, `rasa test nlu`) is bypassed.
Here a failure is logged and turned into the intent `classifier_unavailable`, which the
bot answers politely, and Rasa's own tools keep working on the same pipeline.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import requests
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

logger = logging.getLogger(__name__)
# The service refuses longer texts; the classifier reads only the first 64 tokens anyway.
MAX_TEXT_LENGTH = 2000


# The intent a message gets when the classifier cannot answer; a rule answers it politely.
UNAVAILABLE_INTENT = "classifier_unavailable"
# The category classifier's top predictions ([{name, confidence}]); product search ranks by it.
PRODUCT_CATEGORY = "product_category"


def unavailable_parse() -> dict[str, Any]:
    """The parse of a message the classifier could not classify (down, slow, or broken)."""
    intent = {"name": UNAVAILABLE_INTENT, "confidence": 1.0}
    return {INTENT: intent, INTENT_RANKING_KEY: [intent], ENTITIES: [], PRODUCT_CATEGORY: []}


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
        DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    ],
    is_trainable=False,
)
class ShopDeskClassifierClient(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"url": "http://127.0.0.1:5006", "timeout_s": 5.0}

    def __init__(self, config: dict[str, Any]) -> None:
        url = os.environ.get("SHOPDESK_NLU_URL") or config["url"]
        self.parse_url = url.rstrip("/") + "/model/parse"
        self.timeout_s = float(os.environ.get("SHOPDESK_NLU_TIMEOUT_S") or config["timeout_s"])
        self.session = requests.Session()
        # the shared secret the classifier service asks of every caller (nlu_models/service.py)
        token = os.environ.get("SHOPDESK_INTERNAL_TOKEN", "").strip()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ShopDeskClassifierClient:
        return cls(config)

    def parse_text(self, text: str) -> dict[str, Any]:
        """The service's parse of `text`, or the fallback parse if it fails in any way."""
        try:
            response = self.session.post(
                self.parse_url, json={"text": text[:MAX_TEXT_LENGTH]}, timeout=self.timeout_s
            )
            response.raise_for_status()
            result = response.json()
            intent = result["intent"]
            if not intent or not intent.get("name"):
                raise ValueError("the classifier returned no intent")
            return {
                INTENT: intent,
                INTENT_RANKING_KEY: result.get("intent_ranking", [intent]),
                ENTITIES: result.get("entities", []),
                PRODUCT_CATEGORY: result.get(PRODUCT_CATEGORY, []),
            }
        except (requests.RequestException, ValueError, KeyError, TypeError) as error:
            # The text is not logged: it may hold personal data.
            logger.error(
                "ShopDesk classifier at %s failed: %s", self.parse_url, type(error).__name__
            )
            return unavailable_parse()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text or text.startswith("/"):
                # "/intent{...}" (a button's payload) is parsed by Rasa's RegexMessageHandler
                # at the end of the graph; until then the message needs an intent, or the
                # FallbackClassifier after this component fails on it.
                message.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
                continue
            parsed = self.parse_text(text)
            message.set(INTENT, parsed[INTENT], add_to_output=True)
            message.set(INTENT_RANKING_KEY, parsed[INTENT_RANKING_KEY], add_to_output=True)
            message.set(ENTITIES, message.get(ENTITIES, []) + parsed[ENTITIES], add_to_output=True)
            message.set(PRODUCT_CATEGORY, parsed[PRODUCT_CATEGORY], add_to_output=True)
        return messages

    def process_training_data(self, training_data: Any) -> Any:
        return training_data

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> ShopDeskClassifierClient:
        return cls(config)

    @classmethod
    def required_packages(cls) -> list[str] | None:
        return ["requests"]
