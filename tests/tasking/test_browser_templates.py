"""The template library in a real browser: create, search, use to prefill a tasking request,
delete with undo."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tasking.models import TaskingTemplate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "Port daily — SkySat 1m"


def test_create_use_and_delete_a_template(login, live_server, operator_user, org):
    page = login(operator_user)
    page.goto(live_server.url + "/templates/")
    expect(page.get_by_text("No templates yet")).to_be_visible()
    page.get_by_test_id("template-new").click()

    # Choosing the sensor re-renders its options from the catalog (htmx).
    page.fill("#id_name", NAME)
    page.select_option("#id_sensor", "skysat")
    expect(page.get_by_test_id("sensor-note")).to_contain_text("SkySat")
    page.select_option("#id_resolution", "1m")
    page.select_option("#id_capture_frequency", "DAILY")
    page.select_option("#id_datum", "WGS84")
    page.fill("#id_max_cloud_coverage", "45")  # beyond SkySat's 30%: the server says so on the field
    page.fill("#id_max_nadir_angle", "18")
    page.get_by_test_id("template-save").click()
    expect(page.get_by_test_id("error-max_cloud_coverage")).to_contain_text("between 0 and 30")
    page.fill("#id_max_cloud_coverage", "12")
    page.get_by_test_id("template-save").click()

    card = page.locator(f'[data-template-name="{NAME}"]')
    expect(card).to_be_visible()
    expect(card.locator('[data-field="max_cloud_coverage"]')).to_have_text("≤ 12%")

    # Search is live and reflected in the URL.
    page.fill("#tpl-q", "no such thing")
    expect(page.get_by_text("No templates match")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=no(\+|%20)such(\+|%20)thing"))
    page.fill("#tpl-q", "port")
    expect(card).to_be_visible()

    # Use it: the tasking form is prefilled from the template.
    card.get_by_test_id("template-use").click()
    expect(page.get_by_test_id("params-form")).to_have_attribute("data-product", "skysat-tasking")
    expect(page.get_by_test_id("template-applied")).to_contain_text(NAME)
    expect(page.locator("#param-displayName")).to_have_value(NAME)
    expect(page.locator("#param-resolution")).to_have_value("1m")
    expect(page.locator("#param-captureFrequency")).to_have_value("DAILY")
    expect(page.locator("#param-cloudCoverage")).to_have_value("12")
    expect(page.locator("#param-incidenceAngle")).to_have_value("18")
    expect(page.locator("#param-deliveredAs")).to_have_value("GeoTIFF")
    expect(page.locator("#param-acquisitionStart")).not_to_have_value("")

    # Delete, undo, delete again.
    page.goto(live_server.url + "/templates/")
    card.get_by_test_id("template-delete").click()
    expect(card).to_have_count(0)
    expect(page.get_by_test_id("template-count")).to_have_text(re.compile(r"^\s*0 templates\s*$"))
    page.get_by_test_id("template-undo").click()
    expect(card).to_be_visible()
    template = TaskingTemplate.objects.get(org=org, name=NAME)
    assert template.deleted_at is None
    card.get_by_test_id("template-delete").click()
    expect(card).to_have_count(0)
    expect(page.get_by_test_id("undo-toast")).to_be_visible()
    template.refresh_from_db()
    assert template.deleted_at is not None
