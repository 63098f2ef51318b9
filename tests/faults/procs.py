"""Real processes for fault tests: redis-server, gunicorn, Celery workers and beats of this checkout,
started against the test database, killed by the PIDs we started (never by name), and cleaned up."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate: Callable[[], Any], *, timeout: float, interval: float = 0.1, what: str = "") -> Any:
    """Poll until `predicate()` is truthy (returned) or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except Exception as exc:  # noqa: BLE001 - a process still starting
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}: last={last!r}")


@dataclass
class Proc:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen | None = None

    def start(self) -> Proc:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = self.log.open("ab")
        self.popen = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        out.close()
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the process group we started (the process and its children, e.g. prefork pool)."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, sig)

    def stop(self, timeout: float = 10) -> None:
        if self.popen is None:
            return
        self.kill(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill(signal.SIGKILL)
            self.popen.wait(5)
        # The group may keep children (a pool process) after the parent has gone.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)


@dataclass
class Stack:
    """A set of processes of one test module against the test database."""

    tmp: Path
    env: dict[str, str]
    procs: list[Proc] = field(default_factory=list)
    web_url: str = ""

    def spawn(self, name: str, argv: list[str], **env: str) -> Proc:
        n = sum(1 for p in self.procs if p.name.startswith(name))
        proc = Proc(f"{name}{n}", argv, {**self.env, **env}, self.tmp / f"{name}{n}.log").start()
        self.procs.append(proc)
        return proc

    def redis(self, port: int | None = None) -> tuple[Proc, int]:
        """A redis-server of our own; append-only with fsync always, so a restart keeps the queue
        (as the broker must in production)."""
        port = port or free_port()
        data = self.tmp / f"redis-{port}"
        data.mkdir(exist_ok=True)
        proc = self.spawn(
            "redis",
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(data),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ],
        )
        wait_for(lambda: _redis_ping(port), timeout=10, what=f"redis on {port}")
        return proc, port

    def web(self, port: int | None = None, **env: str) -> tuple[Proc, str]:
        port = port or free_port()
        proc = self.spawn(
            "web",
            [
                str(VENV_BIN / "gunicorn"),
                "geopera_web.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                "4",
                "--timeout",
                "30",
                "--graceful-timeout",
                "2",
            ],
            **env,
        )
        url = f"http://127.0.0.1:{port}"
        wait_for(
            lambda: httpx.get(url + "/healthz", timeout=2).status_code == 200, timeout=30, what="gunicorn"
        )
        return proc, url

    def worker(self, *, concurrency: int = 2, **env: str) -> Proc:
        name = f"w{uuid.uuid4().hex[:6]}@faults"
        return self.spawn(
            "worker",
            [
                str(VENV_BIN / "celery"),
                "-A",
                "geopera_web",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                str(concurrency),
                "--hostname",
                name,
                "--without-gossip",
                "--without-mingle",
            ],
            **env,
        )

    def beat(self, **env: str) -> Proc:
        schedule = self.tmp / f"beat-{uuid.uuid4().hex[:6]}"
        return self.spawn(
            "beat",
            [
                str(VENV_BIN / "celery"),
                "-A",
                "geopera_web",
                "beat",
                "--loglevel",
                "INFO",
                "-s",
                str(schedule),
            ],
            **env,
        )

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()

    def logs(self) -> str:
        return "\n".join(f"===== {p.name} (pid {p.pid})\n{p.text()[-4000:]}" for p in self.procs)


def _redis_ping(port: int) -> bool:
    import redis

    return bool(redis.Redis(port=port, socket_connect_timeout=0.5).ping())


def stack_env(*, db_name: str, broker_url: str, cache_url: str, **extra: str) -> dict[str, str]:
    """The environment of every process of a fault test: the test database, its own queue and cache
    namespace, fast intervals (heartbeats, polls, visibility timeout) so recovery is quick."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    from django.conf import settings

    db = settings.DATABASES["default"]
    env.update(
        DJANGO_SETTINGS_MODULE="geopera_web.settings",
        DATABASE_URL=f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db_name}",
        REDIS_URL=broker_url,
        CELERY_BROKER_URL=broker_url,
        CELERY_RESULT_BACKEND=broker_url,
        CACHE_URL=cache_url,
        CELERY_QUEUE=f"faults-{uuid.uuid4().hex[:8]}",
        CACHE_KEY_PREFIX=f"faults-{uuid.uuid4().hex[:8]}",
        HEARTBEAT_INTERVAL_SECONDS="1",
        READY_HEARTBEAT_MAX_AGE_SECONDS="4",
        CELERY_BEAT_MAX_LOOP_INTERVAL="1",
        PROVIDER_POLL_SECONDS="2",
        CELERY_VISIBILITY_TIMEOUT="6",
        SWEEP_INTERVAL_SECONDS="2",
        SWEEP_GRACE_SECONDS="2",
        SIM_ARCHIVE_DELAY_SECONDS="0",
        SIM_ARCHIVE_FAILURE_RATE="0",
        BASEMAP_URL="",
        LOGIN_THROTTLE_ENABLED="false",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@contextlib.contextmanager
def redis_stack(tmp: Path, db_name: str, **env: str) -> Iterator[Stack]:
    """A Stack with a broker and a cache redis-server of its own and the environment of its
    processes set (`stack_env` + `env`); the caller starts the processes it needs. Every process
    started is stopped at the end, by its PID."""
    s = Stack(tmp=tmp, env={})
    try:
        s.broker_redis, s.broker_port = s.redis()
        s.cache_redis, s.cache_port = s.redis()
        s.env = stack_env(
            db_name=db_name,
            broker_url=f"redis://127.0.0.1:{s.broker_port}/0",
            cache_url=f"redis://127.0.0.1:{s.cache_port}/0",
            **env,
        )
        s.db_name = db_name
        yield s
    finally:
        s.stop_all()


@dataclass
class Shop:
    """An org with credits, an operator with a bearer token, and priced archive captures."""

    org: Any
    user: Any
    headers: dict[str, str]
    scenes: list[str]


def make_shop(*, label: str, lon: float, lat: float, captures: int = 2) -> Shop:
    from geopera_web.accounts.services import user_token_create
    from tests.factories import make_org, make_priced_capture, make_product, make_user

    tag = uuid.uuid4().hex[:6]
    org = make_org(name=f"{label} Org {tag}", credits=1_000_000)
    user = make_user(org=org, role="operator", email=f"op-{tag}@{label.lower()}.example")
    product = make_product(rate=100, min_area=1.0)
    scenes = [
        make_priced_capture(product=product, bounds=(lon + i / 10, lat, lon + 0.05 + i / 10, lat + 0.05))
        for i in range(captures)
    ]
    _, token = user_token_create(user=user, org=org)
    return Shop(org, user, {"Authorization": f"Bearer {token}"}, [c.scene_id for c in scenes])


def conninfo() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    return psycopg.conninfo.make_conninfo(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
    )


@contextlib.contextmanager
def row_locked(model: type, pk: object) -> Iterator[psycopg.Connection]:
    """Hold `SELECT … FOR UPDATE` on one row in a connection of our own until the block ends."""
    table, column = model._meta.db_table, model._meta.pk.column
    conn = psycopg.connect(conninfo())
    try:
        conn.execute(f'SELECT 1 FROM "{table}" WHERE "{column}" = %s FOR UPDATE', [pk])  # noqa: S608
        yield conn
    finally:
        conn.rollback()
        conn.close()


def blocked_backends(lock_conn: psycopg.Connection) -> list[int]:
    """Backends of the test database waiting for a lock our connection holds. Asked on a
    connection of its own: inside the lock's transaction pg_stat_activity is a frozen snapshot."""
    with psycopg.connect(conninfo(), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND %s = ANY(pg_blocking_pids(pid))",
            [lock_conn.info.backend_pid],
        ).fetchall()
    return [r[0] for r in rows]
