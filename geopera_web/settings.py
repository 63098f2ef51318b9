"""Settings for geopera-web.

Every setting that differs between machines comes from the environment (django-environ). The
defaults are the local ones the Makefile's bootstrap creates, so `make demo` and `make test` need no
configuration. A `.env` file in the project root, if present, is read too (never committed).
"""

from __future__ import annotations

import datetime
from pathlib import Path

import environ
from celery.schedules import crontab

from geopera_web.ops.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
DEV_SECRET_KEY = "dev-only-insecure-key-change-me-in-production-0123456789"
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django.contrib.humanize",
    "rest_framework",
    "corsheaders",
    "csp",
    "django_htmx",
    "leaflet",
    "template_partials",
    # Before the accounts app, whose admin replaces axes' admin classes.
    "axes",
    "geopera_web.accounts",
    "geopera_web.billing",
    "geopera_web.api",
    "geopera_web.ops",
    "geopera_web.audit",
    "django_prometheus",
    "geopera_web.events",
    "orders",
    "tasking",
]

MIDDLEWARE = [
    # Outermost: /metrics counts and times every request (django-prometheus).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # First: every response (errors included) carries X-Request-ID, every log line its request id.
    "geopera_web.ops.request_id.RequestIdMiddleware",
    # One access-log line per request, inside the request id's scope.
    "geopera_web.ops.logs.AccessLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Outermost after security: compresses what every inner layer produced (JSON family only).
    "geopera_web.http.compression.ApiCompressionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # Before anything reads the body (sessions, CSRF, DRF): 413 from Content-Length alone.
    "geopera_web.limits.RequestBodyLimitMiddleware",
    "geopera_web.limits.NulCharacterMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "geopera_web.accounts.middleware.ActiveOrganizationMiddleware",
    "geopera_web.limits.RateLimitMiddleware",
    "geopera_web.api.problems.ApiProblemMiddleware",
    "geopera_web.middleware.PageErrorMiddleware",
    # Last, as django-axes asks: turns a locked-out login into our lockout page.
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
# The bearer token Prometheus scrapes /metrics with (empty: only signed-in staff see it).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

ROOT_URLCONF = "geopera_web.urls"
WSGI_APPLICATION = "geopera_web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "geopera_web.accounts.context_processors.navigation",
            ],
            # {% partialdef %} everywhere without a {% load %} (built into Django 6; a package on 5.2).
            "builtins": [
                "template_partials.templatetags.partials",
                "geopera_web.safe_urls",
                "geopera_web.areas",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default="postgis://geopera:geopera@127.0.0.1:5432/geopera", engine=None
    )
}
# PostGIS plus rollback hooks: an external side effect (a card hold) is undone when the
# transaction that made it rolls back (geopera_web.db.hooks).
DATABASES["default"]["ENGINE"] = "geopera_web.db.postgis"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Several checkouts on one machine (worktrees, CI) each get their own test database.
if env.str("TEST_DATABASE_NAME", default=""):
    DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.int("PASSWORD_MIN_LENGTH", default=10)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out account or IP before a password is even checked.
AUTHENTICATION_BACKENDS = [
    "geopera_web.security.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en-au"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
MEDIA_URL = "media/"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env.str("CACHE_URL", default="redis://127.0.0.1:6379/1"),
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="geopera"),
        # A cache that is down must answer fast: its users degrade (geopera_web.ops.degrade).
        "OPTIONS": {
            "socket_connect_timeout": env.float("CACHE_CONNECT_TIMEOUT_SECONDS", default=0.5),
            "socket_timeout": env.float("CACHE_TIMEOUT_SECONDS", default=1.0),
        },
    }
}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="geopera-web <noreply@geopera.local>")
# Where e-mailed links point (a watch alert opens the archive there).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# GDAL 3.6 (Debian bookworm) cannot stop spatial references from touching files or the network
# (gis.W001 wants GDAL >= 3.9). We never hand user-supplied SRS strings to GDAL: uploads are read
# and reprojected only from the SRS their own files declare, and stored in EPSG:4326.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "geopera_web.api.authentication.ApiKeyAuthentication",
        "geopera_web.api.authentication.UserTokenAuthentication",
        "geopera_web.api.authentication.CsrfSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["geopera_web.jsonbounds.BoundedJSONParser"],
    "EXCEPTION_HANDLER": "geopera_web.api.problems.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"principal": env.str("API_RATE_LIMIT", default="1200/min")},
    "UNAUTHENTICATED_USER": None,
}

# --- CORS (django-cors-headers; the policy is in geopera_web/http/cors.py) ----------------------
# Only the API and the STAC catalog speak CORS; pages never do.
CORS_URLS_REGEX = r"^/(stac|v1)(/.*)?$"
# The public, read-only STAC catalog: any origin (no credentials).
CORS_PUBLIC_URLS_REGEX = r"^/stac(/.*)?$"
# /v1 operations: only these origins (scheme://host[:port], comma-separated). Empty = none.
CORS_ALLOWED_ORIGINS = env.list("CORS_API_ORIGINS", default=[])
CORS_ALLOW_CREDENTIALS = False  # cross-origin callers send a token or API key, never our cookies
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS", "POST"]
CORS_ALLOW_HEADERS = [
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "if-modified-since",
    "if-none-match",
    "x-api-key",
]
CORS_EXPOSE_HEADERS = ["ETag", "Last-Modified", "Retry-After", "Idempotent-Replayed", "X-Request-ID"]
CORS_PREFLIGHT_MAX_AGE = 3600

# --- Leaflet -------------------------------------------------------------------------------------
# The basemap is configurable: BASEMAP_URL="" gives a map with no tile layer (tests, air-gapped
# installs); the page draws a vendored coastline layer so a map without tiles is still readable.
BASEMAP_URL = env.str("BASEMAP_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png")
BASEMAP_ATTRIBUTION = env.str("BASEMAP_ATTRIBUTION", default="&copy; OpenStreetMap contributors")
# --- Content Security Policy (django-csp) ---------------------------------------------------------
# No inline script, no eval: behaviour lives in static/js/, data reaches it through json_script or
# data attributes. Styles may be inline (Leaflet, htmx and Swagger UI set them; CSS cannot run code).
# Images may come from the basemap's tile host. CSP_REPORT_ONLY=true sends the same policy as
# report-only (to try a change in production first).
_basemap_origin = ""
if BASEMAP_URL:
    from urllib.parse import urlsplit

    _parts = urlsplit(BASEMAP_URL.replace("{s}", "a"))
    _basemap_origin = f"{_parts.scheme}://{_parts.netloc}" if _parts.netloc else ""
    if "{s}" in BASEMAP_URL:
        _basemap_origin = f"{_parts.scheme}://*.{_parts.netloc.split('.', 1)[-1]}"
_CSP = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", *([_basemap_origin] if _basemap_origin else [])],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
if env.bool("CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP
else:
    CONTENT_SECURITY_POLICY = _CSP

LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (-25.0, 134.0),
    "DEFAULT_ZOOM": 4,
    "MIN_ZOOM": 2,
    "MAX_ZOOM": 18,
    "RESET_VIEW": False,
    "NO_GLOBALS": False,
    "TILES": [("Basemap", BASEMAP_URL, {"attribution": BASEMAP_ATTRIBUTION})] if BASEMAP_URL else [],
}

# --- Celery --------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
# At-least-once: a task is acknowledged only after it ran, a task whose worker died is given back
# to the broker, and the broker re-delivers a message unacknowledged for CELERY_VISIBILITY_TIMEOUT
# seconds (kombu's default would be an hour). Every task body is idempotent (keyed by the state it
# moves), so a second delivery changes nothing. Keep the timeout above the longest task's run time.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
BROKER_VISIBILITY_TIMEOUT_SECONDS = env.int("CELERY_VISIBILITY_TIMEOUT", default=900)
# How often a worker looks for messages whose visibility timeout passed (a worker that died
# holding them). kombu's defaults scan every 10th sweep of every 10 s, i.e. every ~100 s whatever
# the timeout; here every sweep scans, a quarter of the timeout apart (1 s to 60 s).
BROKER_RESTORE_INTERVAL_SECONDS = env.int(
    "CELERY_UNACKED_RESTORE_INTERVAL", default=max(1, min(60, BROKER_VISIBILITY_TIMEOUT_SECONDS // 4))
)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": BROKER_VISIBILITY_TIMEOUT_SECONDS,
    "unacked_restore_interval": BROKER_RESTORE_INTERVAL_SECONDS,
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 2,
    "socket_keepalive": True,
    "retry_on_timeout": True,
    "health_check_interval": 10,
}
# Workers and beat wait for the broker at start and reconnect for ever when it goes away.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Publishing (web, on commit) gives up within about a second; the sweeper re-drives what never ran.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# No task result is read by the product: none is stored, so a placement never waits on the backend.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
# Exactly one beat sends periodic tasks (a PostgreSQL advisory lock; a second beat stays idle).
CELERY_BEAT_SCHEDULER = "geopera_web.ops.beat:LockedScheduler"
CELERY_BEAT_MAX_LOOP_INTERVAL = env.int("CELERY_BEAT_MAX_LOOP_INTERVAL", default=5)
# Heartbeats of workers and the beat, and how old one may be for /readyz to say "ready".
HEARTBEAT_INTERVAL_SECONDS = env.float("HEARTBEAT_INTERVAL_SECONDS", default=15.0)
READY_HEARTBEAT_MAX_AGE_SECONDS = env.int("READY_HEARTBEAT_MAX_AGE_SECONDS", default=60)
# Parts of /readyz not checked on this deployment (e.g. "beat" on a web-only staging box).
READY_CHECKS_SKIP = env.list("READY_CHECKS_SKIP", default=[])
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="geopera")
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / "var" / "celerybeat-schedule")
# Periodic work. Tasks are named by string so the platform imports no domain app.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "purge-idempotency-records": {
        "task": "geopera_web.api.tasks.purge_expired_idempotency_records",
        "schedule": crontab(minute="*/15"),
    },
    # Re-drive work whose next step never ran (geopera_web/ops/sweeper.py).
    "ops-run-sweeps": {
        "task": "geopera_web.ops.tasks.run_sweeps",
        "schedule": env.float("SWEEP_INTERVAL_SECONDS", default=60.0),
    },
}
# How long a row may wait for its next step before a sweep re-drives it.
SWEEP_GRACE_SECONDS = env.int("SWEEP_GRACE_SECONDS", default=120)
# Domain apps add their periodic tasks below, one line each, so operators see the whole plan here.
CELERY_BEAT_SCHEDULE.update(
    {
        "tasking-refresh-tles": {
            "task": "tasking.tasks.refresh_tles",
            "schedule": crontab(minute=0, hour="*/6"),
        },
        "tasking-expire-stale-decisions": {
            "task": "tasking.tasks.expire_stale_decisions",
            "schedule": crontab(minute="*/5"),
        },
        "tasking-advance-series": {
            "task": "tasking.tasks.advance_series",
            "schedule": env.float("TASKING_SERIES_SWEEP_SECONDS", default=60.0),
        },
        "orders-poll-tasking-deliveries": {
            "task": "orders.tasks.poll_tasking_deliveries",
            "schedule": env.float("PROVIDER_POLL_SECONDS", default=30.0),
        },
        "events-drain-webhooks": {
            "task": "geopera_web.events.tasks.drain_webhooks",
            "schedule": env.float("WEBHOOK_DRAIN_SECONDS", default=60.0),
        },
        "events-notification-digests": {
            "task": "geopera_web.events.tasks.send_notification_digests",
            "schedule": crontab(minute=0, hour=7),
        },
        "events-decisions-expiring": {
            "task": "geopera_web.events.tasks.emit_expiring_decisions",
            "schedule": crontab(minute="*/5"),
        },
        "orders-poll-provider": {
            "task": "orders.tasks.poll_provider_orders",
            "schedule": env.float("PROVIDER_POLL_SECONDS", default=30.0),
        },
    }
)

# --- Events (outbox) ------------------------------------------------------------------------------
# `decision.expiring` goes out this long before a pending decision's deadline.
DECISION_EXPIRING_LEAD_HOURS = env.float("DECISION_EXPIRING_LEAD_HOURS", default=24.0)
# `wallet.low_balance` when a movement takes the available credits below this (0: never).
WALLET_LOW_BALANCE_CREDITS = env.int("WALLET_LOW_BALANCE_CREDITS", default=10_000)
# How often an open page asks for the bell's unread count (paused while the tab is hidden).
NOTIFICATIONS_POLL_SECONDS = env.int("NOTIFICATIONS_POLL_SECONDS", default=30)
# Webhooks: private/loopback endpoints (and plain http) only when allowed — by default in DEBUG.
WEBHOOK_ALLOW_PRIVATE = env.bool("WEBHOOK_ALLOW_PRIVATE", default=DEBUG)
WEBHOOK_CONNECT_TIMEOUT_SECONDS = env.float("WEBHOOK_CONNECT_TIMEOUT_SECONDS", default=3.0)
WEBHOOK_READ_TIMEOUT_SECONDS = env.float("WEBHOOK_READ_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_RESPONSE_CAP_BYTES = env.int("WEBHOOK_RESPONSE_CAP_BYTES", default=4096)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=30.0)
WEBHOOK_RETRY_MAX_SECONDS = env.float("WEBHOOK_RETRY_MAX_SECONDS", default=6 * 3600.0)
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=20)
# Queue each delivery on Celery at commit (false: only the periodic drain sends them).
WEBHOOK_ENQUEUE = env.bool("WEBHOOK_ENQUEUE", default=True)

# --- Login throttling (django-axes) --------------------------------------------------------------
# LOGIN_FAILURE_LIMIT failed logins lock out the account (on every IP) and, separately, the client
# IP (for every account), for LOGIN_LOCKOUT_MINUTES; a successful login clears that account's count.
# API keys and user tokens never go through a password check, so they are unaffected.
AXES_ENABLED = env.bool("LOGIN_THROTTLE_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "geopera_web.security.login_username"
AXES_CLIENT_IP_CALLABLE = "geopera_web.security.client_ip"
AXES_LOCKOUT_CALLABLE = "geopera_web.accounts.views.login_locked_out"
AXES_SENSITIVE_PARAMETERS = ["password", "csrfmiddlewaretoken"]
AXES_VERBOSE = False
# How many reverse proxies in front of the app append to X-Forwarded-For (0: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Bounded requests ------------------------------------------------------------------------------
# Bodies larger than these are refused with 413 before anything reads them (see geopera_web/limits.py).
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=5_000_000)
PAGE_MAX_BODY_BYTES = env.int("PAGE_MAX_BODY_BYTES", default=12_000_000)
# JSON from callers (API bodies, STAC search, AOI uploads) nested deeper than this is a 400 / form
# error, never a RecursionError (see geopera_web/jsonbounds.py). GeoJSON needs ~8 levels.
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=64)
# Pass prediction (orders.tasking.opportunities_list / feasibility_check, the request page's AOI
# check) costs CPU per area per day of window (~13 ms each): above this many area-days a request is
# refused with 422 saying the limit (e.g. 10 areas x 30 days = 300).
TASKING_PREDICTION_MAX_FEATURE_DAYS = env.int("TASKING_PREDICTION_MAX_FEATURE_DAYS", default=300)
# A recurring tasking request (tasking.series) has at most this many occurrences: above it, 422
# naming `occurrences` / `recurUntil`. Each occurrence is ordered (its child order created and
# charged) this many hours before its window opens.
TASKING_SERIES_MAX_OCCURRENCES = env.int("TASKING_SERIES_MAX_OCCURRENCES", default=52)
TASKING_SERIES_LEAD_HOURS = env.float("TASKING_SERIES_LEAD_HOURS", default=24.0)
# Rolling a short occurrence's remainder into the next (rollRemainder): each part of an AOI's
# remainder smaller than this many km² (a sliver along an edge) is left out, so it never becomes an
# AOI of its own to track; an AOI left with no part this big rolls nothing.
TASKING_SERIES_MIN_REMAINDER_KM2 = env.float("TASKING_SERIES_MIN_REMAINDER_KM2", default=1.0)
# Catalog search (catalog.search, catalog.search_stream, /stac/search): page size, stream length
# and filter list lengths. Above them: 422 (API) / 400 (STAC, whose `limit` is capped, as STAC allows).
CATALOG_SEARCH_MAX_LIMIT = env.int("CATALOG_SEARCH_MAX_LIMIT", default=500)
CATALOG_STREAM_DEFAULT_ITEMS = env.int("CATALOG_STREAM_DEFAULT_ITEMS", default=10_000)
CATALOG_STREAM_MAX_ITEMS = env.int("CATALOG_STREAM_MAX_ITEMS", default=100_000)
CATALOG_SEARCH_MAX_IDS = env.int("CATALOG_SEARCH_MAX_IDS", default=1_000)
CATALOG_SEARCH_MAX_COLLECTIONS = env.int("CATALOG_SEARCH_MAX_COLLECTIONS", default=50)
# The archive map's vector tiles (orders/catalog/tiles.py): a tile with more matching footprints
# than this carries a count grid (TILES_DENSITY_GRID × TILES_DENSITY_GRID cells) instead.
TILES_MAX_FEATURES = env.int("TILES_MAX_FEATURES", default=1_000)
TILES_DENSITY_GRID = env.int("TILES_DENSITY_GRID", default=16)
# Crowded tiles up to z8 read their cells from the density summary (migration 0015) when only host
# and collections filter; off, every tile counts its points live (the bench compares the two).
TILES_DENSITY_SUMMARY = env.bool("TILES_DENSITY_SUMMARY", default=True)
# Geometry (orders/geometry.py): vertices per AOI / search / clip geometry, counted before GEOS builds
# it; features per FeatureCollection; vertices per footprint in catalog imports and delivery uploads.
GEOMETRY_MAX_VERTICES = env.int("GEOMETRY_MAX_VERTICES", default=10_000)
GEOMETRY_MAX_FEATURES = env.int("GEOMETRY_MAX_FEATURES", default=50)
CATALOG_IMPORT_MAX_VERTICES = env.int("CATALOG_IMPORT_MAX_VERTICES", default=20_000)
DELIVERY_FOOTPRINT_MAX_VERTICES = env.int("DELIVERY_FOOTPRINT_MAX_VERTICES", default=20_000)
# Tasking AOIs: fewer vertices than other geometry (each AOI is checked live while it is drawn).
TASKING_AOI_MAX_VERTICES = env.int("TASKING_AOI_MAX_VERTICES", default=2_000)
# AOI files (GeoJSON, KML, zipped shapefile) uploaded on the archive and tasking pages.
AOI_UPLOAD_MAX_BYTES = env.int("AOI_UPLOAD_MAX_BYTES", default=5 * 1024 * 1024)
AOI_UPLOAD_MAX_UNZIPPED_BYTES = env.int("AOI_UPLOAD_MAX_UNZIPPED_BYTES", default=50 * 1024 * 1024)
AOI_UPLOAD_MAX_FEATURES = env.int("AOI_UPLOAD_MAX_FEATURES", default=1_000)
AOI_UPLOAD_MAX_ZIP_MEMBERS = env.int("AOI_UPLOAD_MAX_ZIP_MEMBERS", default=32)
# Deflate rarely beats 10x on real shapefiles; zeros reach 1000x.
AOI_UPLOAD_MAX_ZIP_RATIO = env.int("AOI_UPLOAD_MAX_ZIP_RATIO", default=100)
# A manual delivery's STAC Item / GeoJSON file (support desk).
DELIVERY_UPLOAD_MAX_BYTES = env.int("DELIVERY_UPLOAD_MAX_BYTES", default=5 * 1024 * 1024)
# billing.credits.transactions / billing.invoices.list page size.
BILLING_PAGE_MAX_LIMIT = env.int("BILLING_PAGE_MAX_LIMIT", default=200)
# billing.credits.transactions `offset`.
BILLING_PAGE_MAX_OFFSET = env.int("BILLING_PAGE_MAX_OFFSET", default=10_000_000)
# The 0-based `page` of every paged list operation (PostgreSQL's OFFSET is a bigint: a page beyond
# any real listing is a 422, never a 500).
API_MAX_PAGE_NUMBER = env.int("API_MAX_PAGE_NUMBER", default=1_000_000)
# orders.list page size (a larger `size` is capped to it).
ORDERS_PAGE_MAX_SIZE = env.int("ORDERS_PAGE_MAX_SIZE", default=100)
# Rows each list of the order page (assets, timeline, a group's captures in its lineage) shows at
# once; "Show more" loads the next page in place.
ORDER_PAGE_MAX_ROWS = env.int("ORDER_PAGE_MAX_ROWS", default=25)
# Captures in one cart / one archive estimate or placement (also what opening a watch alert adds).
CART_MAX_CAPTURES = env.int("CART_MAX_CAPTURES", default=500)
# Tags per order and characters per tag (placement, drafts, orders.update).
ORDER_MAX_TAGS = env.int("ORDER_MAX_TAGS", default=50)
ORDER_TAG_MAX_CHARS = env.int("ORDER_TAG_MAX_CHARS", default=60)
# A CQL2 `filter` (catalog.search, /stac/search): its size as JSON or text, and values of one IN.
STAC_FILTER_MAX_CHARS = env.int("STAC_FILTER_MAX_CHARS", default=20_000)
STAC_FILTER_MAX_IN_VALUES = env.int("STAC_FILTER_MAX_IN_VALUES", default=500)
# Catalog counts are exact when the planner expects at most this many rows, estimated above.
CATALOG_EXACT_COUNT_MAX = env.int("CATALOG_EXACT_COUNT_MAX", default=50_000)
# Area of an uploaded AOI file (archive and tasking pages).
AOI_UPLOAD_MAX_KM2 = env.int("AOI_UPLOAD_MAX_KM2", default=1_000_000)
# Pass prediction: the longest window (TLEs decay beyond it anyway) and the points an AOI's outline
# is densified to (the cost of each predicted pass grows with them).
TASKING_WINDOW_MAX_DAYS = env.int("TASKING_WINDOW_MAX_DAYS", default=62)
TASKING_ORBIT_MAX_AOI_POINTS = env.int("TASKING_ORBIT_MAX_AOI_POINTS", default=1_000)
# Options of one feasibility study (the support desk's study editor).
STUDY_MAX_OPTIONS = env.int("STUDY_MAX_OPTIONS", default=10)
# Watches (saved archive searches) per organization.
WATCHES_MAX_PER_ORG = env.int("WATCHES_MAX_PER_ORG", default=500)
# Page size of orders.watches.list / orders.watches.matches.list.
WATCHES_PAGE_MAX_SIZE = env.int("WATCHES_PAGE_MAX_SIZE", default=100)
# Lifetime of an API key (api_keys.create `expires_in_days`, the key form).
API_KEY_MAX_TTL_DAYS = env.int("API_KEY_MAX_TTL_DAYS", default=3_650)
# The `size` of paged list operations that refuse a larger one (orders.approvals.list,
# orders.tasking.decisions.pending, the studies and quotations lists).
API_PAGE_MAX_SIZE = env.int("API_PAGE_MAX_SIZE", default=100)
# notifications.list page size and offset.
NOTIFICATIONS_PAGE_MAX_LIMIT = env.int("NOTIFICATIONS_PAGE_MAX_LIMIT", default=200)
NOTIFICATIONS_PAGE_MAX_OFFSET = env.int("NOTIFICATIONS_PAGE_MAX_OFFSET", default=100_000)
# event_subscriptions.drain: events fanned out / deliveries attempted per call.
WEBHOOK_DRAIN_MAX_LIMIT = env.int("WEBHOOK_DRAIN_MAX_LIMIT", default=2_000)
# provenance.get: levels of the lineage graph walked per call.
LINEAGE_MAX_DEPTH = env.int("LINEAGE_MAX_DEPTH", default=50)
# Lines listed in one notification digest email (the rest are counted).
NOTIFICATION_DIGEST_MAX_LINES = env.int("NOTIFICATION_DIGEST_MAX_LINES", default=200)
# Form fields (a drawn AOI's GeoJSON) may be as large as the page body limit already allows, so an
# oversized AOI reaches the geometry validator's vertex limit (a message that says what to do)
# instead of Django's bare 400 at 2.5 MB.
DATA_UPLOAD_MAX_MEMORY_SIZE = PAGE_MAX_BODY_BYTES
# Rate limits of pages and public endpoints (the API's own per-key limit is API_RATE_LIMIT):
# URL name -> (per "principal" (signed-in user, else IP) or per "ip", the setting that holds the rate).
AOI_CHECK_RATE_LIMIT = env.str("AOI_CHECK_RATE_LIMIT", default="60/min")
STAC_SEARCH_RATE_LIMIT = env.str("STAC_SEARCH_RATE_LIMIT", default="60/min")
STAC_ITEMS_RATE_LIMIT = env.str("STAC_ITEMS_RATE_LIMIT", default="300/min")
# The map's tiles, per signed-in user: the API's per-user default (a map view loads ~20 tiles).
TILES_RATE_LIMIT = env.str("TILES_RATE_LIMIT", default="1200/min")
VIEW_RATE_LIMITS = {
    "tasking:aoi_check": ("principal", "AOI_CHECK_RATE_LIMIT"),
    "orders:stac_search": ("ip", "STAC_SEARCH_RATE_LIMIT"),
    "orders:stac_items": ("ip", "STAC_ITEMS_RATE_LIMIT"),
    "orders:stac_item": ("ip", "STAC_ITEMS_RATE_LIMIT"),
    "orders:capture_tile": ("principal", "TILES_RATE_LIMIT"),
}

# Support-desk editors (study and quotation uploads, the admin's study/quotation forms) and approval
# policies: the largest credit figure a person may type (a price, a quotation, a policy limit; beyond
# it is a typo), expected captures/revisits per study option, and characters of study/quotation notes.
# Above them: a form error / 422 naming the field and the limit.
CREDITS_MAX = env.int("CREDITS_MAX", default=10**12)
STUDY_COUNT_MAX = env.int("STUDY_COUNT_MAX", default=10_000)
SUPPORT_NOTES_MAX_CHARS = env.int("SUPPORT_NOTES_MAX_CHARS", default=10_000)

# --- User tokens -----------------------------------------------------------------------------------
USER_TOKEN_TTL_DAYS = env.int("USER_TOKEN_TTL_DAYS", default=90)
USER_TOKEN_MAX_TTL_DAYS = env.int("USER_TOKEN_MAX_TTL_DAYS", default=365)

# --- Product settings ----------------------------------------------------------------------------
IDEMPOTENCY_TTL_HOURS = 24
# A claim still "in flight" after this long belongs to a process that died; it may be re-claimed.
IDEMPOTENCY_IN_FLIGHT_TIMEOUT_SECONDS = env.int("IDEMPOTENCY_IN_FLIGHT_TIMEOUT_SECONDS", default=300)
CREDITS_PER_AUD = 100
SIMULATED_PROVIDER = {
    # Seconds before the simulated provider reports an archive order delivered, and the share of
    # orders it fails (deterministic per order id). Tests set these to 0.
    "ARCHIVE_DELAY_SECONDS": env.int("SIM_ARCHIVE_DELAY_SECONDS", default=45),
    "ARCHIVE_FAILURE_RATE": env.float("SIM_ARCHIVE_FAILURE_RATE", default=0.1),
    "SEED": env.int("SIM_SEED", default=42),
}
# Fulfilment adapters by provider host (DataProduct.host -> adapter class). A product whose host is
# not listed cannot be ordered and is never fulfilled by anything else; the built-in simulator is
# listed only while FULFILMENT_SIMULATOR is on (the default, so `make demo` needs no provider).
FULFILMENT_ADAPTERS: dict[str, str] = {}
if env.bool("FULFILMENT_SIMULATOR", default=True):
    FULFILMENT_ADAPTERS["geopera-sim"] = "orders.fulfilment.simulator.SimulatedProvider"
PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="geopera_web.billing.gateways.TestGateway")
# With DEBUG=false the server refuses to start on the simulated (test) gateway unless this is true.
ALLOW_TEST_PAYMENT_GATEWAY = env.bool("ALLOW_TEST_PAYMENT_GATEWAY", default=False)
# 3-line TLE feed (http(s):// or file://) that tasking.tasks.refresh_tles reads every 6 hours, e.g.
# https://celestrak.org/NORAD/elements/gp.php?GROUP=resource&FORMAT=tle. Empty: shipped TLEs only.
TLE_SOURCE_URL = env.str("TLE_SOURCE_URL", default="")

# Plain lines with DEBUG (make demo), one JSON object per line otherwise (geopera_web/ops/logs.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="console" if DEBUG else "json")
LOGGING = logging_config(log_format=LOG_FORMAT, level=env.str("LOG_LEVEL", default="INFO"))
# Workers and beat log through LOGGING too (same format, request ids on task lines).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Production ----------------------------------------------------------------------------------
# With DEBUG=false: HTTPS only (redirect, HSTS, secure cookies), and the server refuses to start on
# the dev SECRET_KEY or, unless ALLOW_TEST_PAYMENT_GATEWAY=true, on the test payment gateway.
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Health checks from a load balancer on plain HTTP, e.g. ["^healthz$", "^readyz$"].
    SECURE_REDIRECT_EXEMPT = env.list("SECURE_REDIRECT_EXEMPT", default=[])
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_HTTPONLY = True

    from geopera_web.production import refuse_unsafe_production

    refuse_unsafe_production(
        secret_key=SECRET_KEY,
        dev_secret_key=DEV_SECRET_KEY,
        payment_gateway=PAYMENT_GATEWAY,
        allow_test_gateway=ALLOW_TEST_PAYMENT_GATEWAY,
    )
