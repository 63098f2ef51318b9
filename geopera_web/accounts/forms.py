from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm

from .models import API_KEY_SCOPES, Scope


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses this key, e.g. “Nightly ingest script”.")
    scopes = forms.MultipleChoiceField(
        choices=[(value, label) for value, label in Scope.choices if value in API_KEY_SCOPES],
        widget=forms.CheckboxSelectMultiple,
        initial=[Scope.CATALOG_READ, Scope.ORDERS_READ],
        help_text="API keys never place archive orders or decide on quotations: those need a person.",
    )
    rate_limit = forms.IntegerField(
        label="Rate limit (requests per minute)",
        required=False,
        min_value=1,
        max_value=1_000_000,
        help_text="Optional; never above the server's own limit.",
    )
    expires_in_days = forms.IntegerField(label="Expires after (days)", required=False, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # API_KEY_MAX_TTL_DAYS is read per form (never at import).
        longest = settings.API_KEY_MAX_TTL_DAYS
        self.fields["expires_in_days"] = forms.IntegerField(
            label="Expires after (days)",
            required=False,
            min_value=1,
            max_value=longest,
            help_text=f"Optional, at most {longest:,} days; empty: never.",
        )


class UserTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses this token, e.g. “geopera-cli on my laptop”.")
    days = forms.IntegerField(label="Valid for (days)", min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The lifetimes are settings read per form (never at import), so the environment and
        # override_settings move them.
        longest = settings.USER_TOKEN_MAX_TTL_DAYS
        self.fields["days"] = forms.IntegerField(
            label="Valid for (days)",
            min_value=1,
            max_value=longest,
            initial=settings.USER_TOKEN_TTL_DAYS,
            help_text=f"At most {longest} days. A token acts as you, in this organization.",
        )
