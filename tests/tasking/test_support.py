"""The support desk: staff only, across orgs, study and quotation editors; automatic studies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from orders.models import Order
from tasking.models import FeasibilityStudy, Quotation
from tasking.services import automatic_study_generate, feasibility_decide
from tests.tasking.flow_helpers import AUTO_PRODUCT, place, upload_study

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def local(dt) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def test_support_desk_is_404_for_non_staff(admin_user, operator_user):
    for user in (admin_user, operator_user):
        assert client_for(user).get("/support/").status_code == 404


def test_queue_shows_orders_of_every_org_oldest_first(org, other_org, operator_user, other_admin, staff_user):
    first = place(org, operator_user)
    second = place(other_org, other_admin)
    html = client_for(staff_user).get("/support/").content.decode()
    assert html.count('data-testid="queue-row"') == 2
    assert html.index(org.name) < html.index(other_org.name)
    assert str(first.id) in html and str(second.id) in html


def test_staff_uploads_a_study_with_two_options(org, operator_user, staff_user):
    order = place(org, operator_user)
    now = timezone.now()
    data = {
        "option_count": 3,
        "deadline": local(now + timedelta(days=3)),
        "notes": "Monsoon risk",
        "opt-0-description": "Standard",
        "opt-0-window_start": local(now + timedelta(days=1)),
        "opt-0-window_end": local(now + timedelta(days=20)),
        "opt-0-max_off_nadir": "25",
        "opt-0-valid_until": local(now + timedelta(days=3)),
        "opt-1-description": "Priority",
        "opt-1-window_start": local(now + timedelta(days=1)),
        "opt-1-window_end": local(now + timedelta(days=5)),
        "opt-1-max_off_nadir": "15",
        "opt-1-price_credits": "80000",
        "opt-1-valid_until": local(now + timedelta(days=3)),
    }
    r = client_for(staff_user).post(f"/support/orders/{order.id}/study/", data)
    assert r.status_code == 302
    study = FeasibilityStudy.objects.get(order=order)
    assert [o.price_credits for o in study.options.all()] == [None, 80_000]
    order.refresh_from_db()
    assert order.sub_status == "FEASIBILITY_WAITING_RESPONSE"


def test_study_editor_refuses_an_empty_study_without_losing_the_order(org, operator_user, staff_user):
    order = place(org, operator_user)
    r = client_for(staff_user).post(f"/support/orders/{order.id}/study/", {"option_count": 3, "deadline": ""})
    assert r.status_code == 422 and "Add at least one option" in r.content.decode()
    order.refresh_from_db()
    assert order.sub_status == "FEASIBILITY_WAITING_UPLOAD"


def test_staff_sends_a_quotation(org, operator_user, staff_user, admin_user):
    order = place(org, operator_user)
    study = upload_study(order, staff_user)
    feasibility_decide(
        org=org, actor=admin_user, study_id=study.id, option_id=study.options.get(price_credits=None).id
    )
    page = client_for(staff_user).get(f"/support/orders/{order.id}/").content.decode()
    assert 'data-testid="quotation-form"' in page
    r = client_for(staff_user).post(
        f"/support/orders/{order.id}/quotation/",
        {"credits": "123456", "valid_until": local(timezone.now() + timedelta(days=4))},
    )
    assert r.status_code == 302
    assert Quotation.objects.get(order=order).credits == 123_456
    order.refresh_from_db()
    assert order.sub_status == "QUOTATION_WAITING_RESPONSE"


def test_org_members_cannot_reach_support_order_pages(org, operator_user, admin_user):
    order = place(org, operator_user)
    assert client_for(admin_user).get(f"/support/orders/{order.id}/").status_code == 404
    assert client_for(admin_user).post(f"/support/orders/{order.id}/study/", {}).status_code == 404


@dataclass
class FakePass:
    norad_id: int
    satellite: str
    start: datetime
    end: datetime
    min_off_nadir_deg: float
    sun_elevation_deg: float


def test_automatic_sensor_gets_its_study_from_predicted_passes(
    org, operator_user, monkeypatch, django_capture_on_commit_callbacks
):
    now = timezone.now()
    passes = [
        FakePass(
            38012, "Pléiades 1A", now + timedelta(days=3), now + timedelta(days=3, seconds=40), 12.5, 40.0
        ),
        FakePass(
            39019, "Pléiades 1B", now + timedelta(days=5), now + timedelta(days=5, seconds=40), 4.0, 38.0
        ),
    ]
    monkeypatch.setattr("tasking.orbits.predict_passes", lambda **kw: passes)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        order = place(org, operator_user, product=AUTO_PRODUCT)
    assert callbacks, "the automatic study is queued on commit"
    order.refresh_from_db()
    assert order.sub_status == "FEASIBILITY_WAITING_RESPONSE"
    study = FeasibilityStudy.objects.get(order=order)
    assert study.source == "automatic" and study.options.count() == 2
    assert all(o.price_credits for o in study.options.all())
    assert automatic_study_generate(order_id=order.id) is None  # idempotent


def test_automatic_sensor_without_passes_stays_with_support(org, operator_user, monkeypatch):
    monkeypatch.setattr("tasking.orbits.predict_passes", lambda **kw: [])
    order = place(org, operator_user, product=AUTO_PRODUCT)
    assert automatic_study_generate(order_id=order.id) is None
    order.refresh_from_db()
    assert order.sub_status == "FEASIBILITY_WAITING_UPLOAD"
    assert order.events.filter(kind="feasibility_referred").exists()
    assert Order.objects.get(pk=order.pk).feasibility_studies.count() == 0


def test_opportunities_list_returns_predicted_passes_for_automatic_sensors(api_operator, monkeypatch):
    from tests.tasking.flow_helpers import fc, params, square

    now = timezone.now()
    monkeypatch.setattr(
        "tasking.orbits.predict_passes",
        lambda **kw: [
            FakePass(
                38012, "Pléiades 1A", now + timedelta(days=2), now + timedelta(days=2, seconds=30), 9.3, 35.2
            )
        ],
    )
    r = api_operator.post(
        "orders.tasking.opportunities_list",
        {"dataProduct": AUTO_PRODUCT, "featureCollection": fc(square()), "params": params()},
    )
    opp = r.json()["opportunities"][0]
    assert (opp["satellite"], opp["noradId"], opp["offNadirDeg"], opp["sunElevationDeg"]) == (
        "Pléiades 1A",
        38012,
        9.3,
        35.2,
    )


def test_active_order_page_links_to_coverage_and_manual_delivery(org, operator_user, staff_user):
    from orders.services import order_transition

    order = place(org, operator_user)
    order_transition(order=order, to=Order.Status.ACTIVE, sub_status=Order.SubStatus.QUOTATION_ACCEPTED)
    html = client_for(staff_user).get(f"/support/orders/{order.id}/").content.decode()
    assert 'data-testid="support-deliveries"' in html
    assert f"/support/orders/{order.id}/deliveries/new" in html
    assert f"/orders/{order.id}/coverage/" in html


def test_study_with_more_options_than_the_editor_starts_with(org, operator_user, staff_user):
    order = place(org, operator_user)
    now = timezone.now()
    data = {"option_count": "5", "deadline": local(now + timedelta(days=3))}
    for i in range(5):
        data |= {
            f"opt-{i}-description": f"Option {i + 1}",
            f"opt-{i}-window_start": local(now + timedelta(days=1)),
            f"opt-{i}-window_end": local(now + timedelta(days=10 + i)),
            f"opt-{i}-max_off_nadir": "25",
            f"opt-{i}-valid_until": local(now + timedelta(days=3)),
        }
    client_for(staff_user).post(f"/support/orders/{order.id}/study/", data)
    assert FeasibilityStudy.objects.get(order=order).options.count() == 5


def test_a_nonsense_option_count_is_not_a_server_error(org, operator_user, staff_user):
    order = place(org, operator_user)
    response = client_for(staff_user).post(f"/support/orders/{order.id}/study/", {"option_count": "lots"})
    assert response.status_code < 500
    assert not FeasibilityStudy.objects.filter(order=order).exists()


def test_study_editor_offers_to_add_options(org, operator_user, staff_user):
    order = place(org, operator_user)
    html = client_for(staff_user).get(f"/support/orders/{order.id}/").content.decode()
    assert 'data-testid="add-option"' in html and 'data-max="10"' in html


def test_requested_params_show_under_their_form_titles(org, operator_user, staff_user):
    order = place(org, operator_user)
    html = client_for(staff_user).get(f"/support/orders/{order.id}/").content.decode()
    assert "<dt>Acquisition end</dt>" in html and "<dt>acquisitionEnd</dt>" not in html


def test_study_options_follow_the_setting(org, operator_user, staff_user, settings):
    order = place(org, operator_user)
    now = timezone.now()
    data = {"option_count": 3, "deadline": local(now + timedelta(days=3))}
    for i in range(3):
        data |= {
            f"opt-{i}-description": f"Option {i}",
            f"opt-{i}-window_start": local(now + timedelta(days=1)),
            f"opt-{i}-window_end": local(now + timedelta(days=20)),
            f"opt-{i}-max_off_nadir": "25",
            f"opt-{i}-valid_until": local(now + timedelta(days=3)),
        }
    settings.STUDY_MAX_OPTIONS = 2
    page = client_for(staff_user).get(f"/support/orders/{order.id}/").content.decode()
    assert 'data-max="2"' in page
    r = client_for(staff_user).post(f"/support/orders/{order.id}/study/", data)
    assert r.status_code == 302
    assert FeasibilityStudy.objects.get(order=order).options.count() == 2
