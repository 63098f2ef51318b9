"""Shared fixtures. Everything runs against the real PostgreSQL + PostGIS database, the real
Redis (Celery integration tests), and Debian's Chromium (browser tests)."""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

# Playwright's sync API runs an event loop in the test thread; Django must allow ORM calls there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = ["celery.contrib.pytest"]

from tests.browser.chromium import CHROMIUM_ARGS  # noqa: E402
from tests.factories import make_org, make_user  # noqa: E402

DEMO_PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _test_settings(settings, request):
    # Map tiles cannot load here; maps must work (and look right) without them.
    settings.BASEMAP_URL = ""
    settings.SIMULATED_PROVIDER = {"ARCHIVE_DELAY_SECONDS": 0, "ARCHIVE_FAILURE_RATE": 0.0, "SEED": 7}
    # Each test gets its own cache namespace (throttling, the test gateway's 3-D Secure state).
    # (Changing CACHES makes Django's test signal handlers drop the old cache connections.)
    settings.CACHES = {
        **settings.CACHES,
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"t-{uuid.uuid4().hex}"},
    }
    # Unit tests run task bodies inline; tests marked `celery` use a real worker instead.
    from geopera_web.celery import app

    eager = request.node.get_closest_marker("celery") is None
    app.conf.task_always_eager = eager
    app.conf.task_eager_propagates = eager
    yield
    app.conf.task_always_eager = False


# --- people and orgs -----------------------------------------------------------------------------


@pytest.fixture
def org(db):
    return make_org(name="Acme Test Org", credits=100_000)


@pytest.fixture
def other_org(db):
    return make_org(name="Other Test Org", credits=100_000)


@pytest.fixture
def admin_user(org):
    return make_user(org=org, role="admin", email="admin@acme.example")


@pytest.fixture
def operator_user(org):
    return make_user(org=org, role="operator", email="operator@acme.example")


@pytest.fixture
def viewer_user(org):
    return make_user(org=org, role="viewer", email="viewer@acme.example")


@pytest.fixture
def other_admin(other_org):
    return make_user(org=other_org, role="admin", email="admin@other.example")


@pytest.fixture
def staff_user(db):
    return make_user(org=None, role=None, email="support@geopera.example", staff=True)


# --- API clients ---------------------------------------------------------------------------------


@dataclass
class ApiCaller:
    client: Client
    headers: dict[str, str]

    def post(
        self,
        op: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        route: bool = False,
    ):
        path = "/v1/" + op.replace(".", "/") if route else f"/v1/op/{op}"
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(
            path, data=data, content_type="application/json", headers={**self.headers, **(headers or {})}
        )

    def get(self, path: str, **params: Any):
        return self.client.get(path, params, headers=self.headers)


def caller_for_user(user, org=None) -> ApiCaller:
    from geopera_web.accounts.services import user_token_create

    _, raw = user_token_create(user=user, org=org)
    return ApiCaller(Client(), {"Authorization": f"Bearer {raw}"})


def caller_for_key(org, scopes=("catalog:read", "items:read", "orders:read", "orders:write")) -> ApiCaller:
    from geopera_web.accounts.services import api_key_create

    _, raw = api_key_create(org=org, name=f"test key {uuid.uuid4().hex[:6]}", scopes=scopes)
    return ApiCaller(Client(), {"X-API-Key": raw})


@pytest.fixture
def api_admin(admin_user, org) -> ApiCaller:
    return caller_for_user(admin_user, org)


@pytest.fixture
def api_operator(operator_user, org) -> ApiCaller:
    return caller_for_user(operator_user, org)


@pytest.fixture
def api_viewer(viewer_user, org) -> ApiCaller:
    return caller_for_user(viewer_user, org)


@pytest.fixture
def api_other(other_admin, other_org) -> ApiCaller:
    return caller_for_user(other_admin, other_org)


@pytest.fixture
def api_key_caller(org) -> ApiCaller:
    return caller_for_key(org)


# --- Celery (real worker, real Redis) ------------------------------------------------------------


@pytest.fixture(scope="session")
def celery_config():
    from django.conf import settings

    return {
        "broker_url": settings.CELERY_BROKER_URL,
        "result_backend": settings.CELERY_RESULT_BACKEND,
        # A queue of our own, so a `make demo` worker on the same machine never takes test tasks.
        "task_default_queue": f"geopera-test-{uuid.uuid4().hex[:8]}",
        "task_acks_late": True,
    }


@pytest.fixture(scope="session")
def celery_includes():
    return ["celery.contrib.testing.tasks", "geopera_web.api.tasks", "geopera_web.events.tasks"]


@pytest.fixture(scope="session")
def celery_worker_parameters():
    return {"perform_ping_check": False}


# --- Browser (Playwright + Debian Chromium) ------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1440, "height": 900}, "locale": "en-AU"}


@pytest.fixture
def page(page, request):
    """Every browser test fails on a CSP violation, an uncaught script error or any other console
    error (the server sends its real Content-Security-Policy to the live server's pages too).
    A test that provokes an expected error names it: `@pytest.mark.allow_console_errors(r"regex")`."""
    problems: list[str] = []

    def on_console(msg) -> None:
        if msg.type == "error":
            problems.append(f"console error: {msg.text} ({msg.location.get('url', '')})")

    page.on("console", on_console)
    # Playwright evaluates a bare-expression predicate with eval() inside the page, which the CSP
    # refuses; a function predicate is compiled outside the page's CSP. Wrap bare expressions.
    wait_for_function = page.wait_for_function

    def wait_for_function_csp_safe(expression: str, **kwargs):
        text = expression.strip()
        if not (text.startswith(("function", "async ")) or re.match(r"^\(?[\w\s,]*\)?\s*=>", text)):
            expression = f"() => ({expression})"
        return wait_for_function(expression, **kwargs)

    page.wait_for_function = wait_for_function_csp_safe
    page.on("pageerror", lambda exc: problems.append(f"uncaught error: {exc} {getattr(exc, 'stack', '')}"))
    yield page
    allowed = [re.compile(p) for m in request.node.iter_markers("allow_console_errors") for p in m.args]
    # A 4xx answer that the page shows (a toast, a form error) is the product working; a missing
    # static file or favicon is not.
    allowed.append(re.compile(r"status of 4\d\d \([^)]*\) \(http://[^/]+/(?!static/|favicon)"))
    unexpected = [p for p in problems if not any(a.search(p) for a in allowed)]
    assert not unexpected, "the browser reported:\n" + "\n".join(unexpected)


@pytest.fixture
def login(live_server, page):
    """Sign a user in through the real login form; returns the page on the dashboard."""

    def do_login(user, password: str = DEMO_PASSWORD):
        page.goto(live_server.url + "/login/")
        page.fill("#id_username", user.email)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    return do_login
