"""LoRA training of the intent adapter on the (8-bit) base, with progress and a fixed seed."""

from __future__ import annotations

import logging
import random
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from peft import LoraConfig, TaskType, get_peft_model
from tqdm import tqdm

from nlu_models.data import Example, data_hash, read_nlu_dir, stratified_split
from nlu_models.model import (
    CLASSIFIER_HEAD,
    Artifact,
    IntentClassifier,
    device,
    load_base_model,
    load_tokenizer,
)
from nlu_models.settings import ClassifierSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingResult:
    trained: bool  # False when the saved adapter was current and was reused
    artifact: Artifact
    seconds: float


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def train(settings: ClassifierSettings, examples: list[Example], progress: bool = True) -> Artifact:
    """Train an adapter and save it (safetensors) atomically into `settings.model_dir`."""
    if not examples:
        raise ValueError(f"no intent examples found in {settings.data_dir}")
    config = settings.training
    _seed_everything(config.seed)
    labels = sorted({e.intent for e in examples})
    index = {label: i for i, label in enumerate(labels)}
    train_set, held_out = stratified_split(examples, config.validation_fraction, config.seed)

    tokenizer = load_tokenizer(settings)
    model = get_peft_model(
        load_base_model(settings, num_labels=len(labels)),
        LoraConfig(
            task_type=TaskType.SEQ_CLS,
            r=settings.lora.rank,
            lora_alpha=settings.lora.alpha,
            lora_dropout=settings.lora.dropout,
            target_modules=list(settings.lora.target_modules),
            modules_to_save=[CLASSIFIER_HEAD],
        ),
    )
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=config.learning_rate
    )
    generator = torch.Generator().manual_seed(config.seed)
    steps_per_epoch = -(-len(train_set) // config.batch_size)
    model.train()
    with tqdm(
        total=config.epochs * steps_per_epoch,
        desc="training intent adapter",
        unit="step",
        disable=not progress,
    ) as bar:
        for epoch in range(config.epochs):
            order = torch.randperm(len(train_set), generator=generator).tolist()
            for start in range(0, len(order), config.batch_size):
                batch = [train_set[i] for i in order[start : start + config.batch_size]]
                inputs = tokenizer(
                    [e.text for e in batch],
                    padding=True,
                    truncation=True,
                    max_length=config.max_length,
                    return_tensors="pt",
                ).to(device())
                targets = torch.tensor([index[e.intent] for e in batch], device=device())
                loss = model(**inputs, labels=targets).loss
                loss.backward()
                optimizer.step()
                optimizer.zero_grad()
                bar.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.3f}")
                bar.update()

    fingerprint = settings.fingerprint()
    artifact = Artifact(
        labels=labels,
        data_hash=data_hash(examples, fingerprint),
        settings=fingerprint,
        validation_accuracy=None,
    )
    if held_out:
        classifier = IntentClassifier(model, tokenizer, artifact, config.max_length)
        predictions = classifier.predict([e.text for e in held_out])
        correct = sum(p.intent == e.intent for p, e in zip(predictions, held_out, strict=True))
        artifact = replace(artifact, validation_accuracy=round(correct / len(held_out), 4))
    _save_atomically(model, artifact, settings.model_dir)
    return artifact


def _save_atomically(model: torch.nn.Module, artifact: Artifact, model_dir: Path) -> None:
    """Write into a sibling folder, then swap it in: a crash never leaves half an adapter."""
    model_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".training-", dir=model_dir.parent))
    model.save_pretrained(str(staging), safe_serialization=True)  # type: ignore[operator]
    artifact.write(staging)
    if model_dir.exists():
        shutil.rmtree(model_dir)
    staging.rename(model_dir)


def ensure_trained(settings: ClassifierSettings, progress: bool = True) -> TrainingResult:
    """Reuse the saved adapter if it was trained on this data and these settings, else train."""
    started = time.monotonic()
    examples = read_nlu_dir(settings.data_dir)
    wanted = data_hash(examples, settings.fingerprint())
    saved = Artifact.read(settings.model_dir)
    if saved is not None and saved.data_hash == wanted:
        return TrainingResult(False, saved, time.monotonic() - started)
    if saved is not None:
        log.info("training data or settings changed since the saved adapter: retraining")
    artifact = train(settings, examples, progress=progress)
    return TrainingResult(True, artifact, time.monotonic() - started)
