"""The ShopDesk stack as processes: prepare what is missing, start, wait until healthy, stop.

Used by `python -m launcher run` and by the end-to-end tests, so tests run the real thing.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from launcher.scaled import (
    PORT_STEP,
    ScaledSettings,
    ScaledSetupError,
    check_redis,
    deployment_from_env,
    ensure_database,
)

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


class StackError(RuntimeError):
    """A step failed; the message says which and where its log is."""


def _port_from_env(variable: str, default: int) -> int:
    value = os.environ.get(variable)
    if value is None:
        return default
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise StackError(f"{variable} must be a port number, not {value!r}")
    return int(value)


def rasa_token_from_env() -> str:
    """Rasa's HTTP API token: SHOPDESK_RASA_TOKEN, or a new random one (never a constant)."""
    return os.environ.get("SHOPDESK_RASA_TOKEN", "").strip() or secrets.token_urlsafe(32)


@dataclass(frozen=True)
class StackConfig:
    """Ports, places and the environment the processes share (`from_env` reads SHOPDESK_*)."""

    rasa_port: int = 5005
    actions_port: int = 5055
    nlu_port: int = 5006
    web_port: int = 5080
    python: Path = ROOT / ".venv" / "bin" / "python"
    rasa_venv: Path = ROOT / ".venv-rasa"
    rasa_model_dir: Path = ROOT / "models" / "rasa"
    log_dir: Path = ROOT / "var" / "logs"
    tracker_db: Path = ROOT / "var" / "rasa_tracker.sqlite3"
    # kept out of repr: it may hold database and Redis URLs with passwords
    extra_env: dict[str, str] = field(default_factory=dict, repr=False)
    # The token of Rasa's HTTP API (`--enable-api --auth-token`): conversations' trackers for
    # `python -m launcher stories`. Random per config unless given; kept out of repr.
    rasa_token: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    # The secret the classifier service and the action server ask of their callers (Rasa):
    # SHOPDESK_INTERNAL_TOKEN, random per config unless given; kept out of repr.
    internal_token: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    # `embedded` (SQLite files, one process of each kind) or `scaled` (launcher/scaled.py:
    # PostgreSQL, Redis, several Rasa instances and action servers; extra_env holds its URLs).
    deployment: str = "embedded"
    rasa_instances: int = 1
    actions_instances: int = 1

    @classmethod
    def from_env(cls) -> StackConfig:
        """SHOPDESK_RASA_PORT, SHOPDESK_ACTIONS_PORT, SHOPDESK_NLU_PORT, SHOPDESK_WEB_PORT,
        SHOPDESK_TRACKER_DB, SHOPDESK_RASA_TOKEN, and SHOPDESK_DEPLOYMENT with the scaled
        setup's settings (launcher/scaled.py)."""
        default = cls()
        tracker_db = os.environ.get("SHOPDESK_TRACKER_DB")
        try:
            deployment = deployment_from_env()
            scaled = ScaledSettings.from_env() if deployment == "scaled" else None
        except ScaledSetupError as error:
            raise StackError(str(error)) from None
        return cls(
            deployment=deployment,
            rasa_instances=scaled.rasa_instances if scaled else 1,
            actions_instances=scaled.actions_instances if scaled else 1,
            extra_env=scaled.env() if scaled else {},
            rasa_port=_port_from_env("SHOPDESK_RASA_PORT", default.rasa_port),
            actions_port=_port_from_env("SHOPDESK_ACTIONS_PORT", default.actions_port),
            nlu_port=_port_from_env("SHOPDESK_NLU_PORT", default.nlu_port),
            web_port=_port_from_env("SHOPDESK_WEB_PORT", default.web_port),
            tracker_db=Path(tracker_db) if tracker_db else default.tracker_db,
            rasa_token=rasa_token_from_env(),
            internal_token=os.environ.get("SHOPDESK_INTERNAL_TOKEN", "").strip()
            or secrets.token_urlsafe(32),
        )

    @property
    def rasa_url(self) -> str:
        return f"http://{HOST}:{self.rasa_port}"

    @property
    def rasa_urls(self) -> list[str]:
        """Every Rasa instance (one unless scaled); they share conversations when scaled."""
        return [
            f"http://{HOST}:{self.rasa_port + PORT_STEP * i}" for i in range(self.rasa_instances)
        ]

    @property
    def actions_url(self) -> str:
        return f"http://{HOST}:{self.actions_port}"

    @property
    def actions_urls(self) -> list[str]:
        return [
            f"http://{HOST}:{self.actions_port + PORT_STEP * i}"
            for i in range(self.actions_instances)
        ]

    @property
    def endpoints(self) -> str:
        """Rasa's endpoints file: SQLite tracker, or PostgreSQL tracker and Redis lock store."""
        return "bot/endpoints.scaled.yml" if self.deployment == "scaled" else "bot/endpoints.yml"

    @property
    def nlu_url(self) -> str:
        return f"http://{HOST}:{self.nlu_port}"

    @property
    def web_url(self) -> str:
        return f"http://{HOST}:{self.web_port}"

    @property
    def chat_url(self) -> str:
        return f"{self.rasa_url}/webhooks/rest/webhook"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "bot")]),
                "PYTHONUNBUFFERED": "1",
                "SHOPDESK_NLU_URL": self.nlu_url,
                "SHOPDESK_ACTIONS_URL": f"{self.actions_url}/webhook",
                "SHOPDESK_TRACKER_DB": str(self.tracker_db),
                # the scaled setup's extra_env sets it; embedded, a shell's old value must not
                # point the web server (web/transcripts.py) at another tracker store
                "SHOPDESK_TRACKER_DB_URL": "",
                # the web server spreads conversations over every instance (web/rasa_client.py)
                "SHOPDESK_RASA_URL": ",".join(self.rasa_urls),
                "SHOPDESK_RASA_TOKEN": self.rasa_token,
                "SHOPDESK_INTERNAL_TOKEN": self.internal_token,
                "SHOPDESK_WEB_HOST": HOST,
                "SHOPDESK_WEB_PORT": str(self.web_port),
                "SANIC_HOST": HOST,  # rasa_sdk binds to 0.0.0.0 unless told
                "TF_CPP_MIN_LOG_LEVEL": "2",
                # Rasa's telemetry would send usage data and crash reports (with tracebacks) to
                # Rasa's servers; a shop's assistant sends nothing outside.
                "RASA_TELEMETRY_ENABLED": "false",
            }
        )
        env.update(self.extra_env)
        return env


def run_step(title: str, command: Sequence[str], config: StackConfig) -> None:
    """A preparation step in the foreground, its output (progress bars) shown as it runs."""
    print(f"==> {title}", flush=True)
    started = time.monotonic()
    result = subprocess.run(list(command), cwd=ROOT, env=config.env(), check=False)
    if result.returncode != 0:
        raise StackError(f"{title} failed (exit {result.returncode})")
    print(f"    {title}: done in {time.monotonic() - started:.1f}s", flush=True)


def prepare(config: StackConfig) -> None:
    """Load the catalog, train the classifier and the Rasa model if they are missing or stale;
    in the scaled setup first see that PostgreSQL (its database created) and Redis answer."""
    if config.deployment == "scaled":
        env = config.env()
        print("==> PostgreSQL and Redis (the scaled setup)", flush=True)
        try:
            if ensure_database(env["SHOPDESK_DATABASE_URL"]):
                print("    created the database", flush=True)
            check_redis(env["SHOPDESK_REDIS_URL"])
        except ScaledSetupError as error:
            raise StackError(str(error)) from None
    run_step("loading the catalog", [str(config.python), "-m", "catalog.cli", "load"], config)
    run_step(
        "classifier (trained only if missing or stale)",
        [str(config.python), "-m", "nlu_models", "ensure"],
        config,
    )
    run_step(
        "Rasa model (trained only if its data changed)",
        [
            str(config.rasa_venv / "bin" / "rasa"),
            "train",
            "--config",
            "config.yml",
            "--domain",
            "bot/domain.yml",
            "--data",
            "bot/data",
            "--out",
            str(config.rasa_model_dir),
            "--fixed-model-name",
            "shopdesk",
        ],
        config,
    )


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(200 <= response.status < 300)
    except (urllib.error.URLError, OSError):
        return False


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((HOST, port)) == 0


@dataclass
class Service:
    name: str
    command: list[str]
    port: int
    health_url: str
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    # what this service's environment has on top of the config's (e.g. its action server)
    env: dict[str, str] = field(default_factory=dict)

    def log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def instance_name(kind: str, index: int) -> str:
    return kind if index == 0 else f"{kind}-{index + 1}"


def rasa_command(config: StackConfig, port: int) -> list[str]:
    return [
        str(config.rasa_venv / "bin" / "rasa"),
        "run",
        "--interface",
        HOST,
        "--port",
        str(port),
        "--model",
        str(config.rasa_model_dir),
        "--endpoints",
        config.endpoints,
        "--credentials",
        "bot/credentials.yml",
        # the HTTP API (trackers, for `launcher stories`), behind the token; one argument, as
        # a token may start with "-" (token_urlsafe's alphabet)
        "--enable-api",
        f"--auth-token={config.rasa_token}",
    ]


class Stack:
    """Context manager: the classifier, the action server(s), Rasa instance(s) and the web
    server, healthy, then stopped."""

    def __init__(self, config: StackConfig, startup_timeout_s: float = 240.0) -> None:
        self.config = config
        self.startup_timeout_s = startup_timeout_s
        self.services = {
            "classifier": Service(
                "classifier",
                [str(config.python), "-m", "nlu_models", "serve", "--port", str(config.nlu_port)],
                config.nlu_port,
                f"{config.nlu_url}/health",
            )
        }
        # Instance i is named e.g. "actions" (the first) or "actions-2", on port base + 100 * i.
        for index, url in enumerate(config.actions_urls):
            port = config.actions_port + PORT_STEP * index
            name = instance_name("actions", index)
            self.services[name] = Service(
                name,
                [str(config.python), "-m", "actions.server", "--port", str(port)],
                port,
                f"{url}/health",
            )
        for index, url in enumerate(config.rasa_urls):
            port = config.rasa_port + PORT_STEP * index
            name = instance_name("rasa", index)
            actions = config.actions_urls[index % len(config.actions_urls)]
            self.services[name] = Service(
                name,
                rasa_command(config, port),
                port,
                f"{url}/webhooks/rest/",
                # each Rasa instance calls one action server; with as many of each, its own
                env={"SHOPDESK_ACTIONS_URL": f"{actions}/webhook"},
            )
        self.services["web"] = Service(
            "web",
            [str(config.python), "-m", "web", "serve"],
            config.web_port,
            f"{config.web_url}/health",
        )

    def start(self, only: Sequence[str] | None = None) -> dict[str, float]:
        """Start the services together; seconds until each answered its health check."""
        names = list(only or self.services)
        busy = [
            f"{n} ({self.services[n].port})" for n in names if port_in_use(self.services[n].port)
        ]
        if busy:
            raise StackError(
                f"ports already in use: {', '.join(busy)}. Is ShopDesk already running? "
                "Stop it, or choose other ports with SHOPDESK_RASA_PORT, SHOPDESK_ACTIONS_PORT "
                "SHOPDESK_NLU_PORT and SHOPDESK_WEB_PORT."
            )
        self.config.log_dir.mkdir(parents=True, exist_ok=True)
        self.config.tracker_db.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        # Further Rasa instances start once the first is up: each creates the tracker store's
        # tables when missing, and together they would race to (an error in the log).
        later = [n for n in names if n.startswith("rasa-") and "rasa" in names]
        for name in names:
            if name not in later:
                self.start_service(name)
        print(f"==> waiting for {', '.join(names)} to be healthy", flush=True)
        deadline = started + self.startup_timeout_s
        ready: dict[str, float] = {}
        while len(ready) < len(names):
            for name in names:
                if name not in ready and self.is_healthy(name):
                    ready[name] = round(time.monotonic() - started, 2)
            if later and "rasa" in ready:
                for name in later:
                    self.start_service(name)
                later = []
            if time.monotonic() > deadline:
                late = [n for n in names if n not in ready]
                raise StackError(f"not healthy in time: {', '.join(late)}; " + self._logs(late))
            time.sleep(0.25)
        return ready

    def start_service(self, name: str) -> None:
        service = self.services[name]
        service.log_path = self.config.log_dir / f"{name}.log"
        log = service.log_path.open("ab")
        service.process = subprocess.Popen(
            service.command,
            cwd=ROOT,
            env={**self.config.env(), **service.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def is_healthy(self, name: str) -> bool:
        """True once the service answers; StackError if its process has exited."""
        service = self.services[name]
        if service.process is not None and service.process.poll() is not None:
            raise StackError(
                f"{name} exited with {service.process.returncode}; " + self._logs([name])
            )
        return http_ok(service.health_url)

    def wait_healthy(self, name: str, deadline: float) -> None:
        while not self.is_healthy(name):
            if time.monotonic() > deadline:
                raise StackError(f"{name} not healthy in time; " + self._logs([name]))
            time.sleep(0.25)

    def _logs(self, names: list[str]) -> str:
        return "\n".join(
            f"log {self.services[n].log_path}:\n{self.services[n].log_tail()}" for n in names
        )

    def stop_service(self, name: str, timeout_s: float = 15.0) -> None:
        process = self.services[name].process
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop(self) -> None:
        for name in reversed(list(self.services)):
            self.stop_service(name)

    def pids(self) -> dict[str, int]:
        return {n: s.process.pid for n, s in self.services.items() if s.process is not None}

    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def missing_environments(config: StackConfig) -> list[str]:
    missing = []
    if not config.python.exists():
        missing.append(f"{config.python} (run scripts/bootstrap)")
    if not (config.rasa_venv / "bin" / "rasa").exists():
        missing.append(f"{config.rasa_venv}/bin/rasa (run scripts/bootstrap)")
    return missing
