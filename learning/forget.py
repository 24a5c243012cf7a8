"""What the learning loop wrote out of the shop database forgets an erased or aged correction.

`python -m learning export` copies agents' corrections into `bot/data/nlu_corrections.yml`
(and those to unknown intents into `var/learning/new_intents.yml`); `python -m learning
stories` copies conversations into `var/learning/test_stories.yml`. When erasure or
retention deletes a correction (or a conversation), the copies must go too, or the shopper's
words outlive them in the training data.

The files are filtered in place rather than exported again: an export reads every
correction and may add new ones, or be refused by the data check and leave the old file as
it was. Filtering only removes: an example goes when its text came from a deleted correction
and from no correction that is kept (two shoppers may have typed the same words; the other
one's correction still backs it). Each file is rewritten through a temporary file, read back
and renamed into place, so it is never half written. Run `python -m learning export` after
to regenerate them whole, if you like: the result is the same.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml

from core.clock import local
from core.paths import PROJECT_ROOT
from learning.corrections import DEFAULT_NEW_INTENTS, LEARNING_DIR, clean_text, nlu_yaml
from nlu_models.data import DataError, read_nlu_file
from nlu_models.data_checks import normalise
from nlu_models.settings import NluSettings
from nlu_models.tasks import CORRECTIONS_FILE
from privacy.forgetting import TrainingDataForgetter

DEFAULT_DATA_DIR = PROJECT_ROOT / "bot" / "data"
DEFAULT_STORIES = LEARNING_DIR / "test_stories.yml"
# `learning.story_writer.story_name`: "went well 2026-11-20 14:05 (1a2b3c4d5e, 6 messages)"
_STORY_NAME = re.compile(r"^went well (\d{4}-\d{2}-\d{2} \d{2}:\d{2}) \(([0-9a-f]{10}),")
_DIGEST_CHARS = 10


@dataclass(frozen=True)
class LearningFiles:
    """Where the learning loop's copies are: as `python -m learning` writes them by default."""

    corrections: Path = DEFAULT_DATA_DIR / CORRECTIONS_FILE
    new_intents: Path = DEFAULT_NEW_INTENTS
    stories: Path = DEFAULT_STORIES

    @classmethod
    def from_env(cls) -> LearningFiles:
        """The intent data folder is SHOPDESK_NLU_DATA_DIR (default bot/data), as for the
        export; the other two are the export's defaults under var/learning."""
        data_dir = NluSettings.from_env().data_dir
        folder = data_dir.expanduser() if data_dir else DEFAULT_DATA_DIR
        return cls(corrections=folder / CORRECTIONS_FILE)


def _replace(path: Path, text: str) -> None:
    """Write beside the file, then rename over it: never half written; the mode is kept."""
    mode = path.stat().st_mode & 0o777
    handle, name = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".tmp", dir=path.parent)
    temporary = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        temporary.chmod(mode)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _header(text: str) -> str:
    """The comment block a generated file starts with, kept as it was."""
    lines: list[str] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return "\n".join(lines) + "\n" if lines else ""


def _filter_examples(path: Path, forgotten: set[str]) -> int:
    """Drop the examples whose normalised text is in `forgotten`; how many went."""
    if not forgotten or not path.is_file():
        return 0
    try:
        examples = read_nlu_file(path)
    except DataError:
        return 0  # not a file the export wrote; nothing of ours to filter
    kept = [example for example in examples if normalise(example.text) not in forgotten]
    if len(kept) == len(examples):
        return 0
    if not kept:
        path.unlink()  # the export, too, leaves no file when nothing is accepted
    else:
        text = nlu_yaml(kept, _header(path.read_text(encoding="utf-8")))
        _replace(path, text)
        if read_nlu_file(path) != kept:
            raise DataError(f"{path}: did not read back as written")
    return len(examples) - len(kept)


def forget_examples(files: LearningFiles, removed: Iterable[str], kept: Iterable[str]) -> int:
    """Remove from the exported files the examples that came from the `removed` corrections'
    texts (as stored), unless one of the `kept` texts gives the same example. Returns how
    many examples went."""
    gone = {normalise(clean_text(text)) for text in removed}
    if not gone:
        return 0
    gone -= {normalise(clean_text(text)) for text in kept}
    gone.discard("")
    return _filter_examples(files.corrections, gone) + _filter_examples(files.new_intents, gone)


def story_digest(conversation_id: str) -> str:
    """The part of a story's name that tells its conversation (`learning.story_writer`)."""
    return hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()[:_DIGEST_CHARS]


def forget_stories(
    path: Path, conversations: Iterable[str] = (), before: datetime | None = None
) -> int:
    """Remove the test stories made from these conversations, and those of conversations
    started before `before` (the shop's local time, as the story names tell it)."""
    digests = {story_digest(conversation) for conversation in conversations}
    if (not digests and before is None) or not path.is_file():
        return 0
    text = path.read_text(encoding="utf-8")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        return 0
    stories = document.get("stories") if isinstance(document, dict) else None
    if not isinstance(stories, list):
        return 0

    def gone(story: object) -> bool:
        name = story.get("story") if isinstance(story, dict) else None
        match = _STORY_NAME.match(name) if isinstance(name, str) else None
        if match is None:
            return False
        started = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M")
        return match.group(2) in digests or (before is not None and started < before)

    kept = [story for story in stories if not gone(story)]
    if len(kept) == len(stories):
        return 0
    if not kept:
        path.unlink()
    else:
        body = yaml.safe_dump(
            {**document, "stories": kept}, sort_keys=False, allow_unicode=True, width=2**16
        )
        _replace(path, _header(text) + body)
    return len(stories) - len(kept)


def forget(
    files: LearningFiles,
    removed: Iterable[str] = (),
    kept: Iterable[str] = (),
    conversations: Iterable[str] = (),
    before: datetime | None = None,
) -> int:
    """`forget_examples` and `forget_stories` at once; how many examples and stories went."""
    return forget_examples(files, removed, kept) + forget_stories(
        files.stories, conversations, before
    )


def training_data_forgetter(files: LearningFiles | None = None) -> TrainingDataForgetter:
    """`forget` as erasure and retention take it (privacy sits below the learning loop and
    cannot import it): `files`, or `LearningFiles.from_env()` read at each call."""

    def forget_copies(
        removed: Sequence[str],
        kept: Sequence[str],
        conversations: Sequence[str],
        before: datetime | None,
    ) -> int:
        if before is not None and before.tzinfo is not None:
            before = local(before).replace(tzinfo=None)  # stories are named in local time
        return forget(files or LearningFiles.from_env(), removed, kept, conversations, before)

    return forget_copies
