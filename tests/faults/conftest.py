"""Fault tests: real processes against the real test database (see procs.py). Every module here is
marked `fault` (run them alone with `pytest -m fault`). The processes see only committed rows, so
the tests write in autocommit (`fault_db`) and the module flushes once at its end. Each module
shares one set of processes."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from tests.faults.procs import Stack


@pytest.fixture(scope="module")
def fault_tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("faults")


def _configured_db_name() -> str:
    from django.conf import settings

    return settings.DATABASES["default"]["NAME"]


# Read at import, before any test database exists: the development database's name.
_DEV_DB_NAME = _configured_db_name()


@pytest.fixture(scope="session")
def fault_test_database(django_db_setup, django_db_blocker):
    """The test database. pytest-django creates it only when some collected test asks for `db`
    (or the django_db marker); fault tests do neither (their rows must be committed), so run alone
    (`pytest -m fault`) they would otherwise write to — and flush — the development database."""
    from django.test.utils import setup_databases, teardown_databases

    created = None
    with django_db_blocker.unblock():
        if _configured_db_name() == _DEV_DB_NAME:
            created = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    assert _configured_db_name() != _DEV_DB_NAME, "fault tests must not run on the development database"
    yield _configured_db_name()
    if created is not None:
        with django_db_blocker.unblock():
            teardown_databases(created, verbosity=0)


@pytest.fixture(scope="module")
def fault_db(fault_test_database, django_db_blocker):
    """The test database, unblocked for the whole module, rows committed as they are written (the
    processes must see them). Flushed once at the end, after the module's processes are stopped
    (a flush while workers poll can deadlock with them)."""
    from django.core.management import call_command

    with django_db_blocker.unblock():
        yield fault_test_database
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(scope="module")
def test_db_name(fault_db) -> str:
    return fault_db


def assert_ledger_matches_wallet(org) -> None:
    """Every credit on the wallet is explained by exactly the ledger's movements."""
    from geopera_web.billing.models import LedgerEntry, Wallet

    wallet = Wallet.objects.get(org=org)
    sums = LedgerEntry.objects.filter(org=org).aggregate(a=Sum("available_delta"), r=Sum("reserved_delta"))
    assert (sums["a"] or 0, sums["r"] or 0) == (wallet.available_credits, wallet.reserved_credits)


def report(stack: Stack) -> str:
    return stack.logs()
