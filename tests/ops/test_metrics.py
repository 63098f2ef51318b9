"""/metrics (django-prometheus): for a scraper with METRICS_TOKEN or signed-in staff, a 404 to
anyone else."""

from __future__ import annotations

from django.test import Client

from tests.factories import make_user


def test_metrics_need_the_token_or_staff(settings, db):
    settings.METRICS_TOKEN = "scrape-secret-123"
    client = Client()
    client.get("/healthz")
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    scraped = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-123"})
    assert scraped.status_code == 200
    body = scraped.content.decode()
    assert "django_http_requests_total_by_view_transport_method_total" in body
    assert 'view="healthz"' in body
    assert "django_http_requests_latency_seconds_by_view_method" in body


def test_no_token_configured_means_only_staff(settings, db, org):
    settings.METRICS_TOKEN = ""
    client = Client()
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404
    client.force_login(make_user(org=org, role="admin", email="notstaff@example.test"))
    assert client.get("/metrics").status_code == 404
    client.force_login(make_user(org=None, role=None, email="staff-metrics@geopera.example", staff=True))
    assert client.get("/metrics").status_code == 200
