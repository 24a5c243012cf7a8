"""Logs never hold personal data: a filter on the handlers redacts every record.

`install_log_redaction` is called by each process at start-up (the web server, the action
server); the filter redacts with privacy.redaction's one redactor.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Mapping

from privacy.redaction import Redactor, redact_value, redactor

# What every LogRecord has; anything else on a record came from `extra=` and is redacted too
# (a JSON formatter writes it out).
_STANDARD_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


class RedactingFilter(logging.Filter):
    """Redacts each log record's final message, exception and stack text, and `extra` values.

    Attach it to handlers, not loggers: a logger's filters see only the records logged on
    that very logger, a handler's see every record that reaches it. The record is changed
    in place (its message is formatted once, here, with its arguments), so every handler
    after this one writes the redacted text. It never drops a record and never raises: if
    redaction itself fails, the message is withheld rather than written unredacted.
    """

    def __init__(self, redactor_factory: Callable[[], Redactor] = redactor) -> None:
        super().__init__()
        self._redactor_factory = redactor_factory
        self._done: weakref.WeakSet[logging.LogRecord] = weakref.WeakSet()
        self._busy = threading.local()
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if record in self._done:
            return True
        if getattr(self._busy, "active", False):
            # Logged by the redaction machinery itself (spaCy, Presidio) while redacting
            # another record: it may quote the text being redacted, so it is not written.
            return False
        self._busy.active = True
        try:
            self._redact_record(record, self._redactor_factory())
        except Exception as error:  # a log call must never fail because of this filter
            record.msg = f"[log message withheld: redaction failed ({type(error).__name__})]"
            record.args = None
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        finally:
            self._busy.active = False
        self._done.add(record)
        return True

    def _redact_record(self, record: logging.LogRecord, redactor: Redactor) -> None:
        record.msg = redactor.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redactor.redact(record.exc_text)
            # The formatter writes exc_text as it is; without exc_info no handler can format
            # the exception again from the original, unredacted, exception object.
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redactor.redact(record.stack_info)
        for name, value in list(record.__dict__.items()):
            if name in _STANDARD_RECORD_ATTRIBUTES or name.startswith("_"):
                continue
            if isinstance(value, str | Mapping | list | tuple):
                setattr(record, name, redact_value(value))


_log_filter: RedactingFilter | None = None


def install_log_redaction(*logger_names: str) -> int:
    """Attaches one RedactingFilter to the root logger's handlers (and to those named).

    Loggers that keep their own handlers and do not propagate, such as uvicorn's access log,
    are covered by naming them: `install_log_redaction("uvicorn", "uvicorn.access")`. The
    handler Python falls back to when none is configured (`logging.lastResort`) is covered
    too. Call it after logging is configured: a handler added later has no filter. Loads the
    redactor now, so the first log line is not the one that waits for it. Calling it again
    adds nothing twice; returns how many handlers got the filter this time.
    """
    global _log_filter
    redactor()
    if _log_filter is None:
        _log_filter = RedactingFilter()
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in logger_names)]
    handlers: list[logging.Handler] = [h for logger in loggers for h in logger.handlers]
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    attached = 0
    for handler in handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(_log_filter)
            attached += 1
    return attached
