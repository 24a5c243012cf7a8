"""The classifiers over HTTP: Rasa's `/model/parse` contract, a batch `/classify`, `/health`.

Loaded once per process. While the model is not loaded the service answers 503 with the
reason, so the launcher waits for it and Rasa's client turns a failure into a polite
fallback. A slow call is logged as a warning and counted on /health.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from core.settings import settings as process_settings
from nlu_models.classifier import Classifier, Prediction
from nlu_models.config import TASKS, ClassifierSettings
from nlu_models.entities import EMAIL, extract_entities
from nlu_models.oos import OOS_LABELS
from nlu_models.settings import NluSettings
from nlu_models.vocabulary import Vocabulary

log = logging.getLogger("nlu_models.service")
MAX_TEXT_LENGTH = 2000
MAX_BATCH = 64
RANKING_SIZE = 10
OUT_OF_SCOPE_INTENT = OOS_LABELS[0]  # what the bot's domain calls it
# The intents whose rules run the product search (bot/data/rules.yml: action_search_products,
# action_refine_search, and action_route_inform, which searches for a bare "hoodie" read as
# inform), which ranks by the message's product categories; a test keeps the two in step.
CATEGORY_INTENTS = frozenset({"search_product", "refine_search", "inform"})


class ParseRequest(BaseModel):
    text: str = Field(max_length=MAX_TEXT_LENGTH)
    message_id: str | None = None


class Intent(BaseModel):
    name: str
    confidence: float


class Scored(BaseModel):
    name: str
    confidence: float


class ParseResult(BaseModel):
    text: str
    intent: Intent
    intent_ranking: list[Intent]
    entities: list[dict[str, Any]]
    out_of_scope: bool = False  # True when the classifier judged the message none of its intents
    product_category: list[Scored] = []  # top categories, for product search


class ClassifyRequest(BaseModel):
    task: Literal["intent", "category"]
    texts: list[str] = Field(min_length=1, max_length=MAX_BATCH)


class Classified(BaseModel):
    label: str
    confidence: float
    out_of_scope: bool
    ranking: list[Scored]


@dataclass
class ServiceState:
    classifier: Classifier | None = None
    vocabulary: Vocabulary | None = None
    error: str | None = None
    slow_calls: int = 0
    latencies_ms: list[float] = field(default_factory=list)


def intent_of(prediction: Prediction) -> tuple[Intent, list[Intent]]:
    """The intent Rasa gets: out_of_scope, not a confident wrong intent, when judged so."""
    ranking = [Intent(name=n, confidence=c) for n, c in prediction.ranking[:RANKING_SIZE]]
    if not prediction.out_of_scope:
        return Intent(name=prediction.label, confidence=prediction.confidence), ranking
    in_ranking = dict(prediction.ranking).get(OUT_OF_SCOPE_INTENT, 0.0)
    confidence = max(in_ranking, 1.0 - prediction.confidence)
    oos = Intent(name=OUT_OF_SCOPE_INTENT, confidence=round(confidence, 4))
    return oos, [oos] + [i for i in ranking if i.name != OUT_OF_SCOPE_INTENT]


# Every e-mail address reaches the intent classifier as this one, which its training data
# has: an address is a slot value, and a random one ("victim.3f9a1b@example.com") must not
# change what the message asks for. Entities are still found in the text as typed.
CANONICAL_EMAIL = "jane.doe@example.com"


def as_classified(text: str) -> str:
    """The text the intent classifier reads: every e-mail address replaced by one it knows."""
    return EMAIL.sub(CANONICAL_EMAIL, text)


def parse(
    classifier: Classifier, texts: list[str], vocabulary: Vocabulary | None = None
) -> list[ParseResult]:
    """The batch form of `/model/parse`: one forward pass per task for all texts.

    Product categories are predicted only for the texts whose intent starts or refines a
    product search (CATEGORY_INTENTS), the only places the bot reads them: a second forward
    pass per message saved on every other message (docs/performance.md).
    """
    intents = classifier.predict("intent", [as_classified(text) for text in texts])
    wanted = [i for i, p in enumerate(intents) if intent_of(p)[0].name in CATEGORY_INTENTS]
    categories: dict[int, Prediction] = {}
    if wanted and "category" in classifier.tasks:
        predicted = classifier.predict("category", [texts[i] for i in wanted])
        categories = dict(zip(wanted, predicted, strict=True))
    results = []
    for position, (text, prediction) in enumerate(zip(texts, intents, strict=True)):
        intent, ranking = intent_of(prediction)
        top_categories = (
            [Scored(name=n, confidence=c) for n, c in categories[position].ranking[:3]]
            if position in categories
            else []
        )
        results.append(
            ParseResult(
                text=text,
                intent=intent,
                intent_ranking=ranking,
                entities=[dict(e) for e in extract_entities(text, vocabulary)],
                out_of_scope=prediction.out_of_scope,
                product_category=top_categories,
            )
        )
    return results


def create_app(
    settings: ClassifierSettings,
    classifier: Classifier | None = None,
    vocabulary: Vocabulary | None = None,
    token: str | None = None,
) -> FastAPI:
    """The service; with a `token`, every route but /health needs `Authorization: Bearer`."""
    state = ServiceState(classifier=classifier, vocabulary=vocabulary)
    slow_ms = process_settings().section(NluSettings).slow_ms

    def load() -> None:
        state.vocabulary = state.vocabulary or Vocabulary.load(settings.model_root)
        if state.vocabulary is None:
            log.warning("no entity vocabulary in %s: catalog entities are off", settings.model_root)
        state.classifier = Classifier.load(settings, TASKS)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if state.classifier is None:
            started = time.monotonic()
            try:
                await run_in_threadpool(load)
                log.info("classifiers loaded in %.1fs", time.monotonic() - started)
            except Exception as error:  # shown on /health; the process stays up to say why
                log.exception("classifiers failed to load")
                state.error = f"{type(error).__name__}: {error}"
        yield

    app = FastAPI(title="ShopDesk classifier", lifespan=lifespan)

    @app.middleware("http")
    async def require_token(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if token and request.url.path != "/health":
            given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(given.encode(), token.encode()):
                return JSONResponse({"detail": "a valid token is required"}, status_code=401)
        return await call_next(request)

    def loaded() -> Classifier:
        if state.classifier is None:
            raise HTTPException(503, detail=state.error or "classifier is loading")
        return state.classifier

    def timed(started: float, what: str) -> None:
        elapsed = (time.monotonic() - started) * 1000
        state.latencies_ms = [*state.latencies_ms, elapsed][-100:]
        if elapsed > slow_ms:
            state.slow_calls += 1
            log.warning(
                "slow classifier call: %s took %.0f ms (limit %.0f)", what, elapsed, slow_ms
            )

    @app.get("/health")
    def health() -> dict[str, Any]:
        classifier = loaded()
        recent = sorted(state.latencies_ms)
        return {
            "status": "ok",
            "tasks": {
                task: {
                    "labels": len(model.artifact.labels),
                    "data_hash": model.artifact.data_hash,
                    "oos_threshold": model.artifact.oos_threshold,
                }
                for task, model in classifier.tasks.items()
            },
            "quantization": next(iter(classifier.tasks.values())).artifact.settings["quantization"],
            "kernel": classifier.kernel,
            "device": classifier.device,
            "vocabulary": state.vocabulary is not None,
            "slow_calls": state.slow_calls,
            "median_ms": round(recent[len(recent) // 2], 1) if recent else None,
        }

    @app.post("/model/parse", response_model=ParseResult)
    def model_parse(request: ParseRequest) -> ParseResult:
        classifier = loaded()
        started = time.monotonic()
        result = parse(classifier, [request.text], state.vocabulary)[0]
        timed(started, "parse")
        # The text is not logged: it may hold personal data.
        log.info(
            "parsed %d chars as %s (%.2f)%s",
            len(request.text),
            result.intent.name,
            result.intent.confidence,
            " out of scope" if result.out_of_scope else "",
        )
        return result

    @app.post("/classify", response_model=list[Classified])
    def classify(request: ClassifyRequest) -> list[Classified]:
        classifier = loaded()
        if request.task not in classifier.tasks:
            raise HTTPException(404, detail=f"task {request.task!r} is not loaded")
        if any(len(text) > MAX_TEXT_LENGTH for text in request.texts):
            raise HTTPException(
                422, detail=f"each text must be at most {MAX_TEXT_LENGTH} characters"
            )
        started = time.monotonic()
        predictions = classifier.predict(request.task, request.texts)
        timed(started, f"classify {request.task} x{len(request.texts)}")
        return [
            Classified(
                label=p.label,
                confidence=p.confidence,
                out_of_scope=p.out_of_scope,
                ranking=[Scored(name=n, confidence=c) for n, c in p.ranking[:RANKING_SIZE]],
            )
            for p in predictions
        ]

    return app
