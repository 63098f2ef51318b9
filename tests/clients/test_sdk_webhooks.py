"""Webhooks and notifications walked through the official `geopera` SDK (user token: Bearer) and
`geopera-cli` (API key) against a live server; test events and drained events arrive at a real
loopback receiver, signed, and are verified there with the `standardwebhooks` library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import transaction
from geopera import AuthenticatedClient
from geopera.api.operations import (
    event_subscriptions_create,
    event_subscriptions_delete,
    event_subscriptions_get,
    event_subscriptions_list,
    event_subscriptions_test,
    event_subscriptions_update,
    notifications_dismiss,
    notifications_list,
    notifications_mark_all_read,
    notifications_mark_read,
    notifications_unread_count,
    webhooks_drain,
)
from geopera.models import (
    CreateSubscriptionInput,
    CreateSubscriptionInputFilterConfig,
    CreateSubscriptionInputHeaders,
    DeleteSubscriptionInput,
    DrainInput,
    Empty,
    GetSubscriptionInput,
    ListSubscriptionsInput,
    NotificationRef,
    NotificationsListInput,
    UpdateSubscriptionInput,
    UpdateSubscriptionInputHeadersType0,
)
from geopera.models import (
    TestSubscriptionInput as PingInput,
)
from standardwebhooks.webhooks import Webhook

from geopera_web.accounts.services import api_key_create, user_token_create
from geopera_web.events.notifications import notify_users
from geopera_web.events.services import event_emit
from tests.factories import make_org, make_user
from tests.integrator.receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver():
    r = Receiver(reply=b'{"ok":1}').start()
    yield r
    r.stop()


@pytest.fixture
def sdk_org(live_server, settings):
    settings.WEBHOOK_ENQUEUE = False  # events wait for webhooks.drain, which the SDK calls
    return make_org(name="SDK Webhooks Org", credits=1_000)


def _client(live_server, org, role="admin"):
    user = make_user(org=org, role=role)
    _, token = user_token_create(user=user, org=org)
    return user, AuthenticatedClient(base_url=live_server.url, token=token, raise_on_unexpected_status=True)


def test_sdk_manages_subscriptions_and_deliveries_arrive_signed(live_server, sdk_org, receiver):
    _, client = _client(live_server, sdk_org)
    headers = CreateSubscriptionInputHeaders.from_dict({"X-Team": "ingest"})
    created = event_subscriptions_create.sync(
        client=client,
        body=CreateSubscriptionInput(
            event_type="order.status_changed",
            endpoint_url=receiver.url,
            headers=headers,
            filter_config=CreateSubscriptionInputFilterConfig.from_dict({"order_type": "tasking"}),
            description="From the SDK",
        ),
    )
    sub = created.additional_properties
    assert sub["secret"].startswith("whsec_") and sub["active"] is True
    receiver.secret = sub["secret"]

    listed = event_subscriptions_list.sync_detailed(client=client, body=ListSubscriptionsInput())
    rows = json.loads(listed.content)["subscriptions"]
    assert [r["id"] for r in rows] == [created.id] and "secret" not in rows[0]
    got = event_subscriptions_get.sync(client=client, body=GetSubscriptionInput(subscription_id=created.id))
    # (the reference leaves get's answer open: the SDK hands back the JSON object)
    assert got["id"] == created.id and got["filter_config"] == {"order_type": "tasking"}
    assert "secret" not in got

    # test: a real signed ping, answered in the same call
    tested = event_subscriptions_test.sync(client=client, body=PingInput(subscription_id=created.id))
    assert tested.delivered is True and tested.http_status == 200 and tested.event_type == "ping"
    (ping,) = receiver.wait_for(1)
    assert ping.verified and ping.headers["webhook-id"] == tested.event_id
    assert ping.headers["x-team"] == "ingest" and ping.headers["x-geopera-event"] == "ping"
    Webhook(sub["secret"]).verify(ping.body.decode(), ping.headers)

    # update: new headers; an event is fanned out and delivered by webhooks.drain
    updated = event_subscriptions_update.sync(
        client=client,
        body=UpdateSubscriptionInput(
            subscription_id=created.id,
            headers=UpdateSubscriptionInputHeadersType0.from_dict({"X-Team": "ops"}),
        ),
    )
    assert updated.additional_properties["headers"] == {"X-Team": "ops"}
    with transaction.atomic():
        event = event_emit(
            org=sdk_org, type="order.status_changed", data={"orderType": "tasking", "toStatus": "active"}
        )
    assert len(receiver.received) == 1  # fanned out at commit, waiting for a delivery attempt
    drained = webhooks_drain.sync_detailed(client=client, body=DrainInput(limit=10))
    assert drained.status_code == 200
    assert json.loads(drained.content) == {"fanned_out": 0, "attempted": 1, "succeeded": 1}
    delivered = receiver.wait_for(2)
    assert len(delivered) == 2 and delivered[1].verified
    assert delivered[1].headers["webhook-id"] == str(event.pk) and delivered[1].headers["x-team"] == "ops"
    assert json.loads(delivered[1].body)["data"]["toStatus"] == "active"

    # pause: nothing is delivered; the log in get shows both deliveries
    paused = event_subscriptions_update.sync(
        client=client, body=UpdateSubscriptionInput(subscription_id=created.id, active=False)
    )
    assert paused.additional_properties["active"] is False
    log = event_subscriptions_get.sync(client=client, body=GetSubscriptionInput(subscription_id=created.id))
    assert sorted(d["status"] for d in log["deliveries"]) == ["succeeded", "succeeded"]

    # bad input is a 422, another org's subscription a 404, an operator a 403
    # bad input is a 422 the SDK parses (it used to be a 400 the document does not declare, which
    # the SDK raised as UnexpectedStatus), naming the field
    for body, field in [
        (CreateSubscriptionInput(event_type="order.exploded", endpoint_url=receiver.url), "event_type"),
        (CreateSubscriptionInput(event_type="*", endpoint_url="ftp://example.com"), "endpoint_url"),
        (
            CreateSubscriptionInput(
                event_type="*",
                endpoint_url=receiver.url,
                headers=CreateSubscriptionInputHeaders.from_dict({"webhook-id": "x"}),
            ),
            "headers",
        ),
        (
            CreateSubscriptionInput(
                event_type="*",
                endpoint_url=receiver.url,
                filter_config=CreateSubscriptionInputFilterConfig.from_dict({"colour": "red"}),
            ),
            "filter_config",
        ),
    ]:
        bad = event_subscriptions_create.sync_detailed(client=client, body=body)
        assert bad.status_code == 422 and bad.parsed.detail[0].loc[-1] == field, bad.content
    bad = event_subscriptions_update.sync_detailed(
        client=client, body=UpdateSubscriptionInput(subscription_id=created.id, endpoint_url="ftp://x")
    )
    assert bad.status_code == 422 and bad.parsed.detail[0].loc[-1] == "endpoint_url"
    _, stranger = _client(live_server, make_org(name="Stranger Org"))
    hidden = event_subscriptions_get.sync_detailed(
        client=stranger, body=GetSubscriptionInput(subscription_id=created.id)
    )
    assert hidden.status_code == 404 and hidden.parsed.status == 404
    _, operator = _client(live_server, sdk_org, role="operator")
    refused = event_subscriptions_list.sync_detailed(client=operator, body=ListSubscriptionsInput())
    assert refused.status_code == 403

    deleted = event_subscriptions_delete.sync(
        client=client, body=DeleteSubscriptionInput(subscription_id=created.id)
    )
    assert deleted.deleted is True
    gone = event_subscriptions_get.sync_detailed(
        client=client, body=GetSubscriptionInput(subscription_id=created.id)
    )
    assert gone.status_code == 404


def test_sdk_reads_and_clears_the_notification_feed(live_server, sdk_org):
    user, client = _client(live_server, sdk_org)
    for title in ("Credits are running low", "A quotation waits", "Delivered"):
        notify_users(
            users=[user.pk], org_id=sdk_org.pk, kind="wallet.low_balance", title=title, link="/billing/"
        )
    other, _ = _client(live_server, sdk_org)
    notify_users(users=[other.pk], org_id=sdk_org.pk, kind="wallet.low_balance", title="Not yours")

    count = notifications_unread_count.sync_detailed(client=client, body=Empty())
    assert json.loads(count.content)["unread"] == 3
    listed = json.loads(
        notifications_list.sync_detailed(client=client, body=NotificationsListInput()).content
    )
    items = listed["notifications"]
    assert sorted(n["title"] for n in items) == ["A quotation waits", "Credits are running low", "Delivered"]

    read = notifications_mark_read.sync(client=client, body=NotificationRef(notification_id=items[0]["id"]))
    assert read.id == items[0]["id"] and read.additional_properties["read_at"]
    assert json.loads(notifications_unread_count.sync_detailed(client=client, body=Empty()).content) == {
        "unread": 2
    }
    dismissed = notifications_dismiss.sync(
        client=client, body=NotificationRef(notification_id=items[1]["id"])
    )
    assert dismissed.id == items[1]["id"]
    left = json.loads(notifications_list.sync_detailed(client=client, body=NotificationsListInput()).content)
    assert items[1]["id"] not in [n["id"] for n in left["notifications"]]
    cleared = notifications_mark_all_read.sync(client=client, body=Empty())
    assert cleared.marked_count == 1
    unread = notifications_list.sync_detailed(client=client, body=NotificationsListInput(unread_only=True))
    assert json.loads(unread.content)["notifications"] == []

    # someone else's notification is a 404 to this caller
    theirs_client = _client_for(live_server, other, sdk_org)
    theirs = json.loads(
        notifications_list.sync_detailed(client=theirs_client, body=NotificationsListInput()).content
    )["notifications"][0]["id"]
    missing = notifications_mark_read.sync_detailed(
        client=client, body=NotificationRef(notification_id=theirs)
    )
    assert missing.status_code == 404


def _client_for(live_server, user, org) -> AuthenticatedClient:
    _, token = user_token_create(user=user, org=org)
    return AuthenticatedClient(base_url=live_server.url, token=token, raise_on_unexpected_status=True)


def test_cli_creates_and_lists_subscriptions_with_an_api_key(live_server, sdk_org, receiver, tmp_path):
    _, key = api_key_create(
        org=sdk_org, name="cli", scopes=["event_subscriptions:read", "event_subscriptions:write"]
    )
    env = {
        **os.environ,
        "GEOPERA_API_URL": live_server.url,
        "GEOPERA_API_TOKEN": key,
        "HOME": str(tmp_path),
        "NO_COLOR": "1",
        "TERM": "dumb",
    }
    cli = Path(sys.executable).with_name("geopera")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(cli), *args], env=env, capture_output=True, text=True, timeout=60)

    created = run(
        "event-subscriptions", "create", "--event-type", "order.created", "--endpoint-url", receiver.url
    )
    assert created.returncode == 0, (created.stdout, created.stderr)
    assert "whsec_" in created.stdout
    listed = run("event-subscriptions", "list")
    assert listed.returncode == 0, listed.stderr
    assert (
        receiver.url in listed.stdout and "order.created" in listed.stdout and "whsec_" not in listed.stdout
    )
