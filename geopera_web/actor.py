"""Who did something: a person, an organization's API key, or the system.

Services are called by views (with `request.user`), by API handlers (with the caller's
`Principal`), by Celery tasks and the demo seeder (with nothing), and by other services (with an
`Actor` they resolved already). `actor_of(...)` turns any of those into one `Actor`, once, at the
top of the service; everything below reads its fields instead of probing the object it was given.

- `user` is the signed-in person behind the action, or None (an API key, the system, an
  anonymous request): it is what foreign keys such as `created_by` / `decided_by` store.
- `api_key` is the org API key that acted, when it was one.
- `label` is what a timeline or audit trail shows ("Alice Nguyen", "API key Nightly ingest",
  "system").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from geopera_web.accounts.models import ApiKey, User
    from geopera_web.api.registry import Principal

SYSTEM_LABEL = "system"


@dataclass(frozen=True)
class Actor:
    user: User | None = None
    api_key: ApiKey | None = None
    label: str = SYSTEM_LABEL

    @property
    def is_system(self) -> bool:
        return self.user is None and self.api_key is None

    @property
    def is_api_key(self) -> bool:
        return self.api_key is not None

    @property
    def is_staff(self) -> bool:
        """Support staff (the reseller's own people, `User.is_staff`)."""
        return bool(self.user is not None and self.user.is_staff)


SYSTEM = Actor()

# What services accept as `actor=`: resolved with `actor_of`.
ActorLike: TypeAlias = "Actor | User | Principal | None"


def actor_of(value: Any) -> Actor:
    """The Actor for a User, a Principal (API caller), an Actor, or None (the system).

    An anonymous user is treated as no user (its label is its string form). Anything else is a
    programming error and raises TypeError rather than being recorded under a wrong name.
    """
    if value is None:
        return SYSTEM
    if isinstance(value, Actor):
        return value
    from geopera_web.api.registry import Principal

    if isinstance(value, Principal):
        user = value.user if value.user is not None and value.user.is_authenticated else None
        return Actor(user=user, api_key=value.api_key, label=str(value.label))
    if hasattr(value, "is_authenticated"):  # a User or AnonymousUser
        user = value if value.is_authenticated else None
        name = getattr(value, "display_name", None) or str(value)
        return Actor(user=user, label=str(name))
    raise TypeError(f"Cannot tell who acted from {type(value).__name__}")
