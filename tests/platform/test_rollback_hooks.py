"""`on_rollback`: an external side effect is undone exactly when the transaction (or savepoint)
that made it rolls back, and never when it commits."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from geopera_web.db import on_rollback


class Boom(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_undo_runs_when_the_transaction_rolls_back_and_not_when_it_commits():
    undone: list[str] = []
    with pytest.raises(Boom), transaction.atomic():
        on_rollback(lambda: undone.append("rolled back"))
        raise Boom
    with transaction.atomic():
        on_rollback(lambda: undone.append("committed"))
    assert undone == ["rolled back"]


@pytest.mark.django_db(transaction=True)
def test_a_savepoint_rollback_undoes_only_what_was_done_inside_it():
    undone: list[str] = []
    with transaction.atomic():
        on_rollback(lambda: undone.append("outer"))
        with pytest.raises(Boom), transaction.atomic():
            on_rollback(lambda: undone.append("inner"))
            raise Boom
        assert undone == ["inner"]
    assert undone == ["inner"]  # the outer block committed


@pytest.mark.django_db(transaction=True)
def test_an_inner_block_that_committed_is_undone_when_the_outer_rolls_back():
    undone: list[str] = []
    with pytest.raises(Boom), transaction.atomic():
        with transaction.atomic():
            on_rollback(lambda: undone.append("inner"))
        raise Boom
    assert undone == ["inner"]


@pytest.mark.django_db(transaction=True)
def test_set_rollback_and_a_lost_connection_undo_too():
    undone: list[str] = []
    with transaction.atomic():
        on_rollback(lambda: undone.append("set_rollback"))
        transaction.set_rollback(True)
    with pytest.raises(Boom), transaction.atomic():
        on_rollback(lambda: undone.append("closed"))
        connection.close()  # the server rolls an open transaction back when its client goes
        raise Boom
    assert undone == ["set_rollback", "closed"]


@pytest.mark.django_db(transaction=True)
def test_a_failing_undo_is_logged_and_does_not_hide_the_original_error(caplog):
    def broken() -> None:
        raise RuntimeError("gateway down")

    with pytest.raises(Boom), transaction.atomic():
        on_rollback(broken, description="card hold hold_x")
        raise Boom
    assert "Undoing card hold hold_x after a rollback failed" in caplog.text


def test_outside_a_transaction_nothing_is_registered(db):
    # (pytest-django's `db` wraps the test in a transaction: leave it to see autocommit.)
    undone: list[str] = []
    with transaction.atomic():
        on_rollback(lambda: undone.append("x"))
    assert undone == []
