"""`manage.py seed_demo` plumbing: the platform seeds orgs and people; each domain app registers a
seeder (in its AppConfig.ready) that adds its own demo data. Seeders must be idempotent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DemoWorld:
    """What the platform seeded, handed to every domain seeder."""

    orgs: dict[str, Any]  # key -> Organization ("acme", "blue")
    users: dict[
        str, Any
    ]  # key -> User ("acme_admin", "acme_operator", "acme_viewer", "blue_admin", ..., "staff")
    log: Callable[[str], None]


Seeder = Callable[[DemoWorld], None]
_SEEDERS: list[tuple[int, str, Seeder]] = []


def register_seeder(*, order: int, name: str, seeder: Seeder) -> None:
    if not any(n == name for _, n, _ in _SEEDERS):
        _SEEDERS.append((order, name, seeder))


def seeders() -> list[tuple[int, str, Seeder]]:
    return sorted(_SEEDERS, key=lambda s: s[0])
