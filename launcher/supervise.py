"""Keep a running stack running: a process that dies is started again, after a pause that
doubles with each recent restart (1 s, 2 s, 4 s ... at most 60 s), and counted.

Why restart rather than stop everything: one crashed action server used to take the whole
assistant down until someone noticed. Why give up at all: a process that dies again and again
(a broken model, a full disk) would otherwise restart forever while the shop thinks it is up;
after `max_restarts` restarts of one process within `window_s` the launcher stops the stack
and says which process and where its log is.

The counts go to a small JSON file in the stack's log folder (web/restarts.py), which the web
server's `/health` shows: the web server is itself supervised, so they cannot live in it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from launcher.stack import Stack, StackError
from web.restarts import RestartCounts

# the launcher's own lines start so (its steps' lines do too), apart from the processes' logs
OUR_LINE = "==>"
POLL_S = 0.5
LOG_TAIL_LINES = 20


@dataclass(frozen=True)
class Backoff:
    """When to restart: `first_s` after the first death, doubling (`factor`) with each restart
    of the same process within `window_s`, never more than `cap_s`; giving up once a process
    would need more than `max_restarts` restarts within `window_s`."""

    first_s: float = 1.0
    factor: float = 2.0
    cap_s: float = 60.0
    max_restarts: int = 5
    window_s: float = 600.0

    def delay(self, recent_restarts: int) -> float:
        """The pause before the next restart of a process restarted `recent_restarts` times
        within the window."""
        return float(min(self.first_s * self.factor**recent_restarts, self.cap_s))


class GaveUp(StackError):
    """A process kept dying; the message names it, how often, and its log."""


@dataclass(frozen=True)
class PendingRestart:
    due: float
    exit_status: int


class Supervisor:
    """Watches a started `Stack`: `check()` (call it every `POLL_S` or so) restarts what died
    when its pause is over, and raises GaveUp when a process dies too often. `clock` and
    `say` are seams for the tests (the clock stays monotonic)."""

    def __init__(
        self,
        stack: Stack,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.stack = stack
        self.backoff = backoff or Backoff()
        self.clock = clock
        self.say = say or (lambda line: print(line, flush=True))
        self.counts = dict.fromkeys(stack.services, 0)
        self._recent: dict[str, deque[float]] = {name: deque() for name in stack.services}
        self._pending: dict[str, PendingRestart] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._write()

    def _write(self, gave_up: str = "") -> None:
        RestartCounts(dict(self.counts), gave_up).write(self.stack.config.restarts_file)

    def _recent_restarts(self, name: str, now: float) -> int:
        recent = self._recent[name]
        while recent and now - recent[0] > self.backoff.window_s:
            recent.popleft()
        return len(recent)

    def check(self) -> None:
        """One look at every process: schedule a restart for each newly dead one, perform
        the restarts that are due. GaveUp when one has had its restarts."""
        with self._lock:
            if self._closed:
                return
            now = self.clock()
            for name, service in self.stack.services.items():
                process = service.process
                if name in self._pending:
                    if now >= self._pending[name].due:
                        self._restart(name, now)
                elif process is not None and process.poll() is not None:
                    self._schedule(name, process.returncode, now)

    def _schedule(self, name: str, status: int, now: float) -> None:
        recent = self._recent_restarts(name, now)
        if recent >= self.backoff.max_restarts:
            self._write(gave_up=name)
            raise GaveUp(
                f"{name} exited (status {status}) after {recent} restarts within "
                f"{self.backoff.window_s:.0f}s; stopping everything. Its log "
                f"{self.stack.services[name].log_path}:\n"
                + self.stack.services[name].log_tail(LOG_TAIL_LINES)
            )
        delay = self.backoff.delay(recent)
        self._pending[name] = PendingRestart(now + delay, status)
        self.say(
            f"{OUR_LINE} {name} exited (status {status}); restarting it in {delay:g}s "
            f"(log: {self.stack.services[name].log_path})"
        )

    def _restart(self, name: str, now: float) -> None:
        pending = self._pending.pop(name)
        process = self.stack.services[name].process
        if process is not None:
            # what it started may outlive it in its session (a worker holding the port)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        try:
            self.stack.start_service(name)
        except OSError as error:  # its program or log folder is gone: no restart can help
            self._write(gave_up=name)
            raise GaveUp(
                f"{name} could not be started again ({error}); stopping everything"
            ) from None
        self._recent[name].append(now)
        self.counts[name] += 1
        self._write()
        self.say(
            f"{OUR_LINE} restarted {name} (exit status was {pending.exit_status}; "
            f"restart {self.counts[name]}, {len(self._recent[name])} of at most "
            f"{self.backoff.max_restarts} within {self.backoff.window_s:.0f}s)"
        )

    def close(self) -> None:
        """No restart from now on (the stack is being stopped)."""
        with self._lock:
            self._closed = True


class Watcher:
    """A `Supervisor` checking in a thread of its own, so the launcher's terminal chat goes on
    meanwhile. When it gives up it keeps the message and calls `on_give_up` (the launcher
    interrupts itself, which stops the stack)."""

    def __init__(
        self,
        supervisor: Supervisor,
        on_give_up: Callable[[], None] | None = None,
        poll_s: float = POLL_S,
    ) -> None:
        self.supervisor = supervisor
        self.on_give_up = on_give_up or (lambda: None)
        self.poll_s = poll_s
        self.message = ""
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="shopdesk-supervisor", daemon=True)

    def start(self) -> Watcher:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.poll_s):
                self.supervisor.check()
        except GaveUp as error:
            self.message = str(error)
            self.on_give_up()
        finally:
            self._done.set()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the watcher gave up (True) or `timeout_s` passed (False); in short
        steps, so Ctrl-C in the main thread is seen at once."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while not self._done.wait(POLL_S):
            if deadline is not None and time.monotonic() > deadline:
                return False
        return bool(self.message)

    def close(self) -> None:
        """Stop watching before the stack is stopped, so nothing is restarted meanwhile."""
        self.supervisor.close()
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()


def interrupt_self() -> None:
    """What the launcher does when the watcher gives up: the same as Ctrl-C (a real signal,
    so a terminal chat blocked reading a line is woken too)."""
    os.kill(os.getpid(), signal.SIGINT)
