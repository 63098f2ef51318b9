"""seed_demo stores the app's own quicklooks site-relative (no host or port baked in), so the demo
works wherever it is served; the STAC API makes them absolute from the request. Migration 0016
turns the absolute ones an older seed wrote back into relative ones, and leaves providers' alone."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.test import Client

from orders.demo import DEMO_WATCH_SCENE
from orders.models import Capture
from tests.factories import make_capture

pytestmark = pytest.mark.django_db

migration = importlib.import_module("orders.migrations.0016_capture_relative_quicklooks")


def test_seed_demo_stores_no_host_in_quicklook_urls_and_stac_builds_them_from_the_request(settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    absolute = Capture.objects.filter(thumbnail_url__startswith="http") | Capture.objects.filter(
        quicklook_url__startswith="http"
    )
    assert list(absolute.values_list("scene_id", "thumbnail_url")) == []
    scene = Capture.objects.get(scene_id=DEMO_WATCH_SCENE)
    assert scene.thumbnail_url == f"/archive/quicklook/{DEMO_WATCH_SCENE}.svg?size=thumb"
    assert scene.quicklook_url == f"/archive/quicklook/{DEMO_WATCH_SCENE}.svg"
    item = Client().get(f"/stac/collections/{scene.collection}/items/{DEMO_WATCH_SCENE}").json()
    assert item["assets"]["thumbnail"]["href"] == (
        f"http://testserver/archive/quicklook/{DEMO_WATCH_SCENE}.svg?size=thumb"
    )
    assert Client().get(scene.thumbnail_url).status_code == 200  # the relative URL serves the SVG


def test_migration_makes_our_own_absolute_quicklooks_relative(settings, products):
    settings.SITE_URL = "https://demo.geopera.example"
    rows = {
        "LOOP": (
            "http://127.0.0.1:8000/archive/quicklook/LOOP.svg?size=thumb",
            "http://localhost:8731/archive/quicklook/LOOP.svg",
        ),
        "SITE": (
            "https://demo.geopera.example/archive/quicklook/SITE.svg?size=thumb",
            "https://demo.geopera.example/archive/quicklook/SITE.svg",
        ),
        "PROVIDER": ("https://provider.example/archive/quicklook/P.png", "https://provider.example/q.jpg"),
        "OTHER-PATH": ("http://127.0.0.1:8000/media/t.png", ""),
        "RELATIVE": ("/archive/quicklook/RELATIVE.svg?size=thumb", "/archive/quicklook/RELATIVE.svg"),
    }
    for scene_id, (thumb, quick) in rows.items():
        c = make_capture(scene_id)
        Capture.objects.filter(pk=c.pk).update(thumbnail_url=thumb, quicklook_url=quick)
    migration.relative_quicklooks(django_apps, None)
    got = {
        s: (t, q)
        for s, t, q in Capture.objects.filter(scene_id__in=rows).values_list(
            "scene_id", "thumbnail_url", "quicklook_url"
        )
    }
    assert got == {
        "LOOP": ("/archive/quicklook/LOOP.svg?size=thumb", "/archive/quicklook/LOOP.svg"),
        "SITE": ("/archive/quicklook/SITE.svg?size=thumb", "/archive/quicklook/SITE.svg"),
        "PROVIDER": rows["PROVIDER"],
        "OTHER-PATH": rows["OTHER-PATH"],
        "RELATIVE": rows["RELATIVE"],
    }
