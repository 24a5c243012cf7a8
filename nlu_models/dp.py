"""Differentially private training (DP-SGD, Opacus) for data drawn from conversations.

Why: the intent data can hold shoppers' own words, and a trained adapter can leak the examples
it saw. DP-SGD bounds that for every single example: each example's gradient is clipped to
`max_grad_norm`, Gaussian noise is added to every step's sum, and batches are Poisson-sampled,
so the RDP accountant's (epsilon, delta) holds for the training split.

Only the trainable parameters get per-sample gradients: the LoRA adapters and the head. The
frozen base, 8-bit or fp32, only passes gradients through, which Opacus' hooks on the LoRA and
head `Linear` layers do not mind; a probe on a made-up batch checks this before any data is
touched, and if per-sample gradients cannot be computed through the 8-bit base, training falls
back to the fp32 base and says so (log line and artifact).

Not covered by epsilon: the validation split (it picks the best epoch and tunes the
out-of-scope threshold; train with `validation_fraction=0` for a fully private run), and the
label set, taken as public. Class weights are off under DP: weights computed from the class
counts would make one example move every other example's gradient.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from core.extras import Extra, missing_extra
from nlu_models.config import ClassifierSettings, DPConfig

if TYPE_CHECKING:  # torch and opacus load only when DP training starts
    import torch
    from opacus import PrivacyEngine
    from opacus.optimizers import DPOptimizer
    from peft import PeftModel
    from transformers import PreTrainedTokenizerBase

    from nlu_models.encoder import Head

    Build = Callable[[ClassifierSettings], tuple[PeftModel, Head, torch.optim.Optimizer]]

log = logging.getLogger(__name__)
ACCOUNTANT = "rdp"
PROBE_TEXTS = ("hello there", "where is my parcel today", "hi")  # made up: no training data


@dataclass
class PrivateTraining:
    """What the training loop uses instead of its own batches, loss and optimizer."""

    model: PeftModel
    head: Head
    optimizer: DPOptimizer
    engine: PrivacyEngine
    loader: torch.utils.data.DataLoader[Any]
    config: DPConfig
    delta: float
    precision: str  # the base the adapter was trained on: "8bit" or "fp32 (...why)"
    _wrapped: Any

    def batches(self) -> Iterator[list[int]]:
        """One epoch of Poisson-sampled batches of indices; an empty draw is a noise-only step."""
        for (indices,) in self.loader:
            if len(indices) == 0:
                self._noise_only_step()
                continue
            yield indices.tolist()

    def loss(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean of the per-example losses (Opacus' "mean" reduction), no class weights."""
        from torch.nn.functional import cross_entropy

        return cross_entropy(logits, targets)

    def spent(self) -> tuple[float, float]:
        """(epsilon, delta) spent by the steps taken so far."""
        return float(self.engine.get_epsilon(self.delta)), self.delta

    def record(self) -> dict[str, Any]:
        """The artifact's `dp` entry."""
        return {
            "epsilon_spent": round(self.spent()[0], 4),
            "target_epsilon": self.config.target_epsilon,
            "delta": self.delta,
            "max_grad_norm": self.config.max_grad_norm,
            "noise_multiplier": round(float(self.optimizer.noise_multiplier), 4),
            "accountant": ACCOUNTANT,
            "steps": sum(steps for _, _, steps in self.engine.accountant.history),
            "base_precision": self.precision,
        }

    def close(self) -> None:
        """Remove Opacus' hooks: the model is then served and saved like any other."""
        self._wrapped._close()

    def _noise_only_step(self) -> None:
        import torch

        for parameter in self.optimizer.params:
            parameter.grad_sample = torch.zeros(0, *parameter.shape, device=parameter.device)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)


def make_private(
    settings: ClassifierSettings,
    config: DPConfig,
    build: Build,
    built: tuple[PeftModel, Head, torch.optim.Optimizer],
    tokenizer: PreTrainedTokenizerBase,
    examples: int,
    device: str,
) -> PrivateTraining:
    """Wrap the trainable parameters for DP-SGD; fall back to the fp32 base if 8-bit fails."""
    model, head, optimizer = built
    precision = "8bit" if settings.quantization == "8bit" else "fp32"
    private = _wrap(settings, config, model, head, optimizer, examples, precision)
    problem = _probe(private, tokenizer, device)
    if problem is not None and settings.quantization == "8bit":
        private.close()
        log.warning(
            "DP-SGD: Opacus cannot compute per-sample gradients through the 8-bit base (%s); "
            "training on the fp32 base instead",
            problem,
        )
        model, head, optimizer = build(replace(settings, quantization="none"))
        precision = f"fp32 (8-bit base unsupported by Opacus: {problem})"
        private = _wrap(settings, config, model, head, optimizer, examples, precision)
        problem = _probe(private, tokenizer, device)
    if problem is not None:
        raise RuntimeError(f"DP-SGD: Opacus cannot compute per-sample gradients: {problem}")
    log.info(
        "DP-SGD on the %s base: noise multiplier %.3f, max grad norm %s, delta %.2g, %s examples",
        precision, private.optimizer.noise_multiplier, config.max_grad_norm, private.delta,
        examples,
    )  # fmt: skip
    return private


def _wrap(
    settings: ClassifierSettings,
    config: DPConfig,
    model: PeftModel,
    head: Head,
    optimizer: torch.optim.Optimizer,
    examples: int,
    precision: str,
) -> PrivateTraining:
    import torch

    with missing_extra(Extra.DP, "Training with --dp"):
        from opacus import PrivacyEngine

    class Trainable(torch.nn.Module):
        """The adapter model and the head as one module: one GradSampleModule covers both."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model
            self.head = head

    # The first LoRA layer's input (the frozen embeddings) needs no gradient; Opacus reads
    # the gradient of its output, which is what this warning is about: expected, noise.
    warnings.filterwarnings("ignore", message="Full backward hook is firing when gradients")
    training = settings.training
    indices = torch.utils.data.TensorDataset(torch.arange(examples))
    loader = torch.utils.data.DataLoader(
        indices,
        batch_size=training.batch_size,
        generator=torch.Generator().manual_seed(training.seed),  # the Poisson draws
    )
    delta = config.delta_for(examples)
    common: dict[str, Any] = {
        "module": Trainable(),
        "optimizer": optimizer,
        "data_loader": loader,
        "max_grad_norm": config.max_grad_norm,
        "poisson_sampling": True,
        "loss_reduction": "mean",
        # Seeded noise makes runs reproducible; Opacus' secure_mode (torchcsprng) would not be.
        "noise_generator": torch.Generator().manual_seed(training.seed + 1),
    }
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Ss]ecure RNG.*")
        warnings.filterwarnings("ignore", message=".*Optimal order.*")
        engine = PrivacyEngine(accountant=ACCOUNTANT)
        if config.noise_multiplier is not None:
            wrapped, dp_optimizer, dp_loader = engine.make_private(
                noise_multiplier=config.noise_multiplier, **common
            )
        else:
            assert config.target_epsilon is not None  # checked by DPConfig
            wrapped, dp_optimizer, dp_loader = engine.make_private_with_epsilon(
                target_epsilon=config.target_epsilon,
                target_delta=delta,
                epochs=training.max_epochs,
                **common,
            )
    return PrivateTraining(
        model, head, dp_optimizer, engine, dp_loader, config, delta, precision, wrapped
    )


def _probe(private: PrivateTraining, tokenizer: PreTrainedTokenizerBase, device: str) -> str | None:
    """Why per-sample gradients fail on a made-up batch, or None; no step, nothing spent."""
    import torch

    from nlu_models.encoder import mean_pool

    parameters = list(private.optimizer.params)
    try:
        with torch.random.fork_rng(devices=[]):  # dropout here must not shift the seeded run
            private.model.train()
            private.head.train()
            inputs = tokenizer(list(PROBE_TEXTS), padding=True, return_tensors="pt").to(device)
            hidden = private.model(**inputs).last_hidden_state
            logits = private.head(mean_pool(hidden, inputs["attention_mask"]))
            targets = torch.zeros(len(PROBE_TEXTS), dtype=torch.long, device=device)
            loss: Any = private.loss(logits, targets)  # Tensor.backward is untyped
            loss.backward()
        missing = [
            p for p in parameters
            if getattr(p, "grad_sample", None) is None
            or p.grad_sample.shape[0] != len(PROBE_TEXTS)
        ]  # fmt: skip
        if missing:
            return f"{len(missing)} of {len(parameters)} trainable tensors got no per-sample grads"
        return None
    except Exception as error:  # any failure inside Opacus or bitsandbytes means "unsupported"
        return f"{type(error).__name__}: {error}"
    finally:
        private.optimizer.zero_grad(set_to_none=True)
