"""Factories for tests: real rows, made through the same services the product uses."""

from __future__ import annotations

import itertools

import factory

from geopera_web.accounts.models import Membership, Organization, User

_seq = itertools.count(1)
DEFAULT_PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    username = factory.SelfAttribute("email")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


def make_org(*, name: str | None = None, billing_mode: str = "credit", credits: int = 0) -> Organization:
    from geopera_web.accounts.services import org_create

    return org_create(name=name or f"Org {next(_seq)}", billing_mode=billing_mode, credits=credits)


def make_user(
    *, org: Organization | None, role: str | None = "operator", email: str | None = None, staff: bool = False
) -> User:
    user = UserFactory(email=email or f"person{next(_seq)}@example.test", is_staff=staff)
    if org is not None:
        Membership.objects.create(user=user, org=org, role=role or "operator")
    return user
