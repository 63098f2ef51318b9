"""The support desk's study and quotation editors refuse hostile or impossible values with a form
error that names the field, store nothing, and never answer 500."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from tasking.models import FeasibilityStudy, Quotation
from tasking.services import feasibility_decide
from tests.tasking.flow_helpers import place, upload_study

pytestmark = pytest.mark.django_db


def local(dt) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def study_data(**override: str) -> dict[str, str]:
    now = timezone.now()
    data = {
        "option_count": "1",
        "deadline": local(now + timedelta(days=3)),
        "opt-0-description": "Standard",
        "opt-0-window_start": local(now + timedelta(days=1)),
        "opt-0-window_end": local(now + timedelta(days=20)),
        "opt-0-max_off_nadir": "25",
        "opt-0-expected_captures": "2",
        "opt-0-expected_revisits": "4",
        "opt-0-valid_until": local(now + timedelta(days=3)),
    }
    data.update(override)
    return data


@pytest.fixture
def staff_client(staff_user) -> Client:
    c = Client()
    c.force_login(staff_user)
    return c


def test_the_base_study_is_accepted_with_its_counts(org, operator_user, staff_client):
    order = place(org, operator_user)
    r = staff_client.post(f"/support/orders/{order.id}/study/", study_data())
    assert r.status_code == 302
    option = FeasibilityStudy.objects.get(order=order).options.get()
    assert (option.expected_captures, option.expected_revisits) == (2, 4)


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("opt-0-expected_captures", "abc", "expected captures"),
        ("opt-0-expected_captures", "2.5", "expected captures"),
        ("opt-0-expected_captures", "0", "expected captures"),
        ("opt-0-expected_captures", "-3", "expected captures"),
        ("opt-0-expected_captures", "9" * 30, "expected captures"),
        ("opt-0-expected_revisits", "many", "expected revisits"),
        ("opt-0-expected_revisits", "-1", "expected revisits"),
        ("opt-0-price_credits", "1e99", "price"),
        ("opt-0-price_credits", "9" * 25, "price"),
        ("opt-0-max_off_nadir", "nan", "off-nadir"),
        ("opt-0-max_off_nadir", "inf", "off-nadir"),
        ("opt-0-window_start", "2026-02-30T10:00", "window start"),
        ("opt-0-window_end", "2026-13-45T99:99", "window end"),
        ("opt-0-window_end", "not a date", "window end"),
        ("opt-0-window_start", "2001-01-01T00:00", "window"),
        ("opt-0-window_end", "2001-01-02T00:00", "window"),
        ("opt-0-valid_until", "2026-02-31T00:00", "valid until"),
        ("deadline", "2026-04-31T00:00", "deadline"),
        ("deadline", "2001-01-01T00:00", "deadline"),
        ("opt-0-description", "x" * 20_000, "description"),
        ("option_count", "9" * 40, None),
    ],
)
def test_hostile_study_values_are_named_form_errors(org, operator_user, staff_client, field, value, named):
    order = place(org, operator_user)
    r = staff_client.post(f"/support/orders/{order.id}/study/", study_data(**{field: value}))
    if named is None:  # a nonsense count is clamped, the rest of the study is fine
        assert r.status_code == 302
        return
    assert r.status_code == 422, (field, value)
    body = r.content.decode()
    assert 'data-testid="study-errors"' in body
    errors = body.split('data-testid="study-errors"', 1)[1].split("</div>", 1)[0]
    assert named in errors.lower(), errors
    assert not FeasibilityStudy.objects.filter(order=order).exists()
    order.refresh_from_db()
    assert order.sub_status == "FEASIBILITY_WAITING_UPLOAD"


@pytest.fixture
def quoting_order(org, operator_user, staff_user, admin_user):
    order = place(org, operator_user)
    study = upload_study(order, staff_user)
    feasibility_decide(
        org=org, actor=admin_user, study_id=study.id, option_id=study.options.get(price_credits=None).id
    )
    return order


@pytest.mark.parametrize(
    ("credits", "valid_until", "named"),
    [
        ("abc", None, "credits"),
        ("12.5", None, "credits"),
        ("-1", None, "credits"),
        ("9" * 30, None, "credits"),
        ("NaN", None, "credits"),
        ("1000", "2026-02-30T00:00", "valid until"),
        ("1000", "2001-01-01T00:00", "valid until"),
        ("1000", "garbage", "valid until"),
    ],
)
def test_hostile_quotation_values_are_named_form_errors(
    quoting_order, staff_client, credits, valid_until, named
):
    valid = valid_until or local(timezone.now() + timedelta(days=4))
    r = staff_client.post(
        f"/support/orders/{quoting_order.id}/quotation/", {"credits": credits, "valid_until": valid}
    )
    assert r.status_code == 422
    body = r.content.decode()
    errors = body.split('data-testid="quote-errors"', 1)[1].split("</div>", 1)[0]
    assert named in errors.lower(), errors
    assert not Quotation.objects.filter(order=quoting_order).exists()


def test_quotation_notes_are_bounded(quoting_order, staff_client):
    r = staff_client.post(
        f"/support/orders/{quoting_order.id}/quotation/",
        {"credits": "100", "valid_until": local(timezone.now() + timedelta(days=4)), "notes": "n" * 200_000},
    )
    assert r.status_code == 422
    assert "notes" in r.content.decode().lower()
    assert not Quotation.objects.filter(order=quoting_order).exists()


# --- the limits are settings, read when the form is posted (override_settings / env move them) -------


def test_study_count_limit_is_the_setting_read_at_call_time(org, operator_user, staff_client, settings):
    order = place(org, operator_user)
    settings.STUDY_COUNT_MAX = 3
    r = staff_client.post(
        f"/support/orders/{order.id}/study/", study_data(**{"opt-0-expected_captures": "4"})
    )
    assert r.status_code == 422
    assert "between 1 and 3" in r.content.decode()
    assert not FeasibilityStudy.objects.filter(order=order).exists()
    settings.STUDY_COUNT_MAX = 4
    r = staff_client.post(
        f"/support/orders/{order.id}/study/", study_data(**{"opt-0-expected_captures": "4"})
    )
    assert r.status_code == 302
    assert FeasibilityStudy.objects.get(order=order).options.get().expected_captures == 4


def test_credit_and_notes_limits_are_settings_read_at_call_time(quoting_order, staff_client):
    valid = local(timezone.now() + timedelta(days=4))
    url = f"/support/orders/{quoting_order.id}/quotation/"
    with override_settings(CREDITS_MAX=500):
        r = staff_client.post(url, {"credits": "501", "valid_until": valid})
        assert r.status_code == 422
        assert "between 0 and 500" in r.content.decode()
    with override_settings(SUPPORT_NOTES_MAX_CHARS=20):
        r = staff_client.post(url, {"credits": "100", "valid_until": valid, "notes": "n" * 21})
        assert r.status_code == 422
        assert "longer than 20 characters" in r.content.decode()
    assert not Quotation.objects.filter(order=quoting_order).exists()
    with override_settings(CREDITS_MAX=501, SUPPORT_NOTES_MAX_CHARS=21):
        r = staff_client.post(url, {"credits": "501", "valid_until": valid, "notes": "n" * 21})
    assert r.status_code == 302
    assert Quotation.objects.get(order=quoting_order).credits == 501


def test_policy_credit_limit_is_the_setting(org, admin_user):
    from geopera_web.errors import InvalidInput
    from orders.approvals.services import _credits_field

    with override_settings(CREDITS_MAX=1_000):
        assert _credits_field(1_000, "approvalThresholdCredits") == 1_000
        with pytest.raises(InvalidInput, match="between 0 and 1,000"):
            _credits_field(1_001, "approvalThresholdCredits")
