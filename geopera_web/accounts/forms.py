from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from .models import Scope


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses this key, e.g. “Nightly ingest script”.")
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[Scope.CATALOG_READ, Scope.ORDERS_READ],
        help_text="API keys never place archive orders or decide on quotations: those need a person.",
    )
