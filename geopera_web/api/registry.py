"""The one registry of operations.

An operation has its id (as in the reference, e.g. `orders.archive.estimate`), the scope it needs,
its side-effect class, input/output serializers and a handler. It is served at
`POST /v1/op/{id}` and at the resource route `POST /v1/{id with dots as slashes}`.

Domain apps register in their `api.py`:

    @operation("orders.archive.estimate", scope=Scope.ORDERS_READ, effect=Effect.READ,
               input=ArchiveEstimateInput, summary="Preview the server-authoritative price ...")
    def archive_estimate(ctx: OpContext, data: dict) -> dict: ...

A handler returns a JSON-serialisable value (sent with `success_status`) or an HttpResponse
(streams, files). It raises `geopera_web.errors.ApplicationError` for every refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from rest_framework import serializers

from geopera_web.errors import PermissionDenied

if TYPE_CHECKING:
    from django.http import HttpRequest

    from geopera_web.accounts.models import ApiKey, Organization, User


class Effect(StrEnum):
    READ = "read"
    COMPUTE = "compute"
    SPEND = "spend"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (session or user token) or an org's API key, always inside one org."""

    org: Organization
    scopes: frozenset[str]
    user: User | None = None
    api_key: ApiKey | None = None
    role: str | None = None

    @property
    def is_api_key(self) -> bool:
        return self.api_key is not None

    @property
    def label(self) -> str:
        return f"API key {self.api_key.name}" if self.api_key else str(self.user)


@dataclass(frozen=True)
class OpContext:
    request: HttpRequest
    principal: Principal
    operation: Operation
    idempotency_key: str | None = None

    @property
    def org(self) -> Organization:
        return self.principal.org

    @property
    def user(self) -> User | None:
        return self.principal.user

    def require_role(self, *roles: str, action: str = "do this", api_keys: bool = False) -> None:
        """Role gates beyond scopes (e.g. only org admins decide on quotations). With
        `api_keys=True` an API key passes on its scopes alone (an org admin granted them)."""
        if self.principal.is_api_key and api_keys:
            return
        if self.principal.is_api_key or self.principal.role not in roles:
            raise PermissionDenied(
                f"Only {' or '.join(roles)} members of the organization may {action}.",
                required_roles=list(roles),
            )


Handler = Callable[[OpContext, dict[str, Any]], Any]


@dataclass(frozen=True)
class Operation:
    id: str
    summary: str
    scope: str
    effect: Effect
    handler: Handler
    input: type[serializers.Serializer] | None = None
    output: type[serializers.Serializer] | None = None
    # The money path: API keys may not run it, a person (session or user token) must.
    user_only: bool = False
    success_status: int = 200
    # Media types of the success response, for the OpenAPI document.
    response_types: tuple[str, ...] = ("application/json",)
    description: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def route(self) -> str:
        return "/v1/" + self.id.replace(".", "/")

    @property
    def op_path(self) -> str:
        return f"/v1/op/{self.id}"

    @property
    def accepts_idempotency_key(self) -> bool:
        return self.effect == Effect.SPEND


_REGISTRY: dict[str, Operation] = {}
_BY_ROUTE: dict[str, Operation] = {}


def operation(
    op_id: str,
    *,
    scope: str,
    effect: Effect,
    summary: str,
    input: type[serializers.Serializer] | None = None,
    output: type[serializers.Serializer] | None = None,
    user_only: bool = False,
    success_status: int = 200,
    response_types: tuple[str, ...] = ("application/json",),
    description: str = "",
) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if op_id in _REGISTRY and _REGISTRY[op_id].handler is not handler:
            raise RuntimeError(f"Operation {op_id} is registered twice.")
        op = Operation(
            id=op_id,
            summary=summary,
            scope=scope,
            effect=effect,
            handler=handler,
            input=input,
            output=output,
            user_only=user_only,
            success_status=success_status,
            response_types=response_types,
            description=description or (handler.__doc__ or "").strip(),
            tags=(op_id.split(".")[0],),
        )
        _REGISTRY[op_id] = op
        _BY_ROUTE[op.route.removeprefix("/v1/")] = op
        return handler

    return register


def get_operation(op_id: str) -> Operation | None:
    return _REGISTRY.get(op_id)


def get_operation_by_route(route: str) -> Operation | None:
    return _BY_ROUTE.get(route.strip("/"))


def all_operations() -> list[Operation]:
    return sorted(_REGISTRY.values(), key=lambda op: op.id)
