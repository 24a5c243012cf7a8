"""The classifier over HTTP, speaking Rasa's `/model/parse` contract, with a health check.

Loaded once per process. While the model is not loaded the service answers 503, so the
launcher waits for it and Rasa's client turns the failure into a polite fallback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from nlu_models.entities import extract_entities
from nlu_models.model import IntentClassifier
from nlu_models.settings import ClassifierSettings

log = logging.getLogger("nlu_models.service")
MAX_TEXT_LENGTH = 2000
RANKING_SIZE = 10


class ParseRequest(BaseModel):
    text: str = Field(max_length=MAX_TEXT_LENGTH)
    message_id: str | None = None


class Intent(BaseModel):
    name: str
    confidence: float


class ParseResult(BaseModel):
    text: str
    intent: Intent
    intent_ranking: list[Intent]
    entities: list[dict[str, Any]]


def parse(classifier: IntentClassifier, texts: list[str]) -> list[ParseResult]:
    """The batch form of `/model/parse`: one forward pass for all texts."""
    results = []
    for text, prediction in zip(texts, classifier.predict(texts), strict=True):
        results.append(
            ParseResult(
                text=text,
                intent=Intent(name=prediction.intent, confidence=prediction.confidence),
                intent_ranking=[
                    Intent(name=n, confidence=c) for n, c in prediction.ranking[:RANKING_SIZE]
                ],
                entities=[dict(e) for e in extract_entities(text)],
            )
        )
    return results


def create_app(settings: ClassifierSettings, classifier: IntentClassifier | None = None) -> FastAPI:
    state: dict[str, Any] = {"classifier": classifier, "error": None}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if state["classifier"] is None:
            started = time.monotonic()
            try:
                state["classifier"] = await run_in_threadpool(IntentClassifier.load, settings)
                log.info("classifier loaded in %.1fs", time.monotonic() - started)
            except Exception as error:  # shown on /health; the process stays up to say why
                log.exception("classifier failed to load")
                state["error"] = f"{type(error).__name__}: {error}"
        yield

    app = FastAPI(title="ShopDesk classifier", lifespan=lifespan)

    def loaded() -> IntentClassifier:
        if state["classifier"] is None:
            raise HTTPException(503, detail=state["error"] or "classifier is loading")
        found: IntentClassifier = state["classifier"]
        return found

    @app.get("/health")
    def health() -> dict[str, Any]:
        classifier = loaded()
        return {
            "status": "ok",
            "intents": len(classifier.labels),
            "data_hash": classifier.artifact.data_hash,
            "quantization": classifier.artifact.settings.get("quantization"),
        }

    @app.post("/model/parse", response_model=ParseResult)
    def model_parse(request: ParseRequest) -> ParseResult:
        classifier = loaded()
        started = time.monotonic()
        result = parse(classifier, [request.text])[0]
        log.info(
            "parsed %d chars as %s (%.2f) in %.0f ms",
            len(request.text),
            result.intent.name,
            result.intent.confidence,
            (time.monotonic() - started) * 1000,
        )
        return result

    return app
