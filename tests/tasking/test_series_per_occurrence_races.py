"""A series decided per occurrence under races (real PostgreSQL, one connection per thread): the
decision on an occurrence's own quotation against the series cancel. The interleavings are forced
with a third connection holding an order row, and each waiter is seen waiting in pg_stat_activity
before the next one starts, so the test is not left to the scheduler."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction

from geopera_web.billing.models import Charge
from geopera_web.billing.services import wallet_topup
from geopera_web.errors import ApplicationError
from orders.models import Order
from tasking.models import Quotation, SeriesOccurrence, SeriesPricing, TaskingProduct
from tasking.series import series_advance, series_cancel
from tasking.services import quotation_decide
from tests.factories import MANUAL_PRODUCT
from tests.tasking.series_helpers import accepted_series, assert_ledger_matches_wallet

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def quoted_series(catalog, org, operator_user, admin_user, staff_user, settings):
    """A weekly series of 3 decided per occurrence, every occurrence quoted (all due), none started."""
    TaskingProduct.objects.filter(pk=MANUAL_PRODUCT).update(series_pricing=SeriesPricing.OCCURRENCE)
    wallet_topup(org=org, credits=5_000_000, memo="per-occurrence races", actor=staff_user)
    series = accepted_series(org, operator_user, admin_user, staff_user, price=0, weeks=3)
    settings.TASKING_SERIES_LEAD_HOURS = 24 * 40
    now = series.occurrences.get(index=0).window_start - timedelta(days=1)
    assert series_advance(now=now)["quoted"] == 3
    return series


def _quote(series, index: int) -> Quotation:
    occ = SeriesOccurrence.objects.get(series=series, index=index)
    return Quotation.objects.get(order_id=occ.order_id)


def _lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _wait_for_waiters(n: int, timeout: float = 20.0, *, unless_done: threading.Thread | None = None) -> None:
    """Until `n` transactions wait on a lock (or `unless_done` has finished without waiting)."""
    deadline = time.monotonic() + timeout
    while _lock_waiters() < n and not (unless_done is not None and not unless_done.is_alive()):
        assert time.monotonic() < deadline, f"fewer than {n} transactions waiting on a lock"
        time.sleep(0.05)


class _Thread(threading.Thread):
    """Runs fn on its own connection; keeps its result or exception."""

    def __init__(self, fn) -> None:
        super().__init__()
        self.fn, self.result = fn, None

    def run(self) -> None:
        try:
            self.result = self.fn()
        except BaseException as exc:  # noqa: BLE001 - the test asserts on it
            self.result = exc
        finally:
            connections.close_all()


class _RowHolder(_Thread):
    """Holds the lock of one order row (its own transaction) until released."""

    def __init__(self, order_id) -> None:
        self.release, self.held = threading.Event(), threading.Event()

        def hold():
            with transaction.atomic():
                Order.objects.select_for_update().get(pk=order_id)
                self.held.set()
                assert self.release.wait(30)

        super().__init__(hold)


def _ok_or_conflict(result) -> None:
    assert not isinstance(result, BaseException) or (
        isinstance(result, ApplicationError) and result.status == 409
    ), repr(result)


def test_a_series_cancel_racing_the_rejection_of_an_occurrence_is_not_refused(quoted_series, org, admin_user):
    """The rejection moves the child to REJECTED while the cancel had planned to cancel it (the
    child still PENDING when it read it): the cancel must not answer 409 about that child."""
    series = quoted_series
    quote = _quote(series, 0)
    holder = _RowHolder(quote.order_id)
    holder.start()
    assert holder.held.wait(10)
    reject = _Thread(
        lambda: quotation_decide(org=org, actor=admin_user, quotation_id=quote.id, decision="REJECTED")
    )
    reject.start()
    _wait_for_waiters(1)  # the rejection holds the quotation and waits for the child
    cancel = _Thread(lambda: series_cancel(org=org, actor=admin_user, series_id=series.pk))
    cancel.start()
    _wait_for_waiters(2)  # the cancel waits for the child too
    holder.release.set()
    for t in (holder, reject, cancel):
        t.join(30)
    assert not isinstance(reject.result, BaseException), repr(reject.result)
    assert not isinstance(cancel.result, BaseException), repr(cancel.result)
    states = dict(series.occurrences.values_list("index", "state"))
    assert states == {0: "declined", 1: "cancelled", 2: "cancelled"}
    assert not Charge.objects.filter(org=org).exists()


def test_accepting_an_occurrence_while_the_series_is_cancelled_does_not_deadlock(
    quoted_series, org, admin_user
):
    """Occurrence 2 accepted (charged, not started), occurrence 1 still quoted. The cancel takes
    occurrence 1's child and then needs the wallet to release occurrence 2; an acceptance of
    occurrence 1 at that moment must not hold the wallet while it waits for that child."""
    series = quoted_series
    second = _quote(series, 1)
    quotation_decide(org=org, actor=admin_user, quotation_id=second.id, decision="ACCEPTED")
    assert SeriesOccurrence.objects.get(series=series, index=1).state == "ordered"
    first = _quote(series, 0)
    holder = _RowHolder(second.order_id)  # the cancel stops at occurrence 2's order
    holder.start()
    assert holder.held.wait(10)
    cancel = _Thread(lambda: series_cancel(org=org, actor=admin_user, series_id=series.pk))
    cancel.start()
    _wait_for_waiters(1)
    accept = _Thread(
        lambda: quotation_decide(org=org, actor=admin_user, quotation_id=first.id, decision="ACCEPTED")
    )
    accept.start()
    # The acceptance waits for occurrence 1's child, which the cancel holds (unless the cancel,
    # taking the children first, waits for occurrence 2's before it reaches occurrence 1's).
    _wait_for_waiters(2, unless_done=accept)
    holder.release.set()
    for t in (holder, cancel, accept):
        t.join(30)
    assert not isinstance(cancel.result, BaseException), repr(cancel.result)
    _ok_or_conflict(accept.result)
    states = dict(series.occurrences.values_list("index", "state"))
    assert states == {0: "cancelled", 1: "cancelled", 2: "cancelled"}
    assert not Charge.objects.filter(org=org).exclude(status=Charge.Status.RELEASED).exists()
    assert_ledger_matches_wallet(org)


def test_cancelling_one_occurrence_while_the_series_is_cancelled_does_not_deadlock(
    org, operator_user, admin_user, staff_user, settings
):
    """A series priced for the whole series, every occurrence ordered (held) and none started. A
    person cancels occurrence 2's own order while the series is cancelled: the series cancel has
    released occurrence 1 (it holds the wallet) when it reaches occurrence 2, whose cancel holds
    that order and waits for the wallet. The series cancel takes the orders before any money."""
    series = accepted_series(org, operator_user, admin_user, staff_user)
    settings.TASKING_SERIES_LEAD_HOURS = 24 * 40
    series_advance(now=series.occurrences.get(index=0).window_start - timedelta(days=1))
    second = SeriesOccurrence.objects.get(series=series, index=1)
    assert second.state == "ordered"
    holder = _RowHolder(second.order_id)
    holder.start()
    assert holder.held.wait(10)
    from orders.services import order_cancel

    one = _Thread(lambda: order_cancel(org=org, actor=admin_user, order_id=second.order_id))
    one.start()
    _wait_for_waiters(1)  # first in line for occurrence 2's order
    whole = _Thread(lambda: series_cancel(org=org, actor=admin_user, series_id=series.pk))
    whole.start()
    _wait_for_waiters(2)
    holder.release.set()
    for t in (holder, one, whole):
        t.join(30)
    assert not isinstance(one.result, BaseException), repr(one.result)
    assert not isinstance(whole.result, BaseException), repr(whole.result)
    assert set(
        Order.objects.filter(metadata__series__id=str(series.pk)).values_list("status", flat=True)
    ) == {"cancelled"}
    assert not Charge.objects.filter(org=org).exclude(status=Charge.Status.RELEASED).exists()
    assert_ledger_matches_wallet(org)


def test_an_occurrence_accepted_twice_at_once_and_swept_meanwhile_is_charged_once(
    quoted_series, org, admin_user
):
    from tests.concurrency import run_concurrently

    series = quoted_series
    quote = _quote(series, 0)
    now = series.occurrences.get(index=0).window_start - timedelta(days=1)
    calls = iter(range(3))

    def act():
        if next(calls) == 2:
            return series_advance(now=now)
        return quotation_decide(org=org, actor=admin_user, quotation_id=quote.id, decision="ACCEPTED")

    results = run_concurrently(act, threads=3)
    for r in results:
        _ok_or_conflict(r)
    assert sum(isinstance(r, Quotation) for r in results) == 1, results
    occ = SeriesOccurrence.objects.select_related("order").get(series=series, index=0)
    assert (occ.state, occ.order.status) == ("ordered", "active")
    assert Charge.objects.filter(org=org).count() == 1
    assert series_advance(now=now)["ordered"] == 0
    assert Charge.objects.filter(org=org).count() == 1
    assert_ledger_matches_wallet(org)
