"""What is recorded beside a trained adapter, so a run can be reproduced and staleness seen."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ARTIFACT_FILE = "shopdesk_classifier.json"


@dataclass(frozen=True)
class Artifact:
    task: str
    labels: list[str]
    data_hash: str  # of the training examples and the fingerprint of the settings
    settings: dict[str, Any]
    examples: int
    epochs_run: int
    best_epoch: int
    training_seconds: float
    # The label meaning "none of these" (an explicit out-of-scope class), if the data has one.
    oos_label: str | None = None
    # Below this top confidence a message is out of scope; tuned on the validation split.
    oos_threshold: float = 0.0
    validation: dict[str, Any] = field(default_factory=dict)  # metrics on the held-out split
    # DP-SGD's record (nlu_models/dp.py): epsilon spent, delta, clipping, noise, base precision.
    dp: dict[str, Any] | None = None

    @classmethod
    def read(cls, model_dir: Path) -> Artifact | None:
        path = model_dir / ARTIFACT_FILE
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        try:
            return cls(**data)
        except TypeError:
            return None  # written by an older version: treated as stale, retrained

    def write(self, model_dir: Path) -> None:
        data = asdict(self)
        if data["dp"] is None:
            del data["dp"]  # trained without DP: the file reads as before the option existed
        (model_dir / ARTIFACT_FILE).write_text(
            json.dumps(data, indent=2, sort_keys=True), encoding="utf-8"
        )
