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
from django.test import Client, RequestFactory

from geopera_web.api.problems import ApiProblemMiddleware
from geopera_web.db.availability import Unavailable, database_unavailability, is_database_unavailable


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


def _assert_api_503(resp, *, unchanged: bool = True) -> None:
    assert resp.status_code == 503, resp.content[:300]
    assert resp["Content-Type"].startswith("application/problem+json")
    body = resp.json()
    assert body["status"] == 503 and body["type"].endswith("/service-unavailable")
    assert int(resp["Retry-After"]) > 0
    # "Nothing was changed" only when it is known: the failure was at connect time.
    assert ("Nothing was changed" in body["detail"]) is unchanged, body["detail"]
    assert body["outcome"] == ("unchanged" if unchanged else "unknown")


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
    assert b"Nothing you entered was changed" in resp.content


def test_a_refused_connection_and_a_terminated_backend_are_unavailability(transactional_db):
    conn = connections["default"]
    conn.ensure_connection()
    _terminate(conn.connection.info.backend_pid)
    with pytest.raises((OperationalError, InterfaceError)) as terminated, connection.cursor() as cur:
        cur.execute("SELECT 1")
    assert is_database_unavailable(terminated.value)
    assert is_database_unavailable(_refused_connect())


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


@pytest.mark.django_db
def test_a_query_libpq_refuses_on_a_healthy_connection_is_a_500_not_a_503():
    """More than 65,535 parameters bound server-side: psycopg raises OperationalError without a
    SQLSTATE, yet the connection is fine — a bug to fix, not an outage to retry forever. (Django's
    cursors bind client-side; a plain psycopg cursor on Django's connection binds server-side, and
    Django's own error wrapper turns its error into django.db.OperationalError.)"""
    from django.db import transaction

    params = list(range(65_536))
    placeholders = ",".join(["%s"] * len(params))
    with pytest.raises(OperationalError) as too_many, transaction.atomic():
        connection.ensure_connection()
        with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as raw:
            raw.execute(f"SELECT 1 WHERE 1 IN ({placeholders})", params)
    assert isinstance(too_many.value.__cause__, psycopg.OperationalError)
    assert too_many.value.__cause__.sqlstate is None
    assert database_unavailability(too_many.value) is None
    with connection.cursor() as cur:  # the connection really is still usable
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)
    request = RequestFactory().post("/v1/op/orders.list", data="{}", content_type="application/json")
    resp = ApiProblemMiddleware(lambda r: None).process_exception(request, too_many.value)
    assert resp is not None and resp.status_code == 500


def _refused_connect() -> OperationalError:
    """The error of connecting the default connection to a port nothing listens on (restored after)."""
    conn = connections["default"]
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
    return refused.value


def _terminate(pid: int) -> None:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_a_backend_killed_mid_request_is_503_with_an_unknown_outcome(transactional_db, api_operator):
    """The connection dies after the request has already sent a statement: a COMMIT in flight may
    have landed, so the 503 must not claim that nothing was changed."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    sent: list[str] = []

    def kill_before_the_second_statement(execute, sql, params, many, context):
        sent.append(sql)
        if len(sent) == 2:
            _terminate(pid)
        return execute(sql, params, many, context)

    try:
        with connection.execute_wrapper(kill_before_the_second_statement):
            resp = Client(raise_request_exception=False).post(
                "/v1/op/orders.list", data="{}", content_type="application/json", headers=api_operator.headers
            )
        assert len(sent) == 2  # one statement of this request ran before the backend died
        _assert_api_503(resp, unchanged=False)
        assert "Idempotency-Key" in resp.json()["detail"]
    finally:
        connection.close()


def test_a_backend_killed_under_a_read_only_page_still_says_nothing_changed(logged_in_client):
    connection.ensure_connection()
    _terminate(connection.connection.info.backend_pid)
    try:
        resp = logged_in_client.get("/")
        assert resp.status_code == 503
        assert b"Nothing you entered was changed" in resp.content
    finally:
        connection.close()


def test_connect_time_and_lost_connections_are_told_apart(transactional_db):
    conn = connections["default"]
    conn.ensure_connection()
    _terminate(conn.connection.info.backend_pid)
    with pytest.raises((OperationalError, InterfaceError)) as lost, connection.cursor() as cur:
        cur.execute("SELECT 1")
    assert database_unavailability(lost.value) is Unavailable.LOST
    assert database_unavailability(_refused_connect()) is Unavailable.CONNECT


def test_a_connect_refused_after_the_request_committed_is_not_told_nothing_changed(
    transactional_db, api_operator, monkeypatch
):
    """The request's first step commits (a charge), then its connection is lost and connecting
    again is refused: a CONNECT failure, yet the request did change something."""
    import dataclasses

    from geopera_web.api import registry
    from geopera_web.billing.models import Charge
    from geopera_web.billing.services import charge_authorize

    conn = connections["default"]
    saved = dict(conn.settings_dict)

    def reserve_then_lose_the_database(ctx, data):
        charge_authorize(org=ctx.org, credits=data["credits"], reference="test:then-down", actor=ctx.user)
        conn.close()
        conn.settings_dict.update(HOST="127.0.0.1", PORT=str(_closed_port()))
        return {"count": Charge.objects.count()}  # connecting again is refused

    op = registry.get_operation("test.spend")
    monkeypatch.setitem(
        registry._REGISTRY, "test.spend", dataclasses.replace(op, handler=reserve_then_lose_the_database)
    )
    try:
        resp = Client(raise_request_exception=False).post(
            "/v1/op/test.spend",
            data='{"credits": 10}',
            content_type="application/json",
            headers=api_operator.headers,
        )
    finally:
        conn.close()
        conn.settings_dict.clear()
        conn.settings_dict.update(saved)
    _assert_api_503(resp, unchanged=False)
    assert Charge.objects.filter(reference="test:then-down").count() == 1
