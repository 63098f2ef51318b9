"""The 500 problem says "nothing was changed" only when that is true: a write that failed after
some of its work committed (a step in its own transaction, an after-commit hook) is told its
outcome is unknown and how to retry safely."""

from __future__ import annotations

import dataclasses
import json

import pytest
from django.db import transaction
from django.test import RequestFactory

from geopera_web.api import registry
from geopera_web.api.problems import ApiProblemMiddleware
from geopera_web.billing.models import Charge
from geopera_web.billing.services import charge_authorize

pytestmark = pytest.mark.django_db(transaction=True)


class Broken(Exception):
    pass


def _replace_spend(monkeypatch, handler) -> None:
    op = registry.get_operation("test.spend")
    monkeypatch.setitem(registry._REGISTRY, "test.spend", dataclasses.replace(op, handler=handler))


def _assert_unknown_outcome(response) -> dict:
    assert response.status_code == 500 and response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"].endswith("/internal-error") and body["outcome"] == "unknown"
    assert "Nothing was changed" not in body["detail"] and "nothing was changed" not in body["detail"]
    assert "may or may not have taken effect" in body["detail"] and "Idempotency-Key" in body["detail"]
    return body


def test_a_write_that_fails_after_committing_a_charge_is_not_told_nothing_changed(api_operator, monkeypatch):
    def reserve_then_crash(ctx, data):
        charge_authorize(org=ctx.org, credits=data["credits"], reference="test:crash", actor=ctx.user)
        raise Broken("a later step failed")

    _replace_spend(monkeypatch, reserve_then_crash)
    _assert_unknown_outcome(api_operator.post("test.spend", {"credits": 10}))
    assert Charge.objects.filter(reference="test:crash").count() == 1  # it did change something


def test_an_after_commit_hook_failing_is_an_unknown_outcome_too(api_operator, monkeypatch):
    def reserve_with_failing_hook(ctx, data):
        charge = charge_authorize(org=ctx.org, credits=data["credits"], reference="test:hook", actor=ctx.user)

        def hook() -> None:
            raise Broken("after commit")

        transaction.on_commit(hook)
        return {"chargeId": str(charge.id), "credits": charge.authorized_credits, "status": charge.status}

    _replace_spend(monkeypatch, reserve_with_failing_hook)
    _assert_unknown_outcome(
        api_operator.post("test.spend", {"credits": 10}, headers={"Idempotency-Key": "k-hook-1"})
    )
    assert Charge.objects.filter(reference="test:hook").count() == 1


def test_a_read_that_fails_may_say_nothing_was_changed():
    request = RequestFactory().get("/v1/op/orders.list")
    response = ApiProblemMiddleware(lambda r: None).process_exception(request, Broken("read failed"))
    body = json.loads(response.content)
    assert response.status_code == 500 and body["outcome"] == "unchanged"
    assert "nothing was changed" in body["detail"]
