"""The one settings mechanism: typed sections read from `SHOPDESK_*` environment variables,
validated once, with a sentence that names the variable when a value cannot be used.

Why one: five settings classes, three sets of env-parsing helpers and dozens of ad hoc
`os.environ` reads each had their own idea of a blank value, a bad number and an error
message. Now a package declares a `Section` (pydantic-settings) whose fields name their
variable with `var(...)`, and every process reads its sections through one cached
`settings()`; tests build fresh ones from a given environment (`Section.from_env(env)` or
`ShopDeskSettings(env)`). The sections live beside the code that uses them when they need
its types (web.settings, nlu_models.settings, ...), but all are built here, the same way.

Rules every section shares: a variable that is unset or blank means the default; values are
parsed by the field's annotation (the `number`, `whole_number`, `choice` and `words`
parsers below keep today's messages); a secret comes from its variable or from a file only its owner
may read (`read_secret_file`).
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Final, Self, TypeVar

from pydantic import AliasChoices, BeforeValidator, Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

PREFIX: Final = "SHOPDESK_"
# Read, write or execute for the group or for others: a secret file with any of these is refused.
SHARED_BITS: Final = stat.S_IRWXG | stat.S_IRWXO
SECRET_FILE_MODE: Final = 0o600

_environ: ContextVar[Mapping[str, str] | None] = ContextVar("shopdesk_environ", default=None)


class SettingsError(ValueError):
    """A setting has a value the program cannot use; the message says which and why."""


def var(name: str, default: Any = ..., **extra: Any) -> Any:
    """A field read from the environment variable `name` (the whole name, `SHOPDESK_...`);
    code and tests may still pass it by its field name."""
    if not name.startswith(PREFIX):
        raise ValueError(f"setting {name} must start with {PREFIX}")
    return Field(default, validation_alias=AliasChoices(name), **extra)


def env_name(field: FieldInfo, field_name: str) -> str:
    """The variable a field is read from."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    if isinstance(alias, str):
        return alias
    return PREFIX + field_name.upper()


class _EnvironmentSource(PydanticBaseSettingsSource):
    """The section's variables from the environment being read (os.environ unless a test
    or `ShopDeskSettings` gave another), as raw strings: blank counts as unset, and parsing
    is the field's own (no JSON decoding of lists, unlike pydantic-settings' default)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        environ = _environ.get()
        source = os.environ if environ is None else environ
        name = env_name(field, field_name)
        raw = source.get(name)
        return (raw if raw is not None and raw.strip() else None), name, False

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for field_name, field in self.settings_cls.model_fields.items():
            value, name, _ = self.get_field_value(field, field_name)
            if value is not None:
                found[name] = value
        return found


class Section(BaseSettings):
    """A group of settings of one concern (the web server's, the classifier's, ...).

    Build one with `from_env()` (a SettingsError with a sentence for a bad value), or get the
    process's with `settings().section(TheSection)`. Frozen: a process does not change its
    settings while it runs; tests use `model_copy(update=...)`.
    """

    model_config = SettingsConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, _EnvironmentSource(settings_cls)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **given: Any) -> Self:
        """The section from `environ` (os.environ when None); `given` fields win over it."""
        with reading(environ):
            try:
                return cls(**given)
            except ValidationError as error:
                raise SettingsError(polite(cls, error)) from None


@contextmanager
def reading(environ: Mapping[str, str] | None) -> Iterator[None]:
    """Sections built inside read `environ` instead of os.environ."""
    token = _environ.set(environ)
    try:
        yield
    finally:
        _environ.reset(token)


def polite(section: type[Section], error: ValidationError) -> str:
    """One sentence for the first bad value: the variable, what it must be, what it was."""
    problem = error.errors()[0]
    where = str(problem["loc"][0]) if problem["loc"] else section.__name__
    field = section.model_fields.get(where)
    name = env_name(field, where) if field is not None else where
    cause = (problem.get("ctx") or {}).get("error")
    if isinstance(cause, (ValueError, AssertionError)) and str(cause):
        text = str(cause)  # "must be ..." reads on from the name; anything else after a colon
        return f"{name} {text}" if text.startswith("must ") else f"{name}: {text}"
    return f"{name}: {problem['msg']} (got {problem.get('input')!r})"


# Value parsers for `Annotated` fields; each raises ValueError with the end of the sentence
# that `polite` starts with the variable's name.


def _text(value: object) -> str:
    return str(value).strip()


def number(minimum: float) -> Callable[[object], float]:
    """A finite number of at least `minimum`."""

    def parse(value: object) -> float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            parsed, raw = float(value), repr(value)
        else:
            raw = repr(_text(value))
            try:
                parsed = float(_text(value))
            except ValueError:
                raise ValueError(f"must be a number, not {raw}") from None
        if not math.isfinite(parsed):
            raise ValueError(f"must be a finite number, not {raw}")
        if parsed < minimum:
            raise ValueError(f"must be at least {minimum:g}, not {raw}")
        return parsed

    return parse


def whole_number(minimum: int = 1) -> Callable[[object], int]:
    """A whole number of at least `minimum` ("a positive whole number" when 1)."""
    what = "a positive whole number" if minimum == 1 else f"a whole number of at least {minimum}"

    def parse(value: object) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            parsed, raw = value, repr(value)
        else:
            raw = repr(_text(value))
            if not _text(value).lstrip("-").isdigit():  # no "1e3", "+5" or "5_0"
                raise ValueError(f"must be {what} (got {raw})")
            parsed = int(_text(value))
        if parsed < minimum:
            raise ValueError(f"must be {what} (got {raw})")
        return parsed

    return parse


def choice(*allowed: str) -> Callable[[object], str]:
    """One of `allowed`, exactly."""

    def parse(value: object) -> str:
        text = _text(value)
        if text not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)} (got {text!r})")
        return text

    return parse


def words(separator: str = ",") -> Callable[[object], tuple[str, ...]]:
    """A comma-separated list (or a sequence given in code), blanks dropped."""

    def parse(value: object) -> tuple[str, ...]:
        items = value.split(separator) if isinstance(value, str) else value
        return tuple(str(item).strip() for item in items if str(item).strip())  # type: ignore[attr-defined]

    return parse


Text = Annotated[str, BeforeValidator(_text)]
"""A string, surrounding blanks removed."""


def read_secret_file(
    path: Path, what: str, min_chars: int, *, if_shared: str, if_short: str
) -> bytes:
    """The secret in `path`, once its mode and length show that nobody else has or can guess
    it; SettingsError, with what to do, when the file is open to other users (`if_shared`),
    unreadable, or too short (`if_short`)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & SHARED_BITS:
        raise SettingsError(
            f"the {what} file {path} is open to other users (mode {mode:o}); {if_shared}"
            f" or, if nobody else could have read it, `chmod 600 {path}`."
        )
    try:
        secret = path.read_bytes().strip()
    except OSError as error:
        raise SettingsError(f"the {what} file {path} cannot be read: {error.strerror}") from None
    if len(secret) < min_chars:
        raise SettingsError(
            f"the {what} file {path} holds {len(secret)} characters, fewer than {min_chars}: "
            f"{if_short}"
        )
    return secret


def write_secret_file(path: Path, secret: bytes) -> None:
    """Make `path` (and its missing folders, 0700) holding `secret`, readable by its owner
    only from the first byte; FileExistsError if another process made it first."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SECRET_FILE_MODE)
    with os.fdopen(descriptor, "wb") as file:
        file.write(secret)


S = TypeVar("S", bound=Section)


class ShopDeskSettings:
    """A process's settings: every section it uses, each built once from one snapshot of
    the environment, so two parts of a process never see different values.

    Sections are reached by their class (`settings().section(WebSettings)`): `core` is the
    lowest layer and cannot name the sections the packages above it declare.
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ: Mapping[str, str] = dict(os.environ if environ is None else environ)
        self._sections: dict[type[Section], Section] = {}

    def section(self, kind: type[S]) -> S:
        """The `kind` section of this process (SettingsError for a bad value)."""
        found = self._sections.get(kind)
        if found is None:
            found = self._sections[kind] = kind.from_env(self.environ)
        assert isinstance(found, kind)
        return found


@cache
def settings() -> ShopDeskSettings:
    """This process's settings, read from the environment at the first call. Tests that
    change the environment call `settings.cache_clear()` (or build `ShopDeskSettings(env)`)."""
    return ShopDeskSettings()


class InternalSettings(Section):
    """What ShopDesk's own processes share: the bearer token the classifier service and the
    action server ask of their callers (the launcher makes a random one per run)."""

    internal_token: Text = var("SHOPDESK_INTERNAL_TOKEN", "")

    def __repr__(self) -> str:  # the token stays out of logs
        return f"InternalSettings(internal_token={'set' if self.internal_token else 'unset'})"
