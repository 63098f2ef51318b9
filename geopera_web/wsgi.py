"""WSGI entry point (gunicorn geopera_web.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geopera_web.settings")
application = get_wsgi_application()
