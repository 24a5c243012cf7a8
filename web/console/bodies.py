"""The console's request bodies as Pydantic models, with today's limits and sentences.

A field's own validator raises the sentence the agent reads (deps.first_problem passes it on);
a value of the wrong JSON type is refused with a 400 naming the field. Extra fields are
ignored, as the console always did.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, ConfigDict, field_validator

MAX_USERNAME_CHARS: Final = 64
MAX_REPLY_CHARS: Final = 2000


def as_text(value: Any) -> Any:
    """null or a missing value as "", a number as its digits (as the console always took them)."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


class LoginBody(BaseModel):
    username: str = ""
    password: str = ""

    @field_validator("username", "password", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return as_text(value)

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        return value.strip()[:MAX_USERNAME_CHARS]


class ReplyBody(BaseModel):
    """What an agent writes to the shopper; a missing text is refused like an empty one."""

    model_config = ConfigDict(validate_default=True)

    text: str = ""

    @field_validator("text", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return as_text(value)

    @field_validator("text")
    @classmethod
    def _fits(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("Type a message first.")
        if len(value) > MAX_REPLY_CHARS:
            raise ValueError(f"A message can have at most {MAX_REPLY_CHARS} characters.")
        return value


class NoteBody(BaseModel):
    """An internal note; web/notes.py checks its length and says what is wrong."""

    text: str = ""

    @field_validator("text", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return as_text(value)


class CorrectionBody(BaseModel):
    """How the bot should have read shopper message `seq`: an `intent` from the list or a
    `new_intent`; web/console/misreadings.py checks them against the domain and says what is
    wrong."""

    seq: Any = None
    intent: Any = None
    new_intent: Any = None

    def as_data(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)
