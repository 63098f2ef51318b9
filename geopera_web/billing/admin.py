from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import path, reverse

from geopera_web.admin_policy import ReadOnlyAdmin, audit
from geopera_web.errors import ApplicationError

from .models import Charge, LedgerEntry, Wallet
from .services import wallet_adjust, wallet_topup


class _MovementForm(forms.Form):
    """A movement of at most `CREDITS_MAX` credits (read per form): a bigger figure is a typo, and
    beyond PostgreSQL's bigint it could not even be stored."""

    signed = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        most = settings.CREDITS_MAX
        self.fields["credits"].max_value = most
        self.fields["credits"].min_value = -most if self.signed else 1
        self.fields["credits"].validators = [
            MinValueValidator(-most if self.signed else 1),
            MaxValueValidator(most),
        ]


class TopUpForm(_MovementForm):
    credits = forms.IntegerField(min_value=1, help_text="Whole credits (100 credits = A$1).")
    memo = forms.CharField(
        max_length=300, initial="Top-up", help_text="Shown to the org on its billing page."
    )


class AdjustForm(_MovementForm):
    signed = True
    credits = forms.IntegerField(help_text="Signed: negative takes credits away (never below zero).")
    memo = forms.CharField(max_length=300, help_text="The reason, shown to the org.")


class LedgerInline(ReadOnlyAdmin, admin.TabularInline):
    model = LedgerEntry
    fk_name = "org"
    extra = 0
    can_delete = False
    fields = (
        "created_at",
        "kind",
        "available_delta",
        "reserved_delta",
        "available_after",
        "reserved_after",
        "memo",
        "actor",
    )
    readonly_fields = fields
    ordering = ("-created_at",)
    max_num = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Balances move only through the top-up / adjust views (wallet services, ledger rows)."""

    list_display = ("org", "available_credits", "reserved_credits", "updated_at")
    search_fields = ("org__name",)
    readonly_fields = ("org", "available_credits", "reserved_credits", "updated_at")
    list_select_related = ("org",)

    def has_move_credits_permission(self, request) -> bool:
        return request.user.has_perm("billing.move_credits")

    def render_change_form(self, request, context, *args, **kwargs):
        context["can_move_credits"] = self.has_move_credits_permission(request)
        return super().render_change_form(request, context, *args, **kwargs)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/topup/",
                self.admin_site.admin_view(self.topup_view),
                name="billing_wallet_topup",
            ),
            path(
                "<path:object_id>/adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="billing_wallet_adjust",
            ),
        ] + super().get_urls()

    def _movement_view(self, request, object_id, form_class, action, title):
        wallet = self.get_object(request, object_id)
        if wallet is None or not self.has_view_permission(request, wallet):
            return redirect("admin:billing_wallet_changelist")
        if not self.has_move_credits_permission(request):
            raise PermissionDenied
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                # The movement and its audit row commit together (or neither does).
                with transaction.atomic():
                    before = {"available": wallet.available_credits, "reserved": wallet.reserved_credits}
                    action(
                        org=wallet.org,
                        credits=form.cleaned_data["credits"],
                        actor=request.user,
                        memo=form.cleaned_data["memo"],
                    )
                    wallet.refresh_from_db()
                    audit(
                        request,
                        f"wallet.{action.__name__.removeprefix('wallet_')}",
                        org=wallet.org,
                        target=wallet,
                        before=before,
                        after={"available": wallet.available_credits, "reserved": wallet.reserved_credits},
                        credits=form.cleaned_data["credits"],
                        memo=form.cleaned_data["memo"],
                    )
                self.message_user(request, f"{title} recorded for {wallet.org}.", messages.SUCCESS)
                return redirect(reverse("admin:billing_wallet_change", args=[wallet.pk]))
            except ApplicationError as exc:
                form.add_error("credits", exc.detail)
        return render(
            request,
            "admin/billing/wallet_movement.html",
            {
                **self.admin_site.each_context(request),
                "title": f"{title}: {wallet.org}",
                "form": form,
                "wallet": wallet,
                "opts": self.model._meta,
            },
        )

    def topup_view(self, request, object_id):
        return self._movement_view(request, object_id, TopUpForm, wallet_topup, "Top-up")

    def adjust_view(self, request, object_id):
        return self._movement_view(request, object_id, AdjustForm, wallet_adjust, "Adjustment")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "org",
        "kind",
        "available_delta",
        "reserved_delta",
        "available_after",
        "memo",
    )
    list_filter = ("kind",)
    search_fields = ("org__name", "memo")
    list_select_related = ("org",)
    date_hierarchy = "created_at"


@admin.register(Charge)
class ChargeAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "org",
        "billing_mode",
        "status",
        "authorized_credits",
        "captured_credits",
        "refunded_credits",
        "reference",
    )
    list_filter = ("billing_mode", "status")
    search_fields = ("org__name", "reference", "description")
    list_select_related = ("org",)
    readonly_fields = [f.name for f in Charge._meta.fields]
