"""PostgreSQL restarted under a running web: a private cluster of our own (initdb into a temporary
directory with the system's PostgreSQL 15 binaries, its own port; the machine's shared server is
never touched), migrated, with its own gunicorn; the cluster is restarted and the same gunicorn
must answer the next requests (CONN_HEALTH_CHECKS drops the dead connections) without a restart.
Everything started is stopped by its data directory / PID at the end."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.faults.procs import ROOT, VENV_BIN, Stack, free_port, redis_stack

pytestmark = pytest.mark.fault

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _as_postgres(*argv: str) -> list[str]:
    """initdb and pg_ctl refuse to run as root: run them as the postgres user when we are root."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else list(argv)


class PrivateCluster:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="geopera-pg-"))
        if os.geteuid() == 0:
            os.chown(self.dir, pwd.getpwnam("postgres").pw_uid, -1)
        self.data = self.dir / "data"
        self.port = free_port()
        self.url = f"postgis://geopera@127.0.0.1:{self.port}/geopera_private"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args), check=True, capture_output=True
        )

    def init(self) -> None:
        subprocess.run(
            _as_postgres(
                str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "geopera", "--auth=trust", "--no-sync"
            ),
            check=True,
            capture_output=True,
        )
        self.start()
        psql = [
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "geopera",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
        ]
        subprocess.run([*psql, "-d", "postgres", "-c", "CREATE DATABASE geopera_private"], check=True)
        subprocess.run([*psql, "-d", "geopera_private", "-c", "CREATE EXTENSION postgis"], check=True)

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-o", opts, "-l", str(self.dir / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def _manage(url: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    env |= {"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "geopera_web.settings"}
    return subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


_TOKEN = """
from geopera_web.accounts.services import user_token_create
from tests.factories import make_org, make_user
org = make_org(name="Restart Org", credits=1000)
user = make_user(org=org, role="operator", email="op@restart.example")
print(user_token_create(user=user, org=org)[1])
"""


@pytest.fixture(scope="module")
def cluster(fault_tmp) -> Iterator[tuple[PrivateCluster, Stack, dict]]:
    pg = PrivateCluster()
    try:
        pg.init()
        _manage(pg.url, "migrate", "-v0")
        token = _manage(pg.url, "shell", "-c", _TOKEN).strip().splitlines()[-1]
        with redis_stack(fault_tmp, "geopera_private") as stack:
            stack.web_proc, stack.web_url = stack.web(DATABASE_URL=pg.url, DB_CONN_MAX_AGE="600")
            yield pg, stack, {"Authorization": f"Bearer {token}"}
    finally:
        pg.destroy()


def _list(stack: Stack, headers: dict) -> httpx.Response:
    return httpx.post(stack.web_url + "/v1/op/orders.list", json={}, headers=headers, timeout=15)


def test_postgres_restarted_under_the_web_the_next_requests_succeed(cluster):
    pg, stack, headers = cluster
    # Persistent connections (CONN_MAX_AGE) are open in every gunicorn thread.
    for _ in range(8):
        assert _list(stack, headers).status_code == 200
    pg.stop("fast")  # terminates every backend: the web's connections are now dead
    down = _list(stack, headers)
    # While the database is away a request is a clean 503 problem to retry, never a hang or a 500.
    assert down.status_code == 503, down.text
    assert int(down.headers["retry-after"]) > 0
    assert down.headers["content-type"].startswith("application/problem+json"), down.text
    pg.start()
    answers = [_list(stack, headers) for _ in range(12)]
    assert [a.status_code for a in answers] == [200] * 12, [
        a.text[:200] for a in answers if a.status_code != 200
    ]
    assert stack.web_proc.alive()  # the same gunicorn, not restarted


def test_postgres_restart_in_one_go_loses_at_most_one_request(cluster):
    pg, stack, headers = cluster
    for _ in range(8):
        assert _list(stack, headers).status_code == 200
    pg._ctl("-m", "fast", "-l", str(pg.dir / "log"), "-w", "restart")  # -l: never our pipe
    answers = [_list(stack, headers) for _ in range(12)]
    assert [a.status_code for a in answers] == [200] * 12, [
        a.text[:200] for a in answers if a.status_code != 200
    ]
    assert stack.web_proc.alive()  # the same gunicorn, not restarted
