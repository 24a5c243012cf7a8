"""Rasa NLU component that asks ShopDesk's classifier service for intent and entities.

Why a component rather than Rasa's `nlu:` endpoint: with the endpoint, a failed call gives
an empty intent silently and the pipeline (FallbackClassifier, `rasa test nlu`) is bypassed.
Here a failure is logged and turned into the intent `classifier_unavailable`, which the
bot answers politely, and Rasa's own tools keep working on the same pipeline.

Rasa runs its NLU graph synchronously inside its event loop, so a blocking call here would
stop every other conversation of the process while the classifier works. The shopper channel
therefore awaits `prefetch(text)` first (channels.py); the component then takes that parse from
`PREFETCHED` and calls the service itself only when nothing was fetched (e.g. `rasa shell`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import aiohttp
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


def parse_from_service(result: Any) -> dict[str, Any]:
    """The service's JSON as the parts the component sets; ValueError, KeyError or TypeError
    when it is not a parse."""
    intent = result["intent"]
    if not intent or not intent.get("name"):
        raise ValueError("the classifier returned no intent")
    return {
        INTENT: intent,
        INTENT_RANKING_KEY: result.get("intent_ranking", [intent]),
        ENTITIES: result.get("entities", []),
        PRODUCT_CATEGORY: result.get(PRODUCT_CATEGORY, []),
    }


@dataclass
class PrefetchedParses:
    """Parses the channel fetched, each waiting for its message to reach the component.

    Not a cache: each fetch is taken once, by its own message (two messages with the same
    text wait for two). One never taken (the message was refused before NLU) expires.
    """

    ttl_s: float = 60.0
    size: int = 4096
    _entries: OrderedDict[str, tuple[float, list[dict[str, Any]]]] = field(
        default_factory=OrderedDict
    )

    def put(self, text: str, parse: dict[str, Any]) -> None:
        _, waiting = self._entries.pop(text, (0.0, []))
        self._entries[text] = (time.monotonic() + self.ttl_s, [*waiting, parse])
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def take(self, text: str) -> dict[str, Any] | None:
        entry = self._entries.pop(text, None)
        if entry is None or entry[0] <= time.monotonic():
            return None
        expires, (parse, *rest) = entry
        if rest:
            self._entries[text] = (expires, rest)
        return parse


PREFETCHED = PrefetchedParses()


@dataclass(frozen=True)
class ClassifierEndpoint:
    """Where the service is and how to call it: SHOPDESK_NLU_URL / SHOPDESK_NLU_TIMEOUT_S win
    over config.yml; the shared secret comes from SHOPDESK_INTERNAL_TOKEN."""

    parse_url: str
    timeout_s: float
    headers: dict[str, str]

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ClassifierEndpoint:
        url = os.environ.get("SHOPDESK_NLU_URL") or config["url"]
        token = os.environ.get("SHOPDESK_INTERNAL_TOKEN", "").strip()
        return cls(
            parse_url=url.rstrip("/") + "/model/parse",
            timeout_s=float(os.environ.get("SHOPDESK_NLU_TIMEOUT_S") or config["timeout_s"]),
            headers={"Authorization": f"Bearer {token}"} if token else {},
        )


# The endpoint of the loaded model's component, for `prefetch` (None until a model is loaded).
_endpoint: ClassifierEndpoint | None = None
# One HTTP session per event loop (Rasa has one; tests start several).
_http: dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}


def _log_failure(endpoint: ClassifierEndpoint, error: BaseException) -> None:
    # The text is not logged: it may hold personal data.
    logger.error("ShopDesk classifier at %s failed: %s", endpoint.parse_url, type(error).__name__)


async def prefetch(text: str) -> None:
    """Classify `text` without blocking Rasa's event loop; the component takes the result."""
    endpoint = _endpoint
    if endpoint is None or not text or text.startswith("/"):
        return
    loop = asyncio.get_running_loop()
    session = _http.get(loop)
    if session is None or session.closed:
        session = _http[loop] = aiohttp.ClientSession(headers=endpoint.headers)
    try:
        async with session.post(
            endpoint.parse_url,
            json={"text": text[:MAX_TEXT_LENGTH]},
            timeout=aiohttp.ClientTimeout(total=endpoint.timeout_s),
        ) as response:
            response.raise_for_status()
            PREFETCHED.put(text, parse_from_service(await response.json()))
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, KeyError, TypeError) as error:
        _log_failure(endpoint, error)
        # the component takes this rather than trying again: one wait for the shopper
        PREFETCHED.put(text, unavailable_parse())


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
        global _endpoint
        self.endpoint = ClassifierEndpoint.from_config(config)
        _endpoint = self.endpoint
        self.session = requests.Session()
        # the shared secret the classifier service asks of every caller (nlu_models/service.py)
        self.session.headers.update(self.endpoint.headers)

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
        """The parse the channel fetched, else the service's (a blocking call), or the fallback
        parse if it fails in any way."""
        if (prefetched := PREFETCHED.take(text)) is not None:
            return prefetched
        try:
            response = self.session.post(
                self.endpoint.parse_url,
                json={"text": text[:MAX_TEXT_LENGTH]},
                timeout=self.endpoint.timeout_s,
            )
            response.raise_for_status()
            return parse_from_service(response.json())
        except (requests.RequestException, ValueError, KeyError, TypeError) as error:
            _log_failure(self.endpoint, error)
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
    def required_packages(cls) -> list[str]:
        return ["requests", "aiohttp"]
