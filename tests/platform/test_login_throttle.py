"""Login throttling (django-axes): per account and per IP, a clear lockout page, an audited unlock
for support; API credentials are not affected. Password validators are Django's standard four."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from geopera_web.accounts.services import support_group_ensure
from tests.conftest import DEMO_PASSWORD, caller_for_user
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def _login(client: Client, email: str, password: str, ip: str = "203.0.113.7"):
    return client.post("/login/", {"username": email, "password": password}, REMOTE_ADDR=ip)


@pytest.fixture
def limit(settings):
    return settings.AXES_FAILURE_LIMIT


def test_account_locks_after_the_limit_even_with_the_right_password(client, operator_user, limit):
    for _ in range(limit - 1):
        assert _login(client, operator_user.email, "wrong").status_code == 200
    locked = _login(client, operator_user.email, "wrong")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    # The right password from another network does not get through while the account is locked,
    # and the email's case does not matter.
    again = _login(client, operator_user.email.upper(), DEMO_PASSWORD, ip="198.51.100.9")
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session


def test_one_ip_trying_many_accounts_is_locked_out(client, org, limit):
    users = [make_user(org=org, email=f"u{i}@acme.example") for i in range(limit)]
    for user in users[:-1]:
        assert _login(client, user.email, "wrong", ip="192.0.2.50").status_code == 200
    assert _login(client, users[-1].email, "wrong", ip="192.0.2.50").status_code == 429
    # A different IP and an untouched account still sign in.
    fresh = make_user(org=org, email="fresh@acme.example")
    assert _login(Client(), fresh.email, DEMO_PASSWORD, ip="192.0.2.99").status_code == 302


def test_x_forwarded_for_does_not_dodge_the_ip_lockout(client, org, limit):
    users = [make_user(org=org, email=f"x{i}@acme.example") for i in range(limit)]
    for i, user in enumerate(users):
        response = client.post(
            "/login/",
            {"username": user.email, "password": "wrong"},
            REMOTE_ADDR="192.0.2.60",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{i}",
        )
    assert response.status_code == 429


def test_a_successful_login_clears_the_accounts_failures(client, operator_user, limit):
    for _ in range(limit - 1):
        _login(client, operator_user.email, "wrong")
    assert _login(client, operator_user.email, DEMO_PASSWORD).status_code == 302
    client.logout()
    for _ in range(limit - 1):
        assert _login(client, operator_user.email, "wrong").status_code == 200


def test_api_tokens_keep_working_while_the_account_is_locked(client, operator_user, org, limit):
    api = caller_for_user(operator_user, org)
    for _ in range(limit):
        _login(client, operator_user.email, "wrong")
    assert api.post("orders.list", {}).status_code == 200


def test_admin_login_is_throttled_too(client, limit):
    staff = make_user(org=None, role=None, email="ops@geopera.example", staff=True)
    for _ in range(limit):
        response = client.post(
            "/admin/login/", {"username": staff.email, "password": "wrong"}, REMOTE_ADDR="203.0.113.80"
        )
    assert response.status_code == 429


def test_support_unlocks_with_an_audited_admin_action(client, operator_user, limit, caplog):
    from axes.models import AccessAttempt

    for _ in range(limit):
        _login(Client(), operator_user.email, "wrong")
    attempt = AccessAttempt.objects.get(username=operator_user.email)
    support = make_user(org=None, role=None, email="desk@geopera.example", staff=True)
    support.groups.add(support_group_ensure())
    client.force_login(support)
    with caplog.at_level("WARNING", logger="geopera.audit"):
        response = client.post(
            "/admin/axes/accessattempt/", {"action": "unlock_selected", "_selected_action": [attempt.pk]}
        )
    assert response.status_code == 302
    assert "login.unlock" in caplog.text and "desk@geopera.example" in caplog.text
    assert _login(Client(), operator_user.email, DEMO_PASSWORD).status_code == 302


def test_support_cannot_delete_attempt_rows_by_hand(client, operator_user, limit):
    from axes.models import AccessAttempt

    _login(Client(), operator_user.email, "wrong")
    attempt = AccessAttempt.objects.get(username=operator_user.email)
    support = make_user(org=None, role=None, email="desk2@geopera.example", staff=True)
    support.groups.add(support_group_ensure())
    client.force_login(support)
    assert client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()


def test_login_lockout_page_renders_in_the_browser_message(client, operator_user, limit):
    for _ in range(limit):
        response = _login(client, operator_user.email, "wrong")
    page = response.content.decode()
    assert 'data-testid="locked-out"' in page and "15 minutes" in page


@pytest.mark.parametrize("password", ["short1", "password123", "12345678901", "acme.example"])
def test_weak_passwords_are_refused(password, operator_user):
    with pytest.raises(ValidationError):
        validate_password(password, user=operator_user)


def test_a_good_password_passes(operator_user):
    validate_password("lantern-orbit-quartz-57", user=operator_user)


def test_create_user_refuses_a_weak_password():
    from geopera_web.accounts.services import user_create
    from geopera_web.errors import ApplicationError

    with pytest.raises(ApplicationError, match="stronger password"):
        user_create(email="weak@acme.example", password="password123")


def test_server_side_authenticate_without_a_request_still_works(operator_user):
    """Management code and the test client's login() pass no request: not throttled, not broken."""
    from django.contrib.auth import authenticate

    assert authenticate(username=operator_user.email, password=DEMO_PASSWORD) == operator_user
