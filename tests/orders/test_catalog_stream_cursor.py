"""catalog.search_stream reads a plain server-side cursor inside a transaction. Outside one, Django
declares its cursor WITH HOLD, and PostgreSQL materialises the whole result before the first row
(at catalog scale: seconds and a temp file the size of the result). The test runs outside any test
transaction (transaction=True), where the old code did exactly that."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from .conftest import box, make_capture, utc

HOST = "geopera-sim"


def open_cursors() -> list[tuple[bool, str]]:
    with connection.cursor() as c:
        c.execute("SELECT is_holdable, statement FROM pg_cursors")
        return list(c.fetchall())


@pytest.mark.django_db(transaction=True)
def test_stream_reads_a_cursor_that_is_not_with_hold_and_ends_its_transaction(products, api_operator):
    for i in range(12):
        make_capture(
            f"STR-{i:02d}", footprint=box(151.0, -34.0, 151.2, -33.8), acquired_at=utc(2024, 1, 1 + i)
        )
    resp = api_operator.post("catalog.search_stream", {"host_name": HOST})
    assert resp.status_code == 200
    stream = iter(resp.streaming_content)
    first = json.loads(next(stream))
    assert first["id"] == "STR-11"
    # While the stream is open: one cursor, declared without HOLD, inside a transaction.
    cursors = open_cursors()
    assert len(cursors) == 1, cursors
    holdable, statement = cursors[0]
    assert holdable is False and "orders_capture" in statement
    assert connection.in_atomic_block
    rest = [json.loads(line) for line in stream]
    assert [i["id"] for i in rest] == [f"STR-{i:02d}" for i in range(10, -1, -1)]
    # Done: the cursor is closed and the transaction over.
    assert open_cursors() == [] and not connection.in_atomic_block


@pytest.mark.django_db(transaction=True)
def test_a_stream_closed_early_releases_its_cursor_and_transaction(products, api_operator):
    for i in range(5):
        make_capture(f"EAR-{i}", footprint=box(151.0, -34.0, 151.2, -33.8), acquired_at=utc(2024, 2, 1 + i))
    resp = api_operator.post("catalog.search_stream", {"host_name": HOST})
    stream = iter(resp.streaming_content)
    next(stream)
    assert len(open_cursors()) == 1
    resp.close()  # the client went away: the server closes the response (and its generator)
    assert open_cursors() == [] and not connection.in_atomic_block
