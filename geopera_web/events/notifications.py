"""In-app notifications (and e-mail per preference), fed by committed events and routed by role:
pending and expiring decisions and a low wallet go to every org admin; an order's status,
deliveries and coverage go to the order's creator and its watchers; other types go to whom the
domain app that emits them says (`register_recipients`, e.g. a watch's watchers for
`watch.matched`)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from geopera_web.accounts.models import Membership, Organization, Role, User
from geopera_web.errors import InvalidInput, NotFound, parse_uuid

from .models import Event, Notification, NotificationDigest, NotificationPreference, OrderWatcher
from .services import events_locked_unstamped

logger = logging.getLogger(__name__)

_TO_ADMINS = {"decision.pending", "decision.expiring", "wallet.low_balance", "budget.threshold_reached"}
_TO_CREATOR = {"order.status_changed", "delivery.received", "coverage.updated", "decision.decided"}
# ...and to the people watching the order (`OrderWatcher`).
_TO_WATCHERS = {"order.status_changed", "delivery.received", "coverage.updated"}


# Kinds a person is e-mailed of unless they turned it off (they asked to be told: a watch).
_EMAIL_BY_DEFAULT = {"watch.matched"}

# event type -> the batch's recipients by event id (one query per batch, by the domain app that
# emits the type; the platform imports no domain app). Registered in an app's ready().
RecipientsResolver = Callable[[list[Event]], dict[Any, list[int]]]
_RESOLVERS: dict[str, RecipientsResolver] = {}


def register_recipients(event_type: str, resolver: RecipientsResolver) -> None:
    _RESOLVERS[event_type] = resolver


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
            return f"Coverage of {name} updated", f"Up to {pct:.0f}% of an area covered", link
        case "watch.matched":
            n = int(p.get("captures") or 0)
            watch = p.get("watchName") or "a watch"
            return (
                f"{n} new capture{'s' if n != 1 else ''} for the watch “{watch}”",
                f"They cover {float(p.get('newCoveragePercent') or 0):.1f}% of the watched area: "
                "review them and their price, then add them to your cart.",
                str(p.get("path") or ""),
            )
    return event.type, "", link


def _creator(event: Event) -> int | None:
    if event.type not in _TO_CREATOR:
        return None
    try:
        return int(event.payload.get("createdBy") or 0) or None
    except (TypeError, ValueError):
        return None


def recipients_by_event(events: list[Event]) -> dict[Any, list[int]]:
    """Who hears of each event (by event id): admins, or the order's creator and its watchers
    (each person once, members of the event's org only), in at most three queries for the whole
    batch however many events, orders and watchers."""
    admin_orgs = {e.org_id for e in events if e.type in _TO_ADMINS}
    admins: dict[Any, list[int]] = {}
    if admin_orgs:
        for org_id, uid in Membership.objects.filter(
            org_id__in=admin_orgs, role=Role.ADMIN, user__is_active=True
        ).values_list("org_id", "user_id"):
            admins.setdefault(org_id, []).append(uid)
    watched = {(e.org_id, oid) for e in events if e.type in _TO_WATCHERS and (oid := parse_uuid(e.order_id))}
    watchers: dict[tuple[Any, Any], list[int]] = {}
    if watched:
        for org_id, order_id, uid in OrderWatcher.objects.filter(
            org_id__in={g for g, _ in watched}, order_id__in={o for _, o in watched}
        ).values_list("org_id", "order_id", "user_id"):
            if (org_id, order_id) in watched:
                watchers.setdefault((org_id, order_id), []).append(uid)
    resolved: dict[Any, list[int]] = {}
    for event_type, resolver in _RESOLVERS.items():
        if batch := [e for e in events if e.type == event_type]:
            resolved.update(resolver(batch))
    people = {(e.org_id, uid) for e in events if (uid := _creator(e))}
    people |= {(org_id, uid) for (org_id, _), uids in watchers.items() for uid in uids}
    people |= {(e.org_id, uid) for e in events for uid in resolved.get(e.pk, [])}
    # Someone who left the org (or was deactivated) hears nothing more of its orders.
    members: set[tuple[Any, int]] = set()
    if people:
        members = set(
            Membership.objects.filter(
                org_id__in={o for o, _ in people},
                user_id__in={u for _, u in people},
                user__is_active=True,
            ).values_list("org_id", "user_id")
        )
    out: dict[Any, list[int]] = {}
    for e in events:
        if e.type in _TO_ADMINS:
            out[e.pk] = list(admins.get(e.org_id, []))
            continue
        users: list[int] = []
        if uid := _creator(e):
            users.append(uid)
        if e.type in _TO_WATCHERS:
            users += watchers.get((e.org_id, parse_uuid(e.order_id)), [])
        users += resolved.get(e.pk, [])
        out[e.pk] = [u for u in dict.fromkeys(users) if (e.org_id, u) in members]
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
            email = pref.email if pref else note.kind in _EMAIL_BY_DEFAULT
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
                        message=f"{note.body}\n\n{_absolute(note.link)}",
                        from_email=None,
                        recipient_list=[address],
                    )
                except Exception:
                    logger.exception("Could not mail a %s notification", note.kind)

        if outgoing:
            transaction.on_commit(send)
    return created


def _absolute(link: str) -> str:
    """An e-mailed link is absolute (SITE_URL); the in-app one stays a path."""
    return settings.SITE_URL.rstrip("/") + link if link.startswith("/") else link


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
        events = events_locked_unstamped(ids, stamp="notified_at")
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


# --- watchers ------------------------------------------------------------------------------------


def order_watcher_set(*, org: Organization, user: User, order_id: uuid.UUID, watching: bool) -> bool:
    """Start or stop `user` watching an order (idempotent). Precondition: the caller has checked
    that the order is `org`'s and that `user` is a member of `org` (`orders.services.order_watch_set`)."""
    if watching:
        OrderWatcher.objects.get_or_create(org=org, order_id=order_id, user=user)
    else:
        OrderWatcher.objects.filter(org=org, order_id=order_id, user=user).delete()
    return watching


def order_watch_state(*, org: Organization, user: User, order_id: uuid.UUID) -> dict[str, Any]:
    """Whether `user` watches the order and how many people do (one query)."""
    return OrderWatcher.objects.filter(org=org, order_id=order_id).aggregate(
        count=Count("id"), watching=Count("id", filter=Q(user=user))
    ) | {"order_id": order_id}


# --- preferences ----------------------------------------------------------------------------------

# What a person can be told of, in the order the preferences form lists them, with who hears it.
NOTIFIABLE: dict[str, tuple[str, str]] = {
    "decision.pending": ("A decision waits (study, quotation, spend approval)", "admins"),
    "decision.expiring": ("A pending decision expires soon", "admins"),
    "decision.decided": ("A decision on your order was made", "the order's creator"),
    "order.status_changed": ("An order changed status", "the order's creator and watchers"),
    "delivery.received": ("Imagery was delivered", "the order's creator and watchers"),
    "coverage.updated": ("An order's coverage changed", "the order's creator and watchers"),
    "wallet.low_balance": ("Credits are running low", "admins"),
    "budget.threshold_reached": ("A workspace budget threshold was reached", "admins"),
    "webhook.disabled": ("A webhook endpoint was disabled", "admins"),
    "watch.matched": (
        "New archive captures matched a watch (e-mailed unless turned off)",
        "the watch's watchers",
    ),
}
EMAIL_MODES: dict[str, str] = {"off": "Off", "immediate": "Immediately", "daily": "Daily digest"}


@dataclass(frozen=True)
class PreferenceChoice:
    in_app: bool
    email: str  # a key of EMAIL_MODES


def _validate_preference(event_type: str, choice: PreferenceChoice) -> list[dict[str, Any]]:
    errors = []
    if event_type not in NOTIFIABLE:
        errors.append(
            {"loc": [event_type], "msg": "Not something you can be notified of.", "type": "value_error"}
        )
    if choice.email not in EMAIL_MODES:
        errors.append(
            {
                "loc": [event_type, "email"],
                "msg": "Choose how e-mail is sent: " + ", ".join(EMAIL_MODES.values()).lower() + ".",
                "type": "value_error",
            }
        )
    return errors


@transaction.atomic
def preferences_set(*, user: User, choices: dict[str, PreferenceChoice]) -> list[NotificationPreference]:
    """Set the person's own channels for several event types at once: all of them or, if any is
    invalid, none (an InvalidInput listing every bad one)."""
    errors = [e for event_type, choice in choices.items() for e in _validate_preference(event_type, choice)]
    if errors:
        raise InvalidInput(errors[0]["msg"], errors=errors)
    return [
        NotificationPreference.objects.update_or_create(
            user=user,
            event_type=event_type,
            defaults={
                "in_app": choice.in_app,
                "email": choice.email != "off",
                "digest": choice.email == "daily",
            },
        )[0]
        for event_type, choice in choices.items()
    ]


def preference_set(*, user: User, event_type: str, in_app: bool, email: str) -> NotificationPreference:
    """The person's channels for one event type: in the app or not, and e-mail off, immediately or
    in the daily digest."""
    return preferences_set(user=user, choices={event_type: PreferenceChoice(in_app, email)})[0]


def preferences_for(*, user: User) -> list[dict[str, Any]]:
    """Every notifiable type with the person's current choice (the default where none was made)."""
    saved = {p.event_type: p for p in NotificationPreference.objects.filter(user=user)}
    rows = []
    for event_type, (label, audience) in NOTIFIABLE.items():
        pref = saved.get(event_type)
        rows.append(
            {
                "event_type": event_type,
                "label": label,
                "audience": audience,
                "in_app": pref.in_app if pref else True,
                "email": pref.email_mode
                if pref
                else ("immediate" if event_type in _EMAIL_BY_DEFAULT else "off"),
            }
        )
    return rows


# --- the daily digest ------------------------------------------------------------------------------

# Lines listed per digest: NOTIFICATION_DIGEST_MAX_LINES (a setting, read per send).


def _digest_claim(*, user_id: int, day: date) -> None:
    """Attach the person's waiting lines to their open digest: one not yet sent (a failed send is
    retried with what came since), else today's, unless today's has gone out already (then the
    lines wait for tomorrow's). Row locks keep two runs from claiming the same lines."""
    with transaction.atomic():
        unsent = NotificationDigest.objects.select_for_update(skip_locked=True).filter(
            user_id=user_id, sent_at__isnull=True
        )
        digest = unsent.order_by("day").first()
        if digest is None:
            NotificationDigest.objects.bulk_create(
                [NotificationDigest(user_id=user_id, day=day)], ignore_conflicts=True
            )
            digest = unsent.filter(day=day).first()
            if digest is None:  # today's was sent (or another run holds it)
                return
        Notification.objects.filter(user_id=user_id, digest_pending=True).update(
            digest=digest, digest_pending=False
        )


def _digest_send(*, digest_id: int, now: datetime) -> bool:
    """Mail one claimed digest and record it, holding its row lock (a second run skips it)."""
    with transaction.atomic():
        digest = (
            NotificationDigest.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user")
            .filter(pk=digest_id, sent_at__isnull=True)
            .first()
        )
        if digest is None:
            return False
        most = settings.NOTIFICATION_DIGEST_MAX_LINES
        lines = list(digest.lines.order_by("created_at")[:most])
        total = digest.lines.count() if len(lines) == most else len(lines)
        user = digest.user
        sent = bool(lines and user.email and user.is_active)
        if sent:
            text = "\n".join(f"- {n.title}: {n.body} {n.link}".rstrip() for n in lines)
            if total > len(lines):
                text += f"\n… and {total - len(lines)} more on your notifications page."
            # A failure raises: nothing is recorded and the next run retries this digest.
            send_mail(
                subject=f"[geopera] {total} update{'s' if total != 1 else ''} of {digest.day:%d %b}",
                message=text,
                from_email=None,
                recipient_list=[user.email],
            )
        digest.sent_at = now
        digest.line_count = total
        digest.save(update_fields=["sent_at", "line_count"])
    return sent


def digests_send(*, now: datetime | None = None) -> int:
    """The daily digest (Celery beat): at most one e-mail per person per day with their waiting
    lines; running it twice the same day sends nothing more. Returns how many mails went out."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    waiting = (
        Notification.objects.filter(digest_pending=True)
        .values_list("user_id", flat=True)
        .distinct()
        .order_by("user_id")
    )
    for user_id in waiting[:5000]:
        _digest_claim(user_id=user_id, day=day)
    sent = 0
    for digest_id in NotificationDigest.objects.filter(sent_at__isnull=True).values_list("pk", flat=True)[
        :5000
    ]:
        try:
            sent += _digest_send(digest_id=digest_id, now=now)
        except Exception:
            logger.exception("Could not send digest %s", digest_id)
    return sent
