"""In-app notifications (and e-mail per preference), fed by committed events and routed by role:
pending and expiring decisions and a low wallet go to every org admin; an order's status,
deliveries and coverage go to the order's creator."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
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


def _creator(event: Event) -> int | None:
    if event.type not in _TO_CREATOR:
        return None
    try:
        return int(event.payload.get("createdBy") or 0) or None
    except (TypeError, ValueError):
        return None


def recipients_by_event(events: list[Event]) -> dict[Any, list[int]]:
    """Who hears of each event (by event id), in at most two queries for the whole batch."""
    admin_orgs = {e.org_id for e in events if e.type in _TO_ADMINS}
    admins: dict[Any, list[int]] = {}
    if admin_orgs:
        for org_id, uid in Membership.objects.filter(
            org_id__in=admin_orgs, role=Role.ADMIN, user__is_active=True
        ).values_list("org_id", "user_id"):
            admins.setdefault(org_id, []).append(uid)
    creators = {(e.org_id, uid) for e in events if (uid := _creator(e))}
    members: set[tuple[Any, int]] = set()
    if creators:
        members = set(
            Membership.objects.filter(
                org_id__in={o for o, _ in creators},
                user_id__in={u for _, u in creators},
                user__is_active=True,
            ).values_list("org_id", "user_id")
        )
    out: dict[Any, list[int]] = {}
    for e in events:
        if e.type in _TO_ADMINS:
            out[e.pk] = list(admins.get(e.org_id, []))
        elif (uid := _creator(e)) and (e.org_id, uid) in members:
            out[e.pk] = [uid]
        else:
            out[e.pk] = []
    return out


def recipients_for(event: Event) -> list[int]:
    return recipients_by_event([event])[event.pk]


@dataclass(frozen=True)
class Note:
    """One message to some people of one org (each gets a line per their preference for `kind`)."""

    users: list[int]
    org_id: Any
    kind: str
    title: str
    body: str = ""
    link: str = ""
    event: Event | None = None


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
    return notify_many([Note(users, org_id, kind, title, body, link, event)])


def notify_many(notes: list[Note]) -> list[Notification]:
    """`notify_users` for several messages at once: preferences, the rows and the e-mail addresses
    are one statement each, however many messages and people."""
    notes = [n for n in notes if n.users]
    if not notes:
        return []
    prefs = {
        (p.user_id, p.event_type): p
        for p in NotificationPreference.objects.filter(
            user_id__in={u for n in notes for u in n.users}, event_type__in={n.kind for n in notes}
        )
    }
    rows: list[Notification] = []
    mails: list[tuple[Note, int]] = []
    now = timezone.now()
    for note in notes:
        for uid in note.users:
            pref = prefs.get((uid, note.kind))
            in_app = pref.in_app if pref else True
            email = pref.email if pref else False
            digest = bool(pref and pref.email and pref.digest)
            if in_app or digest:
                rows.append(
                    Notification(
                        user_id=uid,
                        org_id=note.org_id,
                        event=note.event,
                        kind=note.kind,
                        title=note.title[:200],
                        body=note.body[:1000],
                        link=note.link[:500],
                        digest_pending=digest,
                        # a digest-only line (in-app off) is not shown in the feed
                        dismissed_at=None if in_app else now,
                    )
                )
            if email and not digest:
                mails.append((note, uid))
    created = Notification.objects.bulk_create(rows)
    if mails:
        addresses = {
            pk: e
            for pk, e in User.objects.filter(pk__in={u for _, u in mails}).values_list("pk", "email")
            if e
        }
        outgoing = [(note, addresses[uid]) for note, uid in mails if uid in addresses]

        def send() -> None:
            for note, address in outgoing:
                try:
                    send_mail(
                        subject=f"[geopera] {note.title}"[:200],
                        message=f"{note.body}\n\n{note.link}",
                        from_email=None,
                        recipient_list=[address],
                    )
                except Exception:
                    logger.exception("Could not mail a %s notification", note.kind)

        if outgoing:
            transaction.on_commit(send)
    return created


def events_notify(event_ids: Iterable[object]) -> list[Notification]:
    """Write the notifications of committed events, each event once: the events not yet notified
    are locked, their lines written and the events stamped `notified_at` in one transaction, so a
    crash leaves an event either notified or not (then the sweep notifies it), never half; a
    redelivery or a racing sweep waits for the lock and then finds nothing to do (and the unique
    (event, user) constraint refuses a second line whatever happens)."""
    ids = list(event_ids)
    if not ids:
        return []
    with transaction.atomic():
        events = list(
            Event.objects.select_for_update()
            .filter(pk__in=ids, notified_at__isnull=True)
            .order_by("created_at", "pk")
        )
        if not events:
            return []
        recipients = recipients_by_event(events)
        notes = []
        for event in events:
            if users := recipients[event.pk]:
                title, body, link = _title(event)
                notes.append(Note(users, event.org_id, event.type, title, body, link, event))
        created = notify_many(notes)
        Event.objects.filter(pk__in=[e.pk for e in events]).update(notified_at=timezone.now())
    return created


def _consumer(events: list[Event]) -> None:
    """The outbox's batch consumer (in the process that committed the events, after the commit)."""
    events_notify(e.pk for e in events)


def sweep_unnotified(limit: int = 500) -> int:
    """Committed events still without `notified_at` after SWEEP_GRACE_SECONDS (the process that
    committed them died before its after-commit fan-out, or the fan-out failed): queue their
    fan-out. Run by the beat's sweeps (geopera_web/ops/sweeper.py)."""
    from geopera_web.ops.sweeper import enqueue

    from .tasks import notify_events

    cutoff = timezone.now() - timedelta(seconds=settings.SWEEP_GRACE_SECONDS)
    ids = [
        str(pk)
        for pk in Event.objects.filter(notified_at__isnull=True, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    ]
    return len(ids) if ids and enqueue(notify_events, ids) else 0


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
