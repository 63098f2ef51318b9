"""While PostgreSQL refuses connections (down, max_connections reached, our connection cut) a
request answers 503 with Retry-After — problem+json under /v1, a 503 page elsewhere — and never a
500. Real refusals: the default connection is pointed at a closed port on this machine; a real
backend is terminated with pg_terminate_backend. Other database errors are not a 503."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import psycopg
import pytest
from django.db import InterfaceError, OperationalError, connection, connections
from django.test import Client

from geopera_web.db.availability import is_database_unavailable


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens here once the socket is closed


@pytest.fixture
def database_down(transactional_db) -> Iterator[None]:
    conn = connections["default"]
    saved = dict(conn.settings_dict)
    conn.close()
    conn.settings_dict.update(HOST="127.0.0.1", PORT=str(_closed_port()))
    try:
        yield
    finally:
        conn.close()
        conn.settings_dict.clear()
        conn.settings_dict.update(saved)


@pytest.fixture
def logged_in_client(transactional_db, operator_user) -> Client:
    # As a real server does: an exception becomes the error handler's response, not a raise.
    client = Client(raise_request_exception=False)
    client.force_login(operator_user)
    return client


def _assert_api_503(resp) -> None:
    assert resp.status_code == 503, resp.content[:300]
    assert resp["Content-Type"].startswith("application/problem+json")
    body = resp.json()
    assert body["status"] == 503 and body["type"].endswith("/service-unavailable")
    assert int(resp["Retry-After"]) > 0


def test_api_view_answers_503_problem_while_the_database_refuses(transactional_db, api_operator, request):
    headers = api_operator.headers
    request.getfixturevalue("database_down")
    resp = Client(raise_request_exception=False).post(
        "/v1/op/orders.list", data="{}", content_type="application/json", headers=headers
    )
    _assert_api_503(resp)


def test_api_with_a_session_fails_in_middleware_and_still_answers_503_problem(logged_in_client, request):
    request.getfixturevalue("database_down")
    resp = logged_in_client.post("/v1/op/orders.list", data="{}", content_type="application/json")
    _assert_api_503(resp)


def test_html_page_answers_a_503_page_while_the_database_refuses(logged_in_client, request):
    request.getfixturevalue("database_down")
    resp = logged_in_client.get("/")
    assert resp.status_code == 503
    assert resp["Content-Type"].startswith("text/html")
    assert int(resp["Retry-After"]) > 0
    assert b"briefly unavailable" in resp.content


def test_a_refused_connection_and_a_terminated_backend_are_unavailability(transactional_db):
    conn = connections["default"]
    conn.ensure_connection()
    pid = conn.connection.info.backend_pid
    params = conn.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    with pytest.raises((OperationalError, InterfaceError)) as terminated, connection.cursor() as cur:
        cur.execute("SELECT 1")
    assert is_database_unavailable(terminated.value)
    conn.close()
    saved = dict(conn.settings_dict)
    conn.settings_dict.update(HOST="127.0.0.1", PORT=str(_closed_port()))
    try:
        with pytest.raises(OperationalError) as refused:
            conn.ensure_connection()
    finally:
        conn.close()
        conn.settings_dict.clear()
        conn.settings_dict.update(saved)
    assert is_database_unavailable(refused.value)


@pytest.mark.django_db
def test_other_database_errors_are_not_unavailability():
    from django.db import DatabaseError, transaction

    # QueryCanceled: a query's fault, not the server's.
    with pytest.raises(OperationalError) as timed_out, transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL statement_timeout = 1")
        cur.execute("SELECT pg_sleep(1)")
    assert not is_database_unavailable(timed_out.value)
    with pytest.raises(DatabaseError) as bad_sql, transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT * FROM no_such_table_here")
    assert not is_database_unavailable(bad_sql.value)
