"""Issue 16, item 10: the "Coverage over time" chart names its three line styles in a legend, puts %
on the axis, and writes both ends of the time axis in one date format."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.orders.test_coverage_pages import order  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def test_chart_has_a_legend_percent_axis_and_one_date_format(order, viewer_user):  # noqa: F811
    c = Client()
    c.force_login(viewer_user)
    html = c.get(reverse("orders:coverage", kwargs={"order_id": order.pk})).content.decode()
    legend = html[html.index('data-testid="coverage-legend"') :]
    legend = legend[: legend.index("</ul>")]
    assert "All AOIs" in legend and "Each AOI" in legend and re.search(r"Target \d+(\.\d)?%", legend)
    assert re.findall(r'data-testid="axis-label">([^<]+)<', html) == ["100%", "50%", "0%"]
    dates = re.findall(r'data-testid="axis-date">([^<]+)<', html)
    assert len(dates) == 2
    pattern = re.compile(r"^\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}$")
    assert all(pattern.match(d) for d in dates), dates
