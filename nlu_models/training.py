"""LoRA training of one task's adapter and head on the (8-bit) base.

A fixed seed, a progress bar, class weighting, a linear learning-rate schedule, early
stopping on the validation macro-F1 (the best epoch's weights are kept), an out-of-scope
threshold tuned on the same validation data, and an atomic save.
"""

from __future__ import annotations

import logging
import random
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from tqdm import tqdm

from nlu_models.artifact import Artifact
from nlu_models.classifier import Classifier, TaskModel
from nlu_models.config import ClassifierSettings
from nlu_models.data import Example, data_hash, stratified_split
from nlu_models.dp import PrivateTraining
from nlu_models.encoder import Head, load_encoder, load_tokenizer, mean_pool, resolve_device
from nlu_models.evaluation import evaluate
from nlu_models.oos import find_oos_label, tune_threshold

log = logging.getLogger(__name__)
WARMUP_FRACTION = 0.06
BUCKET_BATCHES = 50  # batches drawn together and sorted by length: less padding, same mix


@dataclass(frozen=True)
class TrainingResult:
    trained: bool  # False when the saved adapter was current and was reused
    artifact: Artifact
    seconds: float


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def class_weights(labels: list[str], examples: Sequence[Example], mode: str) -> torch.Tensor:
    """'balanced': each class weighs total / (classes × its count), so rare intents count."""
    if mode == "none":
        return torch.ones(len(labels))
    counts = Counter(e.label for e in examples)
    total = len(examples)
    return torch.tensor([total / (len(labels) * max(counts[label], 1)) for label in labels])


def length_bucketed_batches(
    lengths: list[int], batch_size: int, generator: torch.Generator
) -> Iterator[list[int]]:
    """Shuffled batches of indices; each batch holds texts of similar length."""
    order = torch.randperm(len(lengths), generator=generator).tolist()
    chunk = batch_size * BUCKET_BATCHES
    batches: list[list[int]] = []
    for start in range(0, len(order), chunk):
        group = sorted(order[start : start + chunk], key=lambda i: lengths[i])
        batches += [group[i : i + batch_size] for i in range(0, len(group), batch_size)]
    for position in torch.randperm(len(batches), generator=generator).tolist():
        yield batches[position]


def split_examples(
    settings: ClassifierSettings,
    task: str,
    examples: list[Example],
    validation: list[Example] | None = None,
) -> tuple[list[Example], list[Example]]:
    """(training, validation) examples: `validation` as given, else the task's own rule.

    The intent task holds out part of the shop's own examples only and always trains on the
    learning loop's corrections (`nlu_models.tasks.intent_split`); other tasks hold out a
    stratified `validation_fraction` of all their examples.
    """
    if validation is not None:
        return examples, validation
    if task == "intent":
        from nlu_models.tasks import intent_split  # where the intent data lives

        return intent_split(settings, examples)
    config = settings.training
    return stratified_split(examples, config.validation_fraction, config.seed)


def split_hash(
    settings: ClassifierSettings, train_set: list[Example], held_out: list[Example]
) -> str:
    """The data hash of an adapter trained on `train_set`, validated on `held_out`.

    When the split is the plain stratified split of all the examples (no corrections), the
    hash is the one adapters always had, so existing adapters stay current; any other split
    adds the validation examples, since moving an example between the two changes the weights.
    """
    examples = train_set + held_out
    fingerprint = settings.fingerprint()
    config = settings.training
    if stratified_split(examples, config.validation_fraction, config.seed) == (train_set, held_out):
        return data_hash(examples, fingerprint)
    validation = sorted([e.label, e.text] for e in held_out)
    return data_hash(examples, {**fingerprint, "validation": validation})


def train(
    settings: ClassifierSettings,
    task: str,
    examples: list[Example],
    validation: list[Example] | None = None,
    progress: bool = True,
) -> Artifact:
    """Train `task`'s adapter and head and save them into `settings.model_dir(task)`.

    Without `validation`, the task's split (`split_examples`) decides what is held out.
    """
    if not examples:
        raise ValueError(f"no training examples for the {task} task")
    started = time.monotonic()
    config = settings.training
    seed_everything(config.seed)
    labels = sorted({e.label for e in examples} | {e.label for e in validation or []})
    if len(labels) < 2:
        raise ValueError(f"the {task} task needs at least two labels, found {labels}")
    index = {label: i for i, label in enumerate(labels)}
    fingerprint = settings.fingerprint()
    train_set, held_out = split_examples(settings, task, examples, validation)
    hash_ = split_hash(settings, train_set, held_out)

    device = resolve_device(settings.device)
    tokenizer = load_tokenizer(settings)

    def build(base: ClassifierSettings) -> tuple[PeftModel, Head, torch.optim.Optimizer]:
        encoder = load_encoder(base, device)
        model = get_peft_model(
            encoder,
            LoraConfig(
                r=settings.lora.rank,
                lora_alpha=settings.lora.alpha,
                lora_dropout=settings.lora.dropout,
                target_modules=list(settings.lora.target_modules),
            ),
        )
        head = Head(encoder.config.hidden_size, len(labels)).to(device)
        parameters = [p for p in model.parameters() if p.requires_grad] + list(head.parameters())
        return model, head, torch.optim.AdamW(parameters, lr=config.learning_rate)

    model, head, optimizer = build(settings)
    private: PrivateTraining | None = None
    if settings.dp is not None:  # DP-SGD: Poisson batches, clipped per-example grads, noise
        from nlu_models.dp import make_private

        built = (model, head, optimizer)
        private = make_private(
            settings, settings.dp, build, built, tokenizer, len(train_set), device
        )
        model, head, optimizer = private.model, private.head, private.optimizer
    steps_per_epoch = -(-len(train_set) // config.batch_size)
    total_steps = config.max_epochs * steps_per_epoch
    warmup = max(1, int(total_steps * WARMUP_FRACTION))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: min(
            (step + 1) / warmup,
            max(0.0, (total_steps - step) / max(1, total_steps - warmup)),  # 1 step: no decay
        ),
    )
    loss_fn = torch.nn.CrossEntropyLoss(
        weight=class_weights(labels, train_set, config.class_weighting).to(device)
    )
    encoded = tokenizer([e.text for e in train_set], truncation=True, max_length=config.max_length)[
        "input_ids"
    ]
    lengths = [len(ids) for ids in encoded]
    generator = torch.Generator().manual_seed(config.seed)

    provisional = Artifact(
        task=task, labels=labels, data_hash=hash_, settings=fingerprint,
        examples=len(train_set), epochs_run=0, best_epoch=0, training_seconds=0.0,
    )  # fmt: skip
    scorer = Classifier(model, tokenizer, {task: TaskModel("default", head, provisional)}, device)
    best_f1, best_epoch, best_state = -1.0, 0, _trainable_state(model, head)
    epochs_run = 0
    with tqdm(
        total=total_steps, desc=f"training {task} adapter", unit="step", disable=not progress
    ) as bar:
        for epoch in range(1, config.max_epochs + 1):
            model.train()
            head.train()
            batches = (
                private.batches()
                if private is not None
                else length_bucketed_batches(lengths, config.batch_size, generator)
            )
            for batch_indices in batches:
                batch = [train_set[i] for i in batch_indices]
                inputs = tokenizer(
                    [e.text for e in batch],
                    padding=True,
                    truncation=True,
                    max_length=config.max_length,
                    return_tensors="pt",
                ).to(device)
                hidden = model(**inputs).last_hidden_state
                logits = head(mean_pool(hidden, inputs["attention_mask"]))
                targets = torch.tensor([index[e.label] for e in batch], device=device)
                if private is None:
                    loss = loss_fn(logits, targets)
                else:  # per-example mean, no class weights (see dp.py)
                    loss = private.loss(logits, targets)
                loss.backward()
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
                bar.set_postfix(epoch=epoch, loss=f"{loss.item():.3f}")
                bar.update()
            epochs_run = epoch
            if not held_out:
                best_epoch, best_state = epoch, _trainable_state(model, head)
                continue
            model.eval()
            head.eval()
            predictions = scorer.predict(task, [e.text for e in held_out])
            f1 = evaluate([e.label for e in held_out], [p.label for p in predictions]).macro_f1
            bar.write(f"{task}: epoch {epoch} validation macro-F1 {f1:.4f}")
            if f1 > best_f1:
                best_f1, best_epoch, best_state = f1, epoch, _trainable_state(model, head)
            elif epoch - best_epoch >= config.patience:
                bar.write(f"{task}: no better for {config.patience} epochs, stopping early")
                break

    _restore_state(model, head, best_state)
    model.eval()
    head.eval()
    artifact = replace(provisional, epochs_run=epochs_run, best_epoch=best_epoch)
    if private is not None:  # the budget spent by every step run, kept epoch or not
        private.close()
        artifact = replace(artifact, dp=private.record())
        log.info("%s: DP-SGD spent epsilon %.3f (delta %.2g)", task, *private.spent())
    artifact = _with_validation(scorer, task, artifact, held_out, config.oos_max_in_scope_loss)
    artifact = replace(artifact, training_seconds=round(time.monotonic() - started, 1))
    _save_atomically(model, head, artifact, settings.model_dir(task))
    return artifact


def _trainable_state(model: torch.nn.Module, head: Head) -> dict[str, torch.Tensor]:
    state = {
        f"model.{n}": p.detach().clone() for n, p in model.named_parameters() if p.requires_grad
    }
    state |= {f"head.{n}": p.detach().clone() for n, p in head.named_parameters()}
    return state


def _restore_state(model: torch.nn.Module, head: Head, state: dict[str, torch.Tensor]) -> None:
    with torch.no_grad():
        for prefix, module in (("model.", model), ("head.", head)):
            for name, parameter in module.named_parameters():
                if prefix + name in state:
                    parameter.copy_(state[prefix + name])


def _with_validation(
    scorer: Classifier,
    task: str,
    artifact: Artifact,
    held_out: list[Example],
    max_in_scope_loss: float,
) -> Artifact:
    """The artifact with its out-of-scope threshold and validation metrics filled in."""
    oos_label = find_oos_label(artifact.labels)
    artifact = replace(artifact, oos_label=oos_label)
    scorer.tasks[task] = replace(scorer.tasks[task], artifact=artifact)
    if not held_out:
        return artifact
    gold = [e.label for e in held_out]
    raw = scorer.predict(task, [e.text for e in held_out])
    threshold = 0.0
    if oos_label is not None:
        threshold = tune_threshold(
            [p.ranking[0][0] for p in raw], [p.confidence for p in raw], gold, oos_label,
            max_in_scope_loss,
        )  # fmt: skip
    artifact = replace(artifact, oos_threshold=threshold)
    scorer.tasks[task] = replace(scorer.tasks[task], artifact=artifact)
    final = scorer.predict(task, [e.text for e in held_out])
    report = evaluate(gold, [p.label for p in final], oos_label)
    validation = {
        "examples": report.examples,
        "accuracy": report.accuracy,
        "macro_f1": report.macro_f1,
        "in_scope_accuracy": report.in_scope_accuracy,
        "oos_recall": report.oos_recall,
    }
    return replace(artifact, validation=validation)


def _save_atomically(model: PeftModel, head: Head, artifact: Artifact, model_dir: Path) -> None:
    """Write into a sibling folder, then swap it in: a crash never leaves half an adapter."""
    model_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{model_dir.name}-", dir=model_dir.parent))
    model.save_pretrained(str(staging), safe_serialization=True)
    head.save(staging)
    artifact.write(staging)
    if model_dir.exists():
        shutil.rmtree(model_dir)
    staging.rename(model_dir)


def ensure_trained(
    settings: ClassifierSettings, task: str, examples: list[Example], progress: bool = True
) -> TrainingResult:
    """Reuse the saved adapter if it was trained on these examples and settings, else train."""
    started = time.monotonic()
    wanted = split_hash(settings, *split_examples(settings, task, examples))
    saved = Artifact.read(settings.model_dir(task))
    if saved is not None and saved.data_hash == wanted:
        return TrainingResult(False, saved, time.monotonic() - started)
    if saved is not None:
        log.info("%s: training data or settings changed since the saved adapter: retraining", task)
    if task == "intent":  # refuse broken data before the base model is even loaded
        from nlu_models.data_checks import refuse_broken_data

        refuse_broken_data(examples)
    artifact = train(settings, task, examples, progress=progress)
    return TrainingResult(True, artifact, time.monotonic() - started)
