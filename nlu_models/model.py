"""Loading the base transformer (8-bit or fp32) with a LoRA adapter, and predicting intents."""

from __future__ import annotations

import json
import logging
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from peft import PeftModel
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BitsAndBytesConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)
from transformers.utils import logging as hf_logging

from nlu_models.settings import ClassifierSettings

log = logging.getLogger(__name__)
ARTIFACT_FILE = "shopdesk_classifier.json"  # labels, data hash and settings beside the adapter
CLASSIFIER_HEAD = "classifier"  # BERT's head: kept out of quantization, trained in full

hf_logging.set_verbosity_error()
# bitsandbytes says once per layer call that inputs are cast to fp16: expected on CPU, noise.
logging.getLogger("bitsandbytes.autograd._functions").setLevel(logging.ERROR)
warnings.filterwarnings("ignore", message=".*MatMul8bitLt.*")


def device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def load_tokenizer(settings: ClassifierSettings) -> PreTrainedTokenizerBase:
    return AutoTokenizer.from_pretrained(settings.base_model)


def load_base_model(settings: ClassifierSettings, num_labels: int) -> PreTrainedModel:
    """The base with a fresh classification head; 8-bit linear layers unless turned off."""
    quantization = None
    if settings.quantization == "8bit":
        quantization = BitsAndBytesConfig(
            load_in_8bit=True, llm_int8_skip_modules=[CLASSIFIER_HEAD]
        )
    model = AutoModelForSequenceClassification.from_pretrained(
        settings.base_model,
        num_labels=num_labels,
        quantization_config=quantization,
        device_map=device(),
    )
    return model  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Prediction:
    intent: str
    confidence: float
    ranking: list[tuple[str, float]]


@dataclass(frozen=True)
class Artifact:
    """What `ARTIFACT_FILE` records about a trained adapter."""

    labels: list[str]
    data_hash: str
    settings: dict[str, Any]
    validation_accuracy: float | None

    @classmethod
    def read(cls, model_dir: Path) -> Artifact | None:
        path = model_dir / ARTIFACT_FILE
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**data)

    def write(self, model_dir: Path) -> None:
        (model_dir / ARTIFACT_FILE).write_text(
            json.dumps(self.__dict__, indent=2, sort_keys=True), encoding="utf-8"
        )


class IntentClassifier:
    """One base model with its adapter, loaded once per process; thread-safe predictions."""

    def __init__(
        self,
        model: torch.nn.Module,
        tokenizer: PreTrainedTokenizerBase,
        artifact: Artifact,
        max_length: int,
    ) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.artifact = artifact
        self.max_length = max_length
        self._lock = threading.Lock()

    @classmethod
    def load(cls, settings: ClassifierSettings) -> IntentClassifier:
        artifact = Artifact.read(settings.model_dir)
        if artifact is None:
            raise FileNotFoundError(
                f"no trained classifier in {settings.model_dir}: run `python -m nlu_models train`"
            )
        base = load_base_model(settings, num_labels=len(artifact.labels))
        model = PeftModel.from_pretrained(base, str(settings.model_dir))
        return cls(model, load_tokenizer(settings), artifact, settings.training.max_length)

    @property
    def labels(self) -> list[str]:
        return self.artifact.labels

    def predict(self, texts: list[str]) -> list[Prediction]:
        """Intent, confidence and the full ranking for each text, in one batch."""
        if not texts:
            return []
        batch = self.tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        ).to(device())
        with self._lock, torch.inference_mode():
            probabilities = torch.softmax(self.model(**batch).logits.float(), dim=-1).cpu()
        predictions = []
        for row in probabilities.tolist():
            ranking = sorted(zip(self.labels, row, strict=True), key=lambda p: -p[1])
            predictions.append(Prediction(ranking[0][0], ranking[0][1], ranking))
        return predictions
