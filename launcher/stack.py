"""The ShopDesk stack as processes: prepare what is missing, start, wait until healthy, stop.

Used by `python -m launcher run` and by the end-to-end tests, so tests run the real thing.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import stat
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal

from sqlalchemy.engine import make_url

from catalog.settings import CatalogSettings
from connectors.settings import ConnectorSettings
from core.paths import PROJECT_ROOT, VAR_DIR
from core.settings import SettingsError
from launcher.ports import HOST, port_in_use
from launcher.scaled import (
    PORT_STEP,
    ScaledSettings,
    ScaledSetupError,
    check_redis,
    deployment_from_env,
    ensure_database,
)
from launcher.settings import StackSettings
from launcher.shop_domain import ShopDomainError, write_domain

ROOT = PROJECT_ROOT  # the name launcher code and its tests use
# The shop's data (databases, logs with shoppers' messages, the session key) is its owner's
# alone: folders 0700, files 0600, and every process started with a umask that keeps it so.
PRIVATE_UMASK = 0o077
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
# Files SQLite keeps beside a database, with the database's rows in them.
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
# web/settings.py's key that signs shoppers' session ids (kept here: no import of web/).
WEB_SECRET_FILE = VAR_DIR / "web_secret.key"
# In the log folder: the launcher's restart counts, which the web server's /health shows
# (launcher/supervise.py writes it, web/restarts.py reads it).
RESTARTS_FILE_NAME = "restarts.json"

# What each process is: it decides which secrets its environment holds.
Role = Literal["classifier", "actions", "rasa", "web", "tool"]
# Each variable that holds a secret (a token, a password, a URL that may hold a password) and
# the only processes that get it. "tool": the preparation steps and commands run beside the
# stack (catalog load, training, `web agents`, learning): they need the databases, no tokens.
# Rasa's token also stays in the launcher itself, which plays test stories over Rasa's API.
SECRET_RECIPIENTS: dict[str, frozenset[Role]] = {
    "SHOPDESK_RASA_TOKEN": frozenset({"rasa", "web"}),
    "SHOPDESK_INTERNAL_TOKEN": frozenset({"rasa", "actions", "classifier"}),
    "SHOPDESK_WEB_SECRET": frozenset({"web"}),
    "SHOPDESK_ADMIN_PASSWORD": frozenset({"web"}),
    "SHOPDESK_DATABASE_URL": frozenset({"actions", "web", "tool"}),
    "SHOPDESK_TRACKER_DB_URL": frozenset({"rasa", "actions", "web", "tool"}),
    # the connected shop's API key (connectors/settings.py): orders for the actions, products
    # for the catalog's sync (the web server's scheduled one, and `python -m catalog.cli sync`)
    "SHOPDESK_SHOP_API_TOKEN": frozenset({"actions", "web", "tool"}),
    "SHOPDESK_SHOP_API_TOKEN_FILE": frozenset({"actions", "web", "tool"}),
    # read by the launcher only (launcher/scaled.py), which hands on the two URLs above
    "SHOPDESK_POSTGRES_URL": frozenset(),
    "SHOPDESK_REDIS_URL": frozenset({"rasa"}),
    "SHOPDESK_REDIS_USERNAME": frozenset({"rasa"}),
    "SHOPDESK_REDIS_PASSWORD": frozenset({"rasa"}),
}
# Of the user's own environment only these pass (any SHOPDESK_* setting too, secrets routed
# as above): what Python, the locale, caches, offline switches and proxies need.
PASSED_VARIABLES = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TERM", "TMPDIR",
        "TEMP", "TMP", "CI", "LD_LIBRARY_PATH", "SSL_CERT_FILE", "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS", "TOKENIZERS_PARALLELISM", "SENTENCE_TRANSFORMERS_HOME",
        "TORCH_HOME", "NO_COLOR", "FORCE_COLOR", "COLUMNS", "http_proxy", "https_proxy",
        "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
        "FORWARDED_ALLOW_IPS",  # uvicorn's trusted proxies (docs/deployment.md)
    }
)  # fmt: skip
PASSED_PREFIXES = (
    "SHOPDESK_", "LC_", "PYTHON", "XDG_", "TF_", "HF_", "TRANSFORMERS_", "RASA_", "SANIC_",
    "CUDA_", "SQLALCHEMY_", "COVERAGE_", "UVICORN_",
)  # fmt: skip
# A variable of the user's with a name like these is kept from every process unless it is
# one of ours above (e.g. HF_TOKEN: the models are local).
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|API_KEY|ACCESS_KEY|PRIVATE")


class StackError(RuntimeError):
    """A step failed; the message says which and where its log is."""


def stack_settings() -> StackSettings:
    """The launcher's settings from the environment (StackError for a bad value)."""
    try:
        return StackSettings.from_env()
    except SettingsError as error:
        raise StackError(str(error)) from None


def rasa_token_from_env() -> str:
    """Rasa's HTTP API token: SHOPDESK_RASA_TOKEN, or a new random one (never a constant)."""
    return stack_settings().rasa_token or secrets.token_urlsafe(32)


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
        given = stack_settings()
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
            rasa_port=given.rasa_port,
            actions_port=given.actions_port,
            nlu_port=given.nlu_port,
            web_port=given.web_port,
            tracker_db=Path(given.tracker_db) if given.tracker_db else default.tracker_db,
            rasa_token=given.rasa_token or secrets.token_urlsafe(32),
            internal_token=given.internal_token or secrets.token_urlsafe(32),
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
    def restarts_file(self) -> Path:
        return self.log_dir / RESTARTS_FILE_NAME

    @property
    def nlu_url(self) -> str:
        return f"http://{HOST}:{self.nlu_port}"

    @property
    def web_url(self) -> str:
        return f"http://{HOST}:{self.web_port}"

    @property
    def chat_url(self) -> str:
        return f"{self.rasa_url}/webhooks/rest/webhook"

    def env(self, role: Role = "tool", environ: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of a process of this kind: the user's harmless variables (of
        `environ`, default os.environ), the stack's settings, and only the secrets that this
        kind of process uses."""
        env = passed_environment(os.environ if environ is None else environ)
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
                "SHOPDESK_RESTARTS_FILE": str(self.restarts_file),
                "SANIC_HOST": HOST,  # rasa_sdk binds to 0.0.0.0 unless told
                "TF_CPP_MIN_LOG_LEVEL": "2",
                # Rasa's telemetry would send usage data and crash reports (with tracebacks) to
                # Rasa's servers; a shop's assistant sends nothing outside.
                "RASA_TELEMETRY_ENABLED": "false",
            }
        )
        env.update(self.extra_env)
        return {
            name: value
            for name, value in env.items()
            if name not in SECRET_RECIPIENTS or role in SECRET_RECIPIENTS[name]
        }


def passed_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The variables of the user's environment that the stack's processes may see: those
    they need to run (PATH, HOME, locale, PYTHON*, SHOPDESK_* settings, offline switches),
    not whatever else the shell holds (cloud keys, other programs' tokens)."""
    return {
        name: value
        for name, value in environ.items()
        if (name in PASSED_VARIABLES or name.startswith(PASSED_PREFIXES))
        and (name in SECRET_RECIPIENTS or not SECRET_NAME.search(name.upper()))
    }


def in_root(path: Path) -> Path:
    """`path` as the processes see it: they run in the repository's root."""
    return (ROOT / path.expanduser()).resolve()


def shop_database_file(env: Mapping[str, str]) -> Path | None:
    """The catalog's SQLite file as catalog/settings.py finds it in `env`; None for a
    server database."""
    if url := env.get("SHOPDESK_DATABASE_URL", "").strip():
        parsed = make_url(url)
        database = parsed.database or ""
        if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
            return None
        return in_root(Path(database))
    path = env.get("SHOPDESK_DB_PATH", "").strip()
    return in_root(Path(path)) if path else VAR_DIR / "shopdesk.sqlite3"


def make_private_dir(path: Path) -> None:
    """Create `path` and its missing parents readable by the owner only (an existing folder
    outside var/ is left as it is: it may be shared, as /tmp)."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
        folder.chmod(PRIVATE_DIR_MODE)


def _ours(path: Path) -> bool:
    resolved = path.resolve()
    return resolved == VAR_DIR or VAR_DIR in resolved.parents


def _tighten(path: Path, mode: int) -> str | None:
    """chmod `path` to `mode` if it has more bits; what was done, for the warning."""
    try:
        before = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None
    if before & ~mode == 0:
        return None
    try:
        path.chmod(before & mode)
    except OSError as error:  # another owner's file, a read-only file system
        return f"{path} (mode {before:o}, unchanged: {error.strerror}; change it by hand)"
    return f"{path} (was {before:o})"


def private_files(config: StackConfig) -> Iterator[tuple[Path, int]]:
    """The folders and files that hold the shop's data, with the mode each must not exceed."""
    if VAR_DIR.exists():
        yield VAR_DIR, PRIVATE_DIR_MODE
    if config.log_dir.exists():
        if _ours(config.log_dir):
            yield config.log_dir, PRIVATE_DIR_MODE
        for log in config.log_dir.glob("*.log"):
            yield log, PRIVATE_FILE_MODE
    databases = [shop_database_file(config.env()), in_root(config.tracker_db)]
    for database in (d for d in databases if d is not None):
        for path in (database, *(Path(f"{database}{side}") for side in SQLITE_SIDE_FILES)):
            yield path, PRIVATE_FILE_MODE
    yield WEB_SECRET_FILE, PRIVATE_FILE_MODE


def secure_files(config: StackConfig) -> list[str]:
    """Make the stack's folders and files private: create the log folder and the databases'
    folders 0700, take group and other bits off what exists (left from before, or made under
    another umask). Returns what it tightened, which the launcher shows."""
    make_private_dir(config.log_dir)
    make_private_dir(in_root(config.tracker_db).parent)
    if shop := shop_database_file(config.env()):
        make_private_dir(shop.parent)
    changed = (_tighten(path, mode) for path, mode in private_files(config))
    return [change for change in changed if change]


def _warn_tightened(config: StackConfig) -> None:
    if tightened := secure_files(config):
        print(
            "==> other users could read these; now only you can:\n"
            + "\n".join(f"    {change}" for change in tightened),
            flush=True,
        )


def run_step(title: str, command: Sequence[str], config: StackConfig) -> None:
    """A preparation step in the foreground, its output (progress bars) shown as it runs."""
    print(f"==> {title}", flush=True)
    started = time.monotonic()
    result = subprocess.run(
        list(command), cwd=ROOT, env=config.env(), umask=PRIVATE_UMASK, check=False
    )
    if result.returncode != 0:
        raise StackError(f"{title} failed (exit {result.returncode})")
    print(f"    {title}: done in {time.monotonic() - started:.1f}s", flush=True)


def check_connector(config: StackConfig) -> None:
    """Stop before starting anything when the shop's order system is chosen but cannot be
    reached as set (no API address, no token, a token file others can read): the sentence
    says which setting, instead of every order question failing later."""
    try:
        chosen = ConnectorSettings.from_env(config.env("actions"))
        if chosen.remote:
            chosen.url()
            chosen.token()
    except SettingsError as error:
        raise StackError(f"the shop's order system: {error}") from None
    if chosen.remote:
        print(f"==> orders from {chosen.orders} at {chosen.api_url}", flush=True)


def prepare(config: StackConfig) -> None:
    """Load the catalog, train the classifier and the Rasa model if they are missing or stale;
    in the scaled setup first see that PostgreSQL (its database created) and Redis answer."""
    _warn_tightened(config)
    check_connector(config)
    if config.deployment == "scaled":
        print("==> PostgreSQL and Redis (the scaled setup)", flush=True)
        try:
            if ensure_database(config.env()["SHOPDESK_DATABASE_URL"]):
                print("    created the database", flush=True)
            check_redis(config.env("rasa")["SHOPDESK_REDIS_URL"])
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
            str(shop_domain(config)),
            "--data",
            "bot/data",
            "--out",
            str(config.rasa_model_dir),
            "--fixed-model-name",
            "shopdesk",
        ],
        config,
    )


def shop_domain(config: StackConfig) -> Path:
    """bot/domain.yml with the shop's name from its shop.yml (launcher/shop_domain.py),
    beside the Rasa model folder; StackError when shop.yml cannot be read."""
    shop_file = in_root(CatalogSettings.from_env(config.env()).shop_settings)
    target = config.rasa_model_dir.with_name(f"{config.rasa_model_dir.name}_domain")
    try:
        return write_domain(ROOT, shop_file, target / "domain.yml")
    except ShopDomainError as error:
        raise StackError(f"the shop's name for the greeting: {error}") from None


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(200 <= response.status < 300)
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Service:
    name: str
    role: Role
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
    """`rasa run ...` through bot/shopdesk_rasa/run.py, which hands Rasa its API token from
    SHOPDESK_RASA_TOKEN: on the command line every local user could read it (`ps`)."""
    return [
        str(config.rasa_venv / "bin" / "python"),
        "-m",
        "shopdesk_rasa.run",
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
        # the HTTP API (trackers, for `launcher stories`), behind the token in the environment
        "--enable-api",
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
                "actions",
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
                "rasa",
                rasa_command(config, port),
                port,
                f"{url}/webhooks/rest/",
                # each Rasa instance calls one action server; with as many of each, its own
                env={"SHOPDESK_ACTIONS_URL": f"{actions}/webhook"},
            )
        self.services["web"] = Service(
            "web",
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
        _warn_tightened(self.config)
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
        # made 0600: the logs hold what shoppers wrote
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        with os.fdopen(os.open(service.log_path, flags, PRIVATE_FILE_MODE), "ab") as log:
            service.process = subprocess.Popen(
                service.command,
                cwd=ROOT,
                env={**self.config.env(service.role), **service.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                umask=PRIVATE_UMASK,
            )

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
