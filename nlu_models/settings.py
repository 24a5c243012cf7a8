"""Where the classifiers' configuration comes from: the SHOPDESK_NLU_* variables (README's
settings table), read through core.settings like every other section.

The configuration itself is the dataclasses of nlu_models/config.py; this section only says
which variable overrides which field, so code and tests that build a `ClassifierSettings` by
hand never read the environment.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator

from core.settings import Section, Text, choice, number, settings, var, whole_number
from nlu_models.config import ClassifierSettings, DataCheckSettings, DPConfig, TrainingSettings

PositiveInt = Annotated[int, BeforeValidator(whole_number(1))]
AnyNumber = Annotated[float, BeforeValidator(number(float("-inf")))]


class NluSettings(Section):
    """SHOPDESK_NLU_*: unset fields keep `ClassifierSettings`' and `DataCheckSettings`'
    defaults."""

    base_model: Text | None = var("SHOPDESK_NLU_BASE_MODEL", None)
    quantization: Annotated[str, BeforeValidator(choice("8bit", "none"))] | None = var(
        "SHOPDESK_NLU_QUANTIZATION", None
    )
    device: Annotated[str, BeforeValidator(choice("auto", "cpu", "cuda"))] | None = var(
        "SHOPDESK_NLU_DEVICE", None
    )
    cpu_kernel: Annotated[str, BeforeValidator(choice("fbgemm", "bitsandbytes"))] | None = var(
        "SHOPDESK_NLU_CPU_KERNEL", None
    )
    data_dir: Path | None = var("SHOPDESK_NLU_DATA_DIR", None)
    model_root: Path | None = var("SHOPDESK_NLU_MODEL_ROOT", None)
    threads: PositiveInt | None = var("SHOPDESK_NLU_THREADS", None)
    epochs: PositiveInt | None = var("SHOPDESK_NLU_EPOCHS", None)
    seed: PositiveInt | None = var("SHOPDESK_NLU_SEED", None)
    batch_size: PositiveInt | None = var("SHOPDESK_NLU_BATCH_SIZE", None)
    dp_epsilon: AnyNumber | None = var("SHOPDESK_NLU_DP_EPSILON", None)
    dp_delta: AnyNumber | None = var("SHOPDESK_NLU_DP_DELTA", None)
    dp_max_grad_norm: AnyNumber | None = var("SHOPDESK_NLU_DP_MAX_GRAD_NORM", None)
    min_examples: PositiveInt = var("SHOPDESK_NLU_MIN_EXAMPLES", DataCheckSettings.min_examples)
    # A parse slower than this is logged with its timings (nlu_models/service.py).
    slow_ms: AnyNumber = var("SHOPDESK_NLU_SLOW_MS", 500.0)

    def classifier(self) -> ClassifierSettings:
        """The classifier's configuration with every variable that is set applied."""
        overrides: dict[str, Any] = {
            name: value
            for name, value in (
                ("base_model", self.base_model),
                ("quantization", self.quantization),
                ("device", self.device),
                ("cpu_kernel", self.cpu_kernel),
                ("intent_data", self.data_dir),
                ("model_root", self.model_root),
                ("serve_threads", self.threads),
            )
            if value is not None
        }
        training: dict[str, Any] = {
            name: value
            for name, value in (
                ("max_epochs", self.epochs),
                ("seed", self.seed),
                ("batch_size", self.batch_size),
            )
            if value is not None
        }
        if training:
            overrides["training"] = replace(TrainingSettings(), **training)
        if self.dp_epsilon is not None:
            dp: dict[str, Any] = {"target_epsilon": self.dp_epsilon}
            if self.dp_delta is not None:
                dp["delta"] = self.dp_delta
            if self.dp_max_grad_norm is not None:
                dp["max_grad_norm"] = self.dp_max_grad_norm
            overrides["dp"] = DPConfig(**dp)
        return ClassifierSettings(**overrides)

    def data_checks(self) -> DataCheckSettings:
        return DataCheckSettings(min_examples=self.min_examples)


def classifier_settings() -> ClassifierSettings:
    """This process's classifier configuration (SettingsError for a bad variable)."""
    return settings().section(NluSettings).classifier()


def data_check_settings() -> DataCheckSettings:
    """This process's training-data check thresholds (SHOPDESK_NLU_MIN_EXAMPLES)."""
    return settings().section(NluSettings).data_checks()
