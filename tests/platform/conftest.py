"""Operations registered only for the platform's own tests: they exercise the dispatcher,
scopes, idempotency and money with the same registry the domain apps use."""

from __future__ import annotations

from rest_framework import serializers

from geopera_web.api.registry import Effect, OpContext, operation
from geopera_web.billing.services import charge_authorize


class TestSpendInput(serializers.Serializer):
    credits = serializers.IntegerField(min_value=1, max_value=10_000_000)
    note = serializers.CharField(required=False, default="", allow_blank=True)


class TestEchoInput(serializers.Serializer):
    message = serializers.CharField(max_length=50)
    count = serializers.IntegerField(required=False, default=1, min_value=1)


@operation(
    "test.spend",
    scope="orders:write",
    effect=Effect.SPEND,
    input=TestSpendInput,
    user_only=True,
    success_status=202,
    summary="Test-only: reserve credits.",
)
def _spend(ctx: OpContext, data: dict) -> dict:
    charge = charge_authorize(
        org=ctx.org,
        credits=data["credits"],
        reference=f"test:{data['note']}",
        actor=ctx.user,
        idempotency_ref=f"{ctx.org.pk}:{ctx.idempotency_key}",
    )
    return {"chargeId": str(charge.id), "credits": charge.authorized_credits, "status": charge.status}


@operation(
    "test.echo", scope="catalog:read", effect=Effect.READ, input=TestEchoInput, summary="Test-only: echo."
)
def _echo(ctx: OpContext, data: dict) -> dict:
    return {"message": data["message"], "count": data["count"], "org": str(ctx.org.pk)}
