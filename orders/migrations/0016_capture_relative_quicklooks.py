"""Captures seeded by an older `seed_demo` stored the app's own quicklook as an absolute URL for
the host the demo was seeded for (http://127.0.0.1:8000/archive/quicklook/...), so the demo's
thumbnails broke on any other host or port. Our own quicklooks become site-relative again, as the
simulated catalogue stores them; a provider's URL (another host, or not our quicklook path) is
left alone."""

import re

from django.conf import settings
from django.db import migrations

QUICKLOOK_PATH = "/archive/quicklook/"
_LOOPBACK = re.compile(r"^https?://(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(?=/)", re.IGNORECASE)


def own_origin_stripped(url: str, site_url: str) -> str:
    """The URL without its origin when it is our quicklook at our site or at a loopback host."""
    site = (site_url or "").rstrip("/")
    if site and url.startswith(site + QUICKLOOK_PATH):
        return url[len(site) :]
    match = _LOOPBACK.match(url)
    if match and url[match.end() :].startswith(QUICKLOOK_PATH):
        return url[match.end() :]
    return url


def relative_quicklooks(apps, schema_editor):
    Capture = apps.get_model("orders", "Capture")
    site = getattr(settings, "SITE_URL", "")
    rows = Capture.objects.filter(
        thumbnail_url__contains=QUICKLOOK_PATH, thumbnail_url__startswith="http"
    ) | Capture.objects.filter(quicklook_url__contains=QUICKLOOK_PATH, quicklook_url__startswith="http")
    for capture in rows.only("pk", "thumbnail_url", "quicklook_url").iterator():
        thumb = own_origin_stripped(capture.thumbnail_url, site)
        quick = own_origin_stripped(capture.quicklook_url, site)
        if (thumb, quick) != (capture.thumbnail_url, capture.quicklook_url):
            Capture.objects.filter(pk=capture.pk).update(thumbnail_url=thumb, quicklook_url=quick)


class Migration(migrations.Migration):
    dependencies = [("orders", "0015_capture_density_summary")]

    operations = [migrations.RunPython(relative_quicklooks, migrations.RunPython.noop)]
