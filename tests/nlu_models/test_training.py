from dataclasses import replace

import torch

from nlu_models.data import Example, read_nlu_dir
from nlu_models.training import class_weights, length_bucketed_batches, train


def test_balanced_class_weights_favour_rare_labels() -> None:
    examples = [Example(str(i), "common") for i in range(9)] + [Example("x", "rare")]
    weights = class_weights(["common", "rare"], examples, "balanced")
    assert weights[1] / weights[0] == 9
    assert torch.equal(class_weights(["common", "rare"], examples, "none"), torch.ones(2))


def test_length_buckets_cover_every_example_once() -> None:
    lengths = [5, 1, 9, 3, 7, 2, 8]
    batches = list(length_bucketed_batches(lengths, 3, torch.Generator().manual_seed(1)))
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    again = list(length_bucketed_batches(lengths, 3, torch.Generator().manual_seed(1)))
    assert batches == again


def test_early_stopping_keeps_the_best_epoch_and_tunes_out_of_scope(
    trained_small, tmp_path
) -> None:
    settings = replace(
        trained_small,
        model_root=tmp_path / "models",
        training=replace(
            trained_small.training, max_epochs=12, patience=1, validation_fraction=0.25
        ),
    )
    artifact = train(settings, "intent", read_nlu_dir(settings.intent_data), progress=False)
    assert 1 <= artifact.best_epoch <= artifact.epochs_run <= 12
    if artifact.epochs_run < 12:
        assert artifact.epochs_run - artifact.best_epoch == 1  # stopped after `patience` epochs
    assert artifact.examples == 24  # 32 examples, a quarter held out
    assert artifact.oos_label == "out_of_scope"
    assert 0.0 <= artifact.oos_threshold < 1.0
    assert artifact.validation["examples"] == 8
    assert artifact.validation["accuracy"] >= 0.5
    assert artifact.validation["oos_recall"] is not None
