"""`python -m launcher.privacy export|erase|retention|mask|compact`: the privacy tasks, run
by an admin beside (or without) the stack.

The tasks live in privacy/cli.py, but erasure and retention must also take deleted
corrections and conversations out of the learning loop's exports, and the learning loop is a
layer above privacy (docs/architecture.md). The launcher is above both, so this entry point
is where the two meet: it hands privacy the learning loop's forgetter. The learning loop is
imported only when an erasure or retention has something for it to forget.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from privacy.cli import main as run_privacy_task

PROG: Final = "python -m launcher.privacy"


def forget_training_data(
    removed: Sequence[str],
    kept: Sequence[str],
    conversations: Sequence[str],
    before: datetime | None,
) -> int:
    """The learning loop's `TrainingDataForgetter` (privacy/forgetting.py), loaded on use."""
    from learning.forget import training_data_forgetter

    return training_data_forgetter()(removed, kept, conversations, before)


def main(argv: list[str] | None = None) -> int:
    return run_privacy_task(argv, forget_training_data, PROG)


if __name__ == "__main__":
    sys.exit(main())
