"""Settings → Webhooks, one subscription's page: edit, pause/re-enable, delete, send a test event
(against a real loopback receiver), rotate the secret, the paged delivery log and replays; org
admins only (403 for operators and viewers, as on the API keys page), another org's subscription
or delivery is a 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from geopera_web.accounts.models import Workspace
from geopera_web.events.models import Event, EventSubscription, WebhookDelivery
from geopera_web.events.webhooks import subscription_create
from tests.integrator.receiver import Receiver

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _no_queue(settings):
    settings.WEBHOOK_ENQUEUE = False  # replays are checked as rows here; delivery has its own tests


@pytest.fixture
def receiver():
    r = Receiver(reply=b'{"received":true}').start()
    yield r
    r.stop()


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _sub(org, url="https://example.com/hooks", **kw) -> EventSubscription:
    return subscription_create(org=org, actor=None, event_type="order.created", endpoint_url=url, **kw)


def _deliveries(sub, n: int, status=WebhookDelivery.Status.SUCCEEDED) -> list[WebhookDelivery]:
    event = Event.objects.create(org=sub.org, type="order.created", payload={}, fanned_out_at=timezone.now())
    return [
        WebhookDelivery.objects.create(
            subscription=sub, event=event, status=status, attempts=1, http_status=200, response_ms=12
        )
        for _ in range(n)
    ]


def _actions(sub, delivery) -> list[str]:
    base = f"/settings/webhooks/{sub.pk}"
    return [
        f"{base}/edit",
        f"{base}/active",
        f"{base}/delete",
        f"{base}/test",
        f"{base}/rotate",
        f"{base}/replay",
        f"{base}/deliveries/{delivery.pk}/replay",
    ]


def test_operators_and_viewers_get_403_on_every_page_and_action(org, operator_user, viewer_user):
    sub = _sub(org)
    (d,) = _deliveries(sub, 1)
    secret = sub.secret
    for user in (operator_user, viewer_user):
        c = _client(user)
        assert c.get(f"/settings/webhooks/{sub.pk}/").status_code == 403
        assert c.get(f"/settings/webhooks/{sub.pk}/log", **HTMX).status_code == 403
        for url in _actions(sub, d):
            assert c.post(url, {"since": "2020-01-01T00:00", "active": "0"}).status_code == 403, url
    sub.refresh_from_db()
    assert sub.active and sub.secret == secret
    assert WebhookDelivery.objects.count() == 1


def test_another_orgs_subscription_and_delivery_are_404(org, other_org, admin_user, other_admin):
    mine, theirs = _sub(org), _sub(other_org, url="https://other.example.com/hooks")
    (their_delivery,) = _deliveries(theirs, 1)
    c = _client(admin_user)
    assert c.get(f"/settings/webhooks/{theirs.pk}/").status_code == 404
    assert c.get(f"/settings/webhooks/{theirs.pk}/log", **HTMX).status_code == 404
    for url in _actions(theirs, their_delivery):
        assert (
            c.post(url, {"since": "2020-01-01T00:00", "endpoint_url": "https://x.example.com"}).status_code
            == 404
        )
    # their delivery under my subscription's URL is not found either
    r = c.post(f"/settings/webhooks/{mine.pk}/deliveries/{their_delivery.pk}/replay")
    assert r.status_code == 404
    theirs.refresh_from_db()
    assert theirs.endpoint_url == "https://other.example.com/hooks" and theirs.active
    assert WebhookDelivery.objects.count() == 1
    assert 'href="/settings/webhooks/' + str(theirs.pk) not in c.get("/settings/webhooks/").content.decode()


def test_edit_changes_every_field_and_bad_input_is_a_form_error(org, admin_user):
    ws = Workspace.objects.create(org=org, name="Coastal")
    foreign = Workspace.objects.create(org=_other_org(), name="Not ours")
    sub = _sub(org)
    c = _client(admin_user)
    page = c.get(f"/settings/webhooks/{sub.pk}/").content.decode()
    assert 'data-testid="edit-form"' in page and sub.secret not in page
    r = c.post(
        f"/settings/webhooks/{sub.pk}/edit",
        {
            "event_type": "order.status_changed",
            "endpoint_url": "https://new.example.com/in",
            "workspace_id": str(ws.pk),
            "order_type": "tasking",
            "headers": "X-Team: ingest\n\nX-Env:  prod ",
            "description": "Ingest",
        },
    )
    assert r.status_code == 302
    sub.refresh_from_db()
    assert (sub.event_type, sub.endpoint_url, sub.description) == (
        "order.status_changed",
        "https://new.example.com/in",
        "Ingest",
    )
    assert sub.filter_config == {"workspace_id": str(ws.pk), "order_type": "tasking"}
    assert sub.headers == {"X-Team": "ingest", "X-Env": "prod"}
    page = c.get(f"/settings/webhooks/{sub.pk}/").content.decode()
    assert "X-Team: ingest" in page and f'value="{ws.pk}" selected' in page

    for bad, says in [
        ({"endpoint_url": "ftp://x"}, "http(s)"),
        ({"headers": "no colon here"}, "Name: value"),
        ({"headers": "webhook-id: mine"}, "set by the platform"),
        ({"workspace_id": str(foreign.pk)}, "workspaces"),
        ({"workspace_id": "not-a-uuid"}, "workspaces"),
        ({"order_type": "gift"}, "Order type"),
        ({"event_type": "order.exploded"}, "Unknown event type"),
    ]:
        form = {"event_type": "order.created", "endpoint_url": "https://ok.example.com", **bad}
        r = c.post(f"/settings/webhooks/{sub.pk}/edit", form)
        assert r.status_code == 400, bad
        assert says in r.content.decode() and 'data-testid="form-error"' in r.content.decode()
    sub.refresh_from_db()
    assert sub.endpoint_url == "https://new.example.com/in" and sub.event_type == "order.status_changed"


def _other_org():
    from tests.factories import make_org

    return make_org(name="Foreign Org")


def test_create_takes_filter_and_headers_and_lists_without_the_log(org, admin_user):
    c = _client(admin_user)
    r = c.post(
        "/settings/webhooks/",
        {
            "event_type": "*",
            "endpoint_url": "https://example.com/all",
            "order_type": "archive",
            "headers": "X-A: 1",
        },
    )
    sub = EventSubscription.objects.get()
    assert r.status_code == 200 and sub.secret in r.content.decode()
    assert sub.filter_config == {"order_type": "archive"} and sub.headers == {"X-A": "1"}
    listing = c.get("/settings/webhooks/").content.decode()
    assert f'href="/settings/webhooks/{sub.pk}/"' in listing and sub.secret not in listing
    bad = c.post("/settings/webhooks/", {"event_type": "*", "endpoint_url": "https://e.com", "headers": "x"})
    assert bad.status_code == 400 and "Name: value" in bad.content.decode()
    assert EventSubscription.objects.count() == 1


def test_pause_and_re_enable_a_disabled_endpoint_in_place(org, admin_user):
    sub = _sub(org)
    EventSubscription.objects.filter(pk=sub.pk).update(
        active=False, consecutive_failures=20, disabled_reason="Disabled after 20 failed attempts in a row."
    )
    c = _client(admin_user)
    assert "Disabled after 20 failed attempts" in c.get(f"/settings/webhooks/{sub.pk}/").content.decode()
    r = c.post(f"/settings/webhooks/{sub.pk}/active", {"active": "1"}, **HTMX)
    html = r.content.decode()
    assert r.status_code == 200 and 'data-active="1"' in html and "<html" not in html
    sub.refresh_from_db()
    assert sub.active and sub.consecutive_failures == 0 and sub.disabled_reason == ""
    r = c.post(f"/settings/webhooks/{sub.pk}/active", {"active": "0"})
    assert r.status_code == 302
    sub.refresh_from_db()
    assert not sub.active


def test_delete_htmx_redirects_to_the_list_and_removes_the_log(org, admin_user):
    sub = _sub(org)
    _deliveries(sub, 2)
    c = _client(admin_user)
    r = c.post(f"/settings/webhooks/{sub.pk}/delete", **HTMX)
    assert r.status_code == 204 and r["HX-Redirect"] == "/settings/webhooks/"
    assert not EventSubscription.objects.exists() and not WebhookDelivery.objects.exists()
    assert c.post(f"/settings/webhooks/{sub.pk}/delete").status_code == 404
    assert c.get("/settings/webhooks/").status_code == 200


def test_get_is_refused_on_actions(org, admin_user):
    sub = _sub(org)
    c = _client(admin_user)
    for path in ("edit", "active", "delete", "test", "rotate", "replay"):
        assert c.get(f"/settings/webhooks/{sub.pk}/{path}").status_code == 405
    assert EventSubscription.objects.filter(pk=sub.pk).exists()


def test_send_test_event_shows_the_result_in_place(org, admin_user, receiver):
    sub = _sub(org, url=receiver.url)
    receiver.secret = sub.secret
    c = _client(admin_user)
    r = c.post(f"/settings/webhooks/{sub.pk}/test", **HTMX)
    html = r.content.decode()
    assert r.status_code == 200 and "<html" not in html
    assert 'data-status="succeeded"' in html and 'data-testid="test-http">200<' in html
    assert "{&quot;received&quot;:true}" in html
    got = receiver.wait_for(1)
    assert len(got) == 1 and got[0].verified and got[0].headers["x-geopera-event"] == "ping"
    d = WebhookDelivery.objects.get(subscription=sub)
    assert d.response_ms is not None and f'data-testid="test-ms">{d.response_ms}<' in html

    receiver.status, receiver.reply = 500, b"kaput"
    r = c.post(f"/settings/webhooks/{sub.pk}/test")  # without htmx: the whole page, result in it
    html = r.content.decode()
    assert r.status_code == 200 and 'data-status="failed"' in html and "kaput" in html and "<html" in html


def test_rotate_shows_the_new_secret_once_and_keeps_the_old_one_for_the_overlap(org, admin_user, receiver):
    sub = _sub(org, url=receiver.url)
    old = sub.secret
    c = _client(admin_user)
    r = c.post(f"/settings/webhooks/{sub.pk}/rotate", {"overlap_hours": "2"}, **HTMX)
    sub.refresh_from_db()
    html = r.content.decode()
    assert r.status_code == 200 and sub.secret != old and sub.secret in html and old not in html
    assert sub.previous_secret == old
    assert abs(sub.previous_secret_expires_at - (timezone.now() + timedelta(hours=2))) < timedelta(minutes=1)
    assert sub.secret not in c.get(f"/settings/webhooks/{sub.pk}/").content.decode()
    # both secrets verify a delivery during the overlap
    receiver.secret = old
    c.post(f"/settings/webhooks/{sub.pk}/test", **HTMX)
    (got,) = receiver.wait_for(1)
    assert got.verified
    Webhook(sub.secret).verify(got.body.decode(), got.headers)

    for bad in ("-1", "721", "soon"):
        r = c.post(f"/settings/webhooks/{sub.pk}/rotate", {"overlap_hours": bad}, **HTMX)
        assert r.status_code == 400 and r["HX-Retarget"] == "#toasts", bad
    assert EventSubscription.objects.get(pk=sub.pk).secret == sub.secret


def test_replay_one_and_a_range_add_rows_to_the_log(org, admin_user):
    sub = _sub(org)
    old, recent = _deliveries(sub, 2, status=WebhookDelivery.Status.FAILED)
    WebhookDelivery.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    c = _client(admin_user)
    r = c.post(f"/settings/webhooks/{sub.pk}/deliveries/{old.pk}/replay", **HTMX)
    html = r.content.decode()
    assert r.status_code == 200 and "Queued 1 replay." in html and "(replay)" in html
    copy = WebhookDelivery.objects.get(replay_of=old)
    assert copy.status == "pending" and copy.event_id == old.event_id
    assert html.index(f'data-id="{copy.pk}"') < html.index(f'data-id="{recent.pk}"')  # newest first

    since = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    r = c.post(f"/settings/webhooks/{sub.pk}/replay", {"since": since}, **HTMX)
    assert "Queued 1 replay." in r.content.decode()
    assert list(WebhookDelivery.objects.filter(replay_of=recent)) != []
    assert not WebhookDelivery.objects.filter(replay_of=old).exclude(pk=copy.pk).exists()

    far = (timezone.localtime() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    r = c.post(f"/settings/webhooks/{sub.pk}/replay", {"since": far})
    assert r.status_code == 302
    count = WebhookDelivery.objects.count()
    for form in ({"since": ""}, {"since": "yesterday"}, {"since": far, "until": since}):
        r = c.post(f"/settings/webhooks/{sub.pk}/replay", form, **HTMX)
        assert r.status_code == 400, form
    assert WebhookDelivery.objects.count() == count


def test_the_log_is_paged_newest_first_and_its_query_count_does_not_grow(org, admin_user):
    sub = _sub(org)
    c = _client(admin_user)
    _deliveries(sub, 2)
    with CaptureQueriesContext(connection) as few:
        assert c.get(f"/settings/webhooks/{sub.pk}/").status_code == 200
    with CaptureQueriesContext(connection) as few_log:
        assert c.get(f"/settings/webhooks/{sub.pk}/log", **HTMX).status_code == 200
    many = _deliveries(sub, 40)
    WebhookDelivery.objects.filter(pk=many[-1].pk).update(created_at=timezone.now() + timedelta(seconds=5))
    with CaptureQueriesContext(connection) as lots:
        page = c.get(f"/settings/webhooks/{sub.pk}/").content.decode()
    with CaptureQueriesContext(connection) as lots_log:
        log = c.get(f"/settings/webhooks/{sub.pk}/log?page=2", **HTMX).content.decode()
    assert len(lots.captured_queries) <= len(few.captured_queries)
    assert len(lots_log.captured_queries) <= len(few_log.captured_queries)
    assert page.count('data-testid="delivery"') == 25 and "Page 1 of 2" in page
    first_row = page.split('data-testid="delivery" ', 1)[1][:200]
    assert f'data-id="{many[-1].pk}"' in first_row  # newest first
    assert log.count('data-testid="delivery"') == 17 and "Page 2 of 2" in log and "<html" not in log
    # the list page does not grow with deliveries either
    with CaptureQueriesContext(connection) as listing:
        assert c.get("/settings/webhooks/").status_code == 200
    _sub(org, url="https://two.example.com")
    _deliveries(EventSubscription.objects.get(endpoint_url="https://two.example.com"), 5)
    with CaptureQueriesContext(connection) as listing2:
        assert c.get("/settings/webhooks/").status_code == 200
    assert len(listing2.captured_queries) <= len(listing.captured_queries)


def test_actions_without_the_csrf_token_are_refused(org, admin_user):
    sub = _sub(org)
    (d,) = _deliveries(sub, 1)
    c = Client(enforce_csrf_checks=True)
    c.force_login(admin_user)
    for url in _actions(sub, d):
        assert c.post(url, {"since": "2020-01-01T00:00", "active": "0"}, **HTMX).status_code == 403, url
    sub.refresh_from_db()
    assert sub.active and EventSubscription.objects.filter(pk=sub.pk).exists()
    assert WebhookDelivery.objects.count() == 1
    # the page carries the token htmx sends (hx-headers on <body>) and each form's hidden field
    page = c.get(f"/settings/webhooks/{sub.pk}/").content.decode()
    assert '"X-CSRFToken": "' in page and page.count('name="csrfmiddlewaretoken"') >= 7
