"""Refusals that stop a production server (DEBUG=false) from starting in an unsafe configuration.
Called from the settings module, so every entry point (gunicorn, celery, manage.py) refuses alike."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

TEST_GATEWAYS = ("geopera_web.billing.gateways.TestGateway",)


def refuse_unsafe_production(
    *, secret_key: str, dev_secret_key: str, payment_gateway: str, allow_test_gateway: bool
) -> None:
    if not secret_key or secret_key == dev_secret_key or secret_key.startswith("dev-only"):
        raise ImproperlyConfigured(
            "DEBUG=false with the development SECRET_KEY: set SECRET_KEY to a long random value "
            '(e.g. python -c "import secrets; print(secrets.token_urlsafe(50))").'
        )
    if payment_gateway in TEST_GATEWAYS and not allow_test_gateway:
        raise ImproperlyConfigured(
            f"DEBUG=false with the test payment gateway ({payment_gateway}): it approves cards without "
            "charging anyone. Set PAYMENT_GATEWAY to a real gateway adapter, or ALLOW_TEST_PAYMENT_GATEWAY=true "
            "for a staging install that must not take real money."
        )
