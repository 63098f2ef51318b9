"""Settings → Webhooks in Chromium: an admin creates a subscription pointed at a real loopback
receiver, sends a test event (the receiver verifies it with `standardwebhooks`; the result and the
log update in place), rotates the secret (shown once) and the next test verifies with the new one."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from geopera_web.events.models import EventSubscription
from tests.integrator.receiver import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def receiver():
    r = Receiver(reply=b'{"received":true}').start()
    yield r
    r.stop()


def test_create_test_and_rotate_a_subscription(live_server, page, login, admin_user, receiver, settings):
    settings.WEBHOOK_ENQUEUE = False
    page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm asks before rotating
    login(admin_user)
    page.goto(live_server.url + "/settings/webhooks/")
    page.select_option("#wh-event", "order.created")
    page.fill("#wh-endpoint", receiver.url)
    page.fill("#wh-headers", "X-Team: ingest")
    page.get_by_role("button", name="Subscribe").click()
    first_secret = page.locator("#new-secret-value").inner_text()
    assert first_secret.startswith("whsec_")
    receiver.secret = first_secret

    page.get_by_role("link", name=receiver.url).click()
    expect(page.get_by_test_id("delivery-log")).to_contain_text("No deliveries yet")
    page.get_by_test_id("send-test").click()
    result = page.get_by_test_id("test-result")
    expect(result).to_have_attribute("data-status", "succeeded")
    expect(page.get_by_test_id("test-http")).to_have_text("200")
    expect(page.get_by_test_id("test-body")).to_have_text('{"received":true}')
    # the log below follows without a reload
    expect(page.locator("[data-testid=delivery][data-status=succeeded]")).to_have_count(1)
    got = receiver.wait_for(1)
    assert len(got) == 1 and got[0].verified and got[0].headers["x-team"] == "ingest"

    page.fill("#wh-overlap", "0")  # no overlap: only the new secret signs from now on
    page.get_by_test_id("rotate").click()
    new_secret = page.locator("#wh-secret-value").inner_text()
    sub = EventSubscription.objects.get()
    assert new_secret.startswith("whsec_") and new_secret != first_secret and new_secret == sub.secret

    receiver.secret = new_secret
    page.get_by_test_id("send-test").click()
    expect(page.locator("[data-testid=delivery][data-status=succeeded]")).to_have_count(2)
    got = receiver.wait_for(2)
    assert len(got) == 2 and got[1].verified
    assert len(got[1].headers["webhook-signature"].split()) == 1  # the old secret no longer signs

    page.reload()
    assert new_secret not in page.content() and first_secret not in page.content()
