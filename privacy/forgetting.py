"""The training data copied out of the shop's rows forgets them too, without privacy knowing
where it lives.

Erasure and retention delete agents' corrections and whole conversations; the learning loop
has copied those into its exports (training examples, test stories). The learning loop is a
layer above privacy (docs/architecture.md), so privacy cannot import it: erasure and
retention take a `TrainingDataForgetter` instead, and the callers above (the web server's
housekeeping, `python -m launcher.privacy`) pass the learning loop's
(`learning.forget.training_data_forgetter`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import NluCorrection

log = logging.getLogger(__name__)


class TrainingDataForgetter(Protocol):
    """Takes out of the training data what came from the `removed` corrections' texts (unless
    one of the `kept` texts gives the same example), the test stories of `conversations`,
    and those of conversations started before `before`; how many examples and stories went.
    OSError or ValueError when a file cannot be rewritten."""

    def __call__(
        self,
        removed: Sequence[str],
        kept: Sequence[str],
        conversations: Sequence[str],
        before: datetime | None,
    ) -> int: ...


def forget_training(
    session: Session,
    forgetter: TrainingDataForgetter,
    removed: Sequence[str],
    conversations: Sequence[str] = (),
    before: datetime | None = None,
) -> int:
    """Take deleted corrections and conversations out of the training data; how many examples
    and stories went. A failure is logged, not raised: the database is already right, and
    `python -m learning export` rewrites the files whole."""
    if not removed and not conversations and before is None:
        return 0
    kept = list(session.scalars(select(NluCorrection.text)))
    try:
        gone = forgetter(removed, kept, conversations, before)
    except (OSError, ValueError) as error:
        log.warning(
            "the learning exports could not be updated (%s); run `python -m learning export` "
            "and check var/learning/test_stories.yml",
            type(error).__name__,
        )
        return 0
    if gone:
        log.info("learning exports: %d example(s) and stories removed", gone)
    return gone
