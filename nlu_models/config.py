"""The classifiers' configuration: plain, typed dataclasses and nothing that runs.

Why apart from the runtime code (as peft keeps `LoraConfig` apart from its layers): the
encoder, the DP-SGD wrapper, the trainer and the service all read these, and none of them
may be imported just to name a setting (a config class in a runtime module made
`settings -> dp -> encoder -> settings` a cycle). Training settings decide the weights and go
into the adapter's fingerprint; serving settings (device, CPU int8 kernel) do not. Where the
values come from (SHOPDESK_NLU_* variables) is nlu_models/settings.py.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from catalog.embeddings import packaged_model_path as default_base_model
from core.paths import BOT_DIR, PROJECT_ROOT

TASKS: Final = ("intent", "category")
Quantization = Literal["8bit", "none"]
ClassWeighting = Literal["balanced", "none"]
CpuKernel = Literal["fbgemm", "bitsandbytes"]
Device = Literal["auto", "cpu", "cuda"]


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
class DPConfig:
    """DP-SGD options; `noise_multiplier`, when given, is used as is instead of `target_epsilon`.

    `delta` None means min(1e-5, 1/n) for n training examples (delta must stay well below 1/n).
    """

    target_epsilon: float | None = 8.0
    delta: float | None = None
    max_grad_norm: float = 1.0
    noise_multiplier: float | None = None

    def __post_init__(self) -> None:
        if self.noise_multiplier is None and self.target_epsilon is None:
            raise ValueError("differential privacy needs a target epsilon or a noise multiplier")
        if self.target_epsilon is not None and not (
            math.isfinite(self.target_epsilon) and self.target_epsilon > 0
        ):
            raise ValueError(f"DP epsilon must be a positive number (got {self.target_epsilon})")
        if self.delta is not None and not 0 < self.delta < 1:
            raise ValueError(f"DP delta must be between 0 and 1, exclusive (got {self.delta})")
        if not (math.isfinite(self.max_grad_norm) and self.max_grad_norm > 0):
            raise ValueError(f"DP max_grad_norm must be positive (got {self.max_grad_norm})")
        if self.noise_multiplier is not None and not (
            math.isfinite(self.noise_multiplier) and self.noise_multiplier > 0
        ):
            raise ValueError(f"DP noise_multiplier must be positive (got {self.noise_multiplier})")

    def delta_for(self, examples: int) -> float:
        return self.delta if self.delta is not None else min(1e-5, 1.0 / max(examples, 1))


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
    intent_data: Path = BOT_DIR / "data"
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


@dataclass(frozen=True)
class DataCheckSettings:
    """Thresholds of the training-data checks (nlu_models/data_checks.py); `min_examples`
    comes from SHOPDESK_NLU_MIN_EXAMPLES."""

    min_examples: int = 5  # per intent: fewer cannot be learned, nor split for validation
    near_duplicate_similarity: float = 0.9  # cosine of character 3–5-gram TF-IDF vectors
    folds: int = 5  # cross-validation folds for the out-of-fold probabilities
    seed: int = 13
    max_listed: int = 50  # per warning kind; the report still counts them all
