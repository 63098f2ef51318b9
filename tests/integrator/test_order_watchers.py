"""Watchers of an order: any member of the order's org may watch it (another org's order is a 404);
its status changes, deliveries and coverage go to its creator and its watchers, each person once
and per their preferences."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction
from django.test import Client

from geopera_web.accounts.models import Membership
from geopera_web.events.models import Notification, OrderWatcher
from geopera_web.events.notifications import order_watcher_set, preference_set
from geopera_web.events.order_bridge import order_payload
from geopera_web.events.services import event_emit
from orders.services import order_cancel
from tests.factories import make_tasking_request, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def order(org, operator_user):
    return make_tasking_request(org, operator_user)


def _emit(org, order, type_, **extra) -> None:
    with transaction.atomic():
        event_emit(org=org, type=type_, data=order_payload(order) | extra)


def _to(kind: str) -> list[int]:
    return sorted(Notification.objects.filter(kind=kind, dismissed_at=None).values_list("user_id", flat=True))


def test_deliveries_coverage_and_status_go_to_creator_and_watchers_once_each(
    org, order, operator_user, admin_user, viewer_user
):
    Notification.objects.all().delete()
    order_watcher_set(org=org, user=viewer_user, order_id=order.pk, watching=True)
    order_watcher_set(org=org, user=admin_user, order_id=order.pk, watching=True)
    order_watcher_set(org=org, user=operator_user, order_id=order.pk, watching=True)  # the creator too
    _emit(org, order, "delivery.received", message="2 scenes")
    _emit(org, order, "coverage.updated", groups=[{"percent": 40.0}])
    _emit(org, order, "order.status_changed", toStatus="active")
    _emit(org, order, "decision.decided", decisionKind="quotation", decision="ACCEPTED")
    everyone = sorted([operator_user.pk, admin_user.pk, viewer_user.pk])
    assert _to("delivery.received") == everyone
    assert _to("coverage.updated") == everyone
    assert _to("order.status_changed") == everyone
    assert _to("decision.decided") == [operator_user.pk]  # decisions are the creator's (and admins')


def test_watchers_get_their_preferred_channel(org, order, admin_user, viewer_user, mailoutbox):
    Notification.objects.all().delete()
    order_watcher_set(org=org, user=viewer_user, order_id=order.pk, watching=True)
    order_watcher_set(org=org, user=admin_user, order_id=order.pk, watching=True)
    preference_set(user=viewer_user, event_type="delivery.received", in_app=False, email="immediate")
    preference_set(user=admin_user, event_type="delivery.received", in_app=False, email="off")
    mailoutbox.clear()
    _emit(org, order, "delivery.received")
    assert [m.to for m in mailoutbox] == [[viewer_user.email]]
    assert not Notification.objects.filter(user__in=[viewer_user, admin_user]).exists()


def test_a_watcher_who_left_the_org_hears_nothing_more(org, order, operator_user, viewer_user):
    order_watcher_set(org=org, user=viewer_user, order_id=order.pk, watching=True)
    Membership.objects.filter(user=viewer_user, org=org).delete()
    _emit(org, order, "delivery.received")
    assert _to("delivery.received") == [operator_user.pk]


def test_a_real_status_change_reaches_the_watcher(org, order, admin_user, viewer_user):
    order_watcher_set(org=org, user=viewer_user, order_id=order.pk, watching=True)
    order_cancel(org=org, actor=admin_user, order_id=order.pk)
    n = Notification.objects.get(user=viewer_user, kind="order.status_changed")
    assert n.link == f"/orders/{order.pk}/" and "cancelled" in n.title


def test_watch_and_unwatch_on_the_order_page(org, order, viewer_user):
    c = _client(viewer_user)  # a viewer can see the order, so can watch it
    page = c.get(f"/orders/{order.pk}/").content.decode()
    assert 'data-testid="watch-button"' in page and ">Watch<" in page
    r = c.post(f"/orders/{order.pk}/watch/", {"watch": "1"}, HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert r.status_code == 200 and "<html" not in html and ">Unwatch<" in html and "1 watching" in html
    assert OrderWatcher.objects.filter(order_id=order.pk, user=viewer_user, org=org).count() == 1
    c.post(f"/orders/{order.pk}/watch/", {"watch": "1"}, HTTP_HX_REQUEST="true")  # twice: still one
    assert OrderWatcher.objects.count() == 1
    assert ">Unwatch<" in c.get(f"/orders/{order.pk}/").content.decode()
    r = c.post(f"/orders/{order.pk}/watch/", {"watch": "0"})
    assert r.status_code == 302 and r["Location"] == f"/orders/{order.pk}/"
    assert not OrderWatcher.objects.exists()


def test_the_creator_sees_that_they_are_told_anyway(org, order, operator_user):
    page = _client(operator_user).get(f"/orders/{order.pk}/").content.decode()
    assert 'data-testid="watch-creator"' in page and 'data-testid="watch-button"' not in page


def test_another_orgs_order_cannot_be_watched(order, other_admin, other_org):
    c = _client(other_admin)
    assert c.post(f"/orders/{order.pk}/watch/", {"watch": "1"}, HTTP_HX_REQUEST="true").status_code == 404
    assert c.post(f"/orders/{uuid.uuid4()}/watch/", {"watch": "1"}).status_code == 404
    assert not OrderWatcher.objects.exists()


def test_watching_needs_a_login_and_a_post(order, viewer_user):
    r = Client().post(f"/orders/{order.pk}/watch/", {"watch": "1"})
    assert r.status_code == 302 and "/login/" in r["Location"]
    assert _client(viewer_user).get(f"/orders/{order.pk}/watch/").status_code == 405
    assert not OrderWatcher.objects.exists()


def test_a_second_watcher_is_counted(org, order, viewer_user, admin_user):
    extra = make_user(org=org, role="operator")
    order_watcher_set(org=org, user=extra, order_id=order.pk, watching=True)
    r = _client(admin_user).post(f"/orders/{order.pk}/watch/", {"watch": "1"}, HTTP_HX_REQUEST="true")
    assert "2 watching" in r.content.decode()
