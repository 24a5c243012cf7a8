"""Typed settings of the classifiers; every field a shop would change can come from the environment.

Training settings decide the weights and go into the adapter's fingerprint; serving settings
(device, CPU int8 kernel) do not.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from catalog.embeddings import packaged_model_path as default_base_model
from nlu_models.dp import DPConfig

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TASKS = ("intent", "category")
Quantization = Literal["8bit", "none"]
ClassWeighting = Literal["balanced", "none"]
CpuKernel = Literal["fbgemm", "bitsandbytes"]


@dataclass(frozen=True)
class LoraSettings:
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.1
    # Every linear layer of the encoder: on MiniLM, query+value alone left short messages
    # ("hi", "bye") near 0.5 confidence; all layers gave 0.98 (notes, issue 2).
    target_modules: tuple[str, ...] = ("query", "key", "value", "dense")


@dataclass(frozen=True)
class TrainingSettings:
    max_epochs: int = 10
    learning_rate: float = 1e-3
    batch_size: int = 32
    max_length: int = 64
    seed: int = 13
    # Held out (stratified) for early stopping and the out-of-scope threshold; 0 trains on all
    # and runs `max_epochs`.
    validation_fraction: float = 0.1
    patience: int = 4  # epochs without a better validation macro-F1 before stopping
    class_weighting: ClassWeighting = "balanced"
    # The out-of-scope threshold may cost at most this much in-scope validation accuracy.
    oos_max_in_scope_loss: float = 0.01


@dataclass(frozen=True)
class ClassifierSettings:
    """Where the base model, the data and the adapters are, and how the base is loaded.

    `quantization` is "8bit" (bitsandbytes LLM.int8, the design's default) or "none" (fp32),
    a switch so both paths can be compared on the same data. `cpu_kernel` picks how an 8-bit
    model runs on a CPU: "fbgemm" (PyTorch's int8 GEMM on the same int8 weights, fast) or
    "bitsandbytes" (its own CPU path, slower); on a GPU bitsandbytes always runs.
    """

    base_model: str = field(default_factory=default_base_model)
    quantization: Quantization = "8bit"
    device: str = "auto"  # "auto" takes CUDA when present
    cpu_kernel: CpuKernel = "fbgemm"
    intent_data: Path = PROJECT_ROOT / "bot" / "data"
    model_root: Path = PROJECT_ROOT / "models" / "nlu"
    lora: LoraSettings = LoraSettings()
    training: TrainingSettings = TrainingSettings()
    dp: DPConfig | None = None  # DP-SGD (nlu_models/dp.py) when set; off by default
    # Threads per forward pass when serving. One message is a tiny matrix product: a second
    # thread more than doubled the CPU time per parse (44.5 against 19.8 ms on 2 cores) for no
    # gain in latency; concurrent requests use the other cores (docs/performance.md).
    serve_threads: int = 1

    def model_dir(self, task: str) -> Path:
        return self.model_root / task

    @classmethod
    def from_env(cls) -> ClassifierSettings:
        """SHOPDESK_NLU_* variables; see the README's settings table."""
        env = os.environ
        overrides: dict[str, Any] = {}
        if value := env.get("SHOPDESK_NLU_BASE_MODEL"):
            overrides["base_model"] = value
        if value := env.get("SHOPDESK_NLU_QUANTIZATION"):
            overrides["quantization"] = _choice("SHOPDESK_NLU_QUANTIZATION", value, "8bit", "none")
        if value := env.get("SHOPDESK_NLU_DEVICE"):
            overrides["device"] = _choice("SHOPDESK_NLU_DEVICE", value, "auto", "cpu", "cuda")
        if value := env.get("SHOPDESK_NLU_CPU_KERNEL"):
            overrides["cpu_kernel"] = _choice(
                "SHOPDESK_NLU_CPU_KERNEL", value, "fbgemm", "bitsandbytes"
            )
        if value := env.get("SHOPDESK_NLU_DATA_DIR"):
            overrides["intent_data"] = Path(value)
        if value := env.get("SHOPDESK_NLU_MODEL_ROOT"):
            overrides["model_root"] = Path(value)
        if value := env.get("SHOPDESK_NLU_THREADS"):
            overrides["serve_threads"] = _positive_int("SHOPDESK_NLU_THREADS", value)
        training: dict[str, Any] = {}
        for name, key in (
            ("SHOPDESK_NLU_EPOCHS", "max_epochs"),
            ("SHOPDESK_NLU_SEED", "seed"),
            ("SHOPDESK_NLU_BATCH_SIZE", "batch_size"),
        ):
            if value := env.get(name):
                training[key] = _positive_int(name, value)
        if training:
            overrides["training"] = replace(TrainingSettings(), **training)
        if value := env.get("SHOPDESK_NLU_DP_EPSILON"):
            dp: dict[str, Any] = {"target_epsilon": _number("SHOPDESK_NLU_DP_EPSILON", value)}
            if value := env.get("SHOPDESK_NLU_DP_DELTA"):
                dp["delta"] = _number("SHOPDESK_NLU_DP_DELTA", value)
            if value := env.get("SHOPDESK_NLU_DP_MAX_GRAD_NORM"):
                dp["max_grad_norm"] = _number("SHOPDESK_NLU_DP_MAX_GRAD_NORM", value)
            overrides["dp"] = DPConfig(**dp)
        return cls(**overrides)

    def fingerprint(self) -> dict[str, Any]:
        """What decides the trained weights besides the data: stored beside the adapter.

        In JSON form (lists, not tuples) so it compares equal after a round trip. `dp` only
        when set, so adapters trained without it keep their hash.
        """
        fingerprint: dict[str, Any] = {
            "base_model": Path(self.base_model).name,
            "quantization": self.quantization,
            "lora": asdict(self.lora),
            "training": asdict(self.training),
        }
        if self.dp is not None:
            fingerprint["dp"] = asdict(self.dp)
        normalised: dict[str, Any] = json.loads(json.dumps(fingerprint))
        return normalised


def _choice(name: str, value: str, *allowed: str) -> Any:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)} (got {value!r})")
    return value


def _number(name: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number (got {value!r})") from None


def _positive_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise ValueError(f"{name} must be a positive whole number (got {value!r})")
    return number
