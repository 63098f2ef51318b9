"""In-app notifications (and e-mail per preference), fed by committed events and routed by role:
pending and expiring decisions and a low wallet go to every org admin; an order's status,
deliveries and coverage go to the order's creator."""

from __future__ import annotations

import logging
from typing import Any

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from geopera_web.accounts.models import Membership, Organization, Role, User
from geopera_web.errors import NotFound, parse_uuid

from .models import Event, Notification, NotificationPreference

logger = logging.getLogger(__name__)

_TO_ADMINS = {"decision.pending", "decision.expiring", "wallet.low_balance", "budget.threshold_reached"}
_TO_CREATOR = {"order.status_changed", "delivery.received", "coverage.updated", "decision.decided"}


_DECISION_WORDS = {"feasibility": "feasibility study", "quotation": "quotation", "approval": "spend approval"}


def _title(event: Event) -> tuple[str, str, str]:
    p = event.payload
    what = _DECISION_WORDS.get(str(p.get("decisionKind")), "decision")
    name = p.get("displayName") or "An order"
    link = f"/orders/{p['orderId']}/" if p.get("orderId") else ""
    match event.type:
        case "decision.pending":
            return f"A {what} waits for your decision", name, "/inbox/"
        case "decision.expiring":
            return (
                f"A {what} expires soon",
                f"{name}: decide before {p.get('deadline', '')[:16]}",
                "/inbox/",
            )
        case "decision.decided":
            return (
                f"{str(p.get('decisionKind', 'decision')).capitalize()} {str(p.get('decision', '')).lower()}",
                name,
                link,
            )
        case "wallet.low_balance":
            return "Credits are running low", f"{p.get('availableCredits', 0):,} credits left", "/billing/"
        case "budget.threshold_reached":
            return "A workspace budget threshold was reached", "", "/billing/"
        case "order.status_changed":
            status = str(p.get("toStatus") or p.get("status") or "").split("/")[0].replace("_", " ")
            return f"{name} is now {status}", p.get("message", ""), link
        case "delivery.received":
            return f"New imagery delivered for {name}", p.get("message", ""), link
        case "coverage.updated":
            pct = max((g.get("percent", 0) for g in p.get("groups", [])), default=0)
            return f"Coverage of {name} updated", f"Up to {pct:.0f} % of an area covered", link
    return event.type, "", link


def recipients_for(event: Event) -> list[int]:
    if event.type in _TO_ADMINS:
        return list(
            Membership.objects.filter(org_id=event.org_id, role=Role.ADMIN, user__is_active=True).values_list(
                "user_id", flat=True
            )
        )
    if event.type in _TO_CREATOR and event.payload.get("createdBy"):
        uid = event.payload["createdBy"]
        return list(
            Membership.objects.filter(org_id=event.org_id, user_id=uid, user__is_active=True).values_list(
                "user_id", flat=True
            )
        )
    return []


def notify_users(
    *,
    users: list[int],
    org_id: Any,
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    event: Event | None = None,
) -> list[Notification]:
    """Write the notifications (per each person's preference for `kind`) and queue the e-mails."""
    if not users:
        return []
    prefs = {p.user_id: p for p in NotificationPreference.objects.filter(user_id__in=users, event_type=kind)}
    rows, mail_to = [], []
    for uid in users:
        pref = prefs.get(uid)
        in_app = pref.in_app if pref else True
        email = pref.email if pref else False
        digest = bool(pref and pref.email and pref.digest)
        if in_app or digest:
            rows.append(
                Notification(
                    user_id=uid,
                    org_id=org_id,
                    event=event,
                    kind=kind,
                    title=title[:200],
                    body=body[:1000],
                    link=link[:500],
                    digest_pending=digest,
                    # a digest-only line (in-app off) is not shown in the feed
                    dismissed_at=None if in_app else timezone.now(),
                )
            )
        if email and not digest:
            mail_to.append(uid)
    created = Notification.objects.bulk_create(rows)
    if mail_to:
        addresses = [e for e in User.objects.filter(pk__in=mail_to).values_list("email", flat=True) if e]

        def send() -> None:
            for address in addresses:
                try:
                    send_mail(
                        subject=f"[geopera] {title}"[:200],
                        message=f"{body}\n\n{link}",
                        from_email=None,
                        recipient_list=[address],
                    )
                except Exception:
                    logger.exception("Could not mail a %s notification", kind)

        transaction.on_commit(send)
    return created


def _consumer(event: Event) -> None:
    users = recipients_for(event)
    if not users:
        return
    title, body, link = _title(event)
    with transaction.atomic():
        notify_users(
            users=users, org_id=event.org_id, kind=event.type, title=title, body=body, link=link, event=event
        )


# --- the feed (selectors and services) ------------------------------------------------------------


def feed(*, user: User, org: Organization, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(user=user, org=org, dismissed_at__isnull=True)
    return qs.filter(read_at__isnull=True) if unread_only else qs


def unread_count(*, user: User, org: Organization) -> int:
    return feed(user=user, org=org, unread_only=True).count()


def _own(*, user: User, org: Organization, notification_id: object) -> Notification:
    pk = parse_uuid(notification_id)
    n = Notification.objects.filter(pk=pk, user=user, org=org).first() if pk else None
    if n is None:
        raise NotFound("No such notification.")
    return n


def mark_read(*, user: User, org: Organization, notification_id: object) -> Notification:
    n = _own(user=user, org=org, notification_id=notification_id)
    if n.read_at is None:
        n.read_at = timezone.now()
        n.save(update_fields=["read_at"])
    return n


def dismiss(*, user: User, org: Organization, notification_id: object) -> Notification:
    n = _own(user=user, org=org, notification_id=notification_id)
    now = timezone.now()
    n.dismissed_at = n.dismissed_at or now
    n.read_at = n.read_at or now
    n.save(update_fields=["dismissed_at", "read_at"])
    return n


def mark_all_read(*, user: User, org: Organization) -> int:
    return feed(user=user, org=org, unread_only=True).update(read_at=timezone.now())


def digests_send() -> int:
    """One e-mail per person with their pending digest lines (the beat runs it daily)."""
    sent = 0
    pending = (
        Notification.objects.filter(digest_pending=True)
        .select_related("user")
        .order_by("user_id", "created_at")
    )
    by_user: dict[int, list[Notification]] = {}
    for n in pending[:5000]:
        by_user.setdefault(n.user_id, []).append(n)
    for lines in by_user.values():
        user = lines[0].user
        if user.email and user.is_active:
            text = "\n".join(f"- {n.title}: {n.body} {n.link}".rstrip() for n in lines)
            try:
                send_mail(
                    subject=f"[geopera] {len(lines)} update(s)",
                    message=text,
                    from_email=None,
                    recipient_list=[user.email],
                )
                sent += 1
            except Exception:
                logger.exception("Could not send a digest")
                continue
        Notification.objects.filter(pk__in=[n.pk for n in lines]).update(digest_pending=False)
    return sent
