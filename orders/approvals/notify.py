"""The one seam through which spend policies tell people and systems what happened: approval
requested / approved / rejected, budget 80 % / 100 % reached.

Each notice is an e-mail to the people concerned (the org's admins unless `recipients` is given),
sent only after the transaction commits, and — once the platform's outbox is there — an event row
written in the same transaction (webhooks and in-app notifications are driven from it)."""

from __future__ import annotations

import logging
from typing import Any

from django.core.mail import send_mail
from django.db import transaction

from geopera_web.accounts.models import Membership, Organization, Role

logger = logging.getLogger(__name__)


def _emit_outbox_event(*, org: Organization, event: str, payload: dict[str, Any]) -> None:
    try:
        from geopera_web.events.services import event_emit  # type: ignore[import-not-found]
    except ImportError:  # the outbox is not part of this build yet
        return
    event_emit(org=org, type=event, data=payload)


def spend_notify(
    *,
    org: Organization,
    event: str,
    subject: str,
    body: str,
    payload: dict[str, Any],
    recipients: list[str] | None = None,
) -> None:
    _emit_outbox_event(org=org, event=event, payload=payload)
    if recipients is None:
        recipients = list(
            Membership.objects.filter(org=org, role=Role.ADMIN, user__is_active=True).values_list(
                "user__email", flat=True
            )
        )
    recipients = [r for r in recipients if r]
    if not recipients:
        return

    def send() -> None:
        try:
            send_mail(subject=subject[:200], message=body, from_email=None, recipient_list=recipients)
        except Exception:  # a mail outage must not undo a committed decision
            logger.exception("Could not send %s notice to %d recipient(s)", event, len(recipients))

    transaction.on_commit(send)
