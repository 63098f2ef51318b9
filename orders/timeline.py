"""An order's timeline as people read it (issue 16, item 5): one wording per `OrderEvent.Kind`,
built from the event's structured fields (kind, steps, data) — never a status code, an event kind,
"capture(s)" or an unformatted number — with links to what the event concerns (the study, the
quotation, the delivery, the approval, the order's ledger rows).

`WORDING` has an entry for every kind (a test fails when a kind is added without one). Stored
messages are shown only where they are the user's own words (a note, tags) or the option's name.
Nothing here queries the database: the view passes what the links need (`TimelineContext`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse

from geopera_web.billing.templatetags.money import aud, credits

from .models import Order, OrderEvent
from .states import lifecycle_step

Kind = OrderEvent.Kind
S = Order.Status


@dataclass(frozen=True)
class Link:
    label: str
    href: str


@dataclass(frozen=True)
class TimelineContext:
    """What the wording may link to. `anchors`: the ids present on the order page (lineage nodes
    `lineage-<type>-<id>`); `delivery_anchors`: delivery batch ref -> its lineage anchor."""

    order: Order
    show_money: bool = False  # org admins see the ledger
    anchors: frozenset[str] = frozenset()
    delivery_anchors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TimelineLine:
    event: OrderEvent
    title: str
    sentence: str = ""
    links: tuple[Link, ...] = ()
    # (words, tone) of the status steps, for the kinds that move the order's status.
    from_step: tuple[str, str] | None = None
    to_step: tuple[str, str] | None = None


Words = tuple[str, str, list[Link]]


def money(value: Any) -> str:
    """ "12,345 cr (A$123.45)", with the filters every page uses."""
    value = int(value or 0)
    return f"{credits(value)} ({aud(value)})"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _ledger(ctx: TimelineContext) -> list[Link]:
    if not ctx.show_money:
        return []
    return [Link("Money movements", f"{reverse('billing:overview')}?order={ctx.order.pk}#ledger")]


def _anchor(ctx: TimelineContext, label: str, kind: str, obj_id: Any) -> list[Link]:
    anchor = f"lineage-{kind}-{obj_id}"
    return [Link(label, f"#{anchor}")] if obj_id and anchor in ctx.anchors else []


def _inbox(kind: str = "") -> list[Link]:
    return [Link("Open the inbox", reverse("tasking:inbox") + (f"?kind={kind}" if kind else ""))]


def _coverage(ctx: TimelineContext) -> list[Link]:
    if ctx.order.order_type != "tasking":
        return []
    return [Link("Coverage", reverse("orders:coverage", kwargs={"order_id": ctx.order.pk}))]


def _assets() -> list[Link]:
    return [Link("Assets", "#order-assets")]


def _held_credits(e: OrderEvent, ctx: TimelineContext) -> int:
    charge = ctx.order.charge if ctx.order.charge_id else None
    if charge is not None and str(charge.pk) == str(e.data.get("chargeId", charge.pk)):
        return charge.authorized_credits
    return ctx.order.total_credits


# --- one wording per kind ------------------------------------------------------------------------


def _placed(e: OrderEvent, ctx: TimelineContext) -> Words:
    total = e.data.get("totalCredits", ctx.order.total_credits)
    licence = e.data.get("licenseType")
    sentence = f"Placed for {money(total)}" + (f", {licence} license" if licence else "") + "."
    links = [Link("Price breakdown", "#order-groups-table")]
    if e.to_status.startswith(S.PENDING):
        sentence += " It is above the approval threshold, so an admin approves it before anything is spent."
    return "Order placed", sentence, links


_MODE_HELD = {
    "credit": "set aside from the wallet until the imagery is delivered",
    "card": "held on the card on file until the imagery is delivered",
    "enterprise": "added to this month's invoice",
}


def _payment_authorized(e: OrderEvent, ctx: TimelineContext) -> Words:
    mode = e.data.get("billingMode") or ctx.order.billing_mode
    how = _MODE_HELD.get(mode, "held")
    return "Payment held", f"{money(_held_credits(e, ctx))} {how}.", _ledger(ctx)


_STATUS_SENTENCE: dict[str, str] = {
    S.PENDING: "",
    S.PROCESSING: "The provider is preparing the imagery.",
    S.ACTIVE: "The acquisition has started.",
    S.FULFILLED: "Everything was delivered and the payment was taken.",
    S.PARTIALLY_FULFILLED: "The acquisition window ended below the coverage target; "
    "the part not covered was refunded.",
    S.FAILED: "The order could not be fulfilled; the payment held for it was released.",
    S.CANCELLED: "The order was cancelled.",
    S.REJECTED: "The order was rejected; nothing was charged.",
    S.EXPIRED: "The order expired; nothing was charged.",
    S.DRAFT: "",
}


def _status_changed(e: OrderEvent, ctx: TimelineContext) -> Words:
    status, _, sub = e.to_status.partition("/")
    links: list[Link] = []
    if sub in ("FEASIBILITY_WAITING_RESPONSE", "QUOTATION_WAITING_RESPONSE", "APPROVAL_WAITING_RESPONSE"):
        links += _inbox()
    if status == S.FULFILLED:
        links += _assets()
    if status in (S.PARTIALLY_FULFILLED, S.ACTIVE):
        links += _coverage(ctx)
    if status in (S.FULFILLED, S.PARTIALLY_FULFILLED, S.FAILED, S.CANCELLED):
        links += _ledger(ctx)
    return "Status changed", _STATUS_SENTENCE.get(status, ""), links


def _own_words(title: str) -> Callable[[OrderEvent, TimelineContext], Words]:
    """Kinds whose stored message is the user's own words (tags, notes)."""

    def words(e: OrderEvent, ctx: TimelineContext) -> Words:
        return title, e.message, []

    return words


def _draft(title: str) -> Callable[[OrderEvent, TimelineContext], Words]:
    def words(e: OrderEvent, ctx: TimelineContext) -> Words:
        return title, "", [Link("Areas and price", "#order-groups-table")]

    return words


def _referred(e: OrderEvent, ctx: TimelineContext) -> Words:
    return (
        "Referred to the support desk",
        "The automatic check could not answer, so our support team is studying the request.",
        [],
    )


def _study(title: str, sentence: str) -> Callable[[OrderEvent, TimelineContext], Words]:
    def words(e: OrderEvent, ctx: TimelineContext) -> Words:
        text = sentence
        links = _anchor(ctx, "Feasibility study", "feasibility_study", e.data.get("studyId"))
        if e.data.get("closedBecause"):
            return (
                "Feasibility study closed",
                f"It closed without a decision: {e.data['closedBecause']}",
                links,
            )
        if e.kind == Kind.FEASIBILITY_ACCEPTED and e.message.startswith("Option accepted: "):
            # The chosen option's name, as support wrote it.
            text = f"You chose: {e.message.removeprefix('Option accepted: ').rstrip('.')}."
        return title, text, links

    return words


def _quotation(title: str, template: str) -> Callable[[OrderEvent, TimelineContext], Words]:
    def words(e: OrderEvent, ctx: TimelineContext) -> Words:
        links = _anchor(ctx, "Quotation", "quotation", e.data.get("quotationId"))
        if e.data.get("closedBecause"):
            return (
                "Quote closed",
                f"The quote of {money(e.data.get('credits'))} closed without a decision; nothing was charged. "
                f"{e.data['closedBecause']}",
                links,
            )
        if e.kind == Kind.QUOTATION_ACCEPTED:
            links += _ledger(ctx)
        return title, template.format(money=money(e.data.get("credits"))), links

    return words


def _provider(title: str) -> Callable[[OrderEvent, TimelineContext], Words]:
    def words(e: OrderEvent, ctx: TimelineContext) -> Words:
        provider = e.data.get("provider") or "the provider"
        ref = e.data.get("providerRef") or e.data.get("ref")
        return title, f"Sent to {provider}" + (f" (their reference {ref})." if ref else "."), []

    return words


def _delivery(title: str) -> Callable[[OrderEvent, TimelineContext], Words]:
    def words(e: OrderEvent, ctx: TimelineContext) -> Words:
        delivered, failed = int(e.data.get("delivered") or 0), int(e.data.get("failed") or 0)
        sentence = _plural(delivered, "capture") + " delivered"
        if failed:
            sentence += f"; {_plural(failed, 'capture')} failed and will be acquired again"
        links = []
        anchor = ctx.delivery_anchors.get(e.data.get("batch", ""))
        if anchor:
            links.append(Link("Delivery", f"#{anchor}"))
        return title, sentence + ".", links + _assets() + _coverage(ctx)

    return words


def _per_area(groups: Iterable[dict], amount_key: str, verb: str) -> str:
    parts = [
        f"{g.get('name') or 'an area'}: {float(g.get('coveredPercent') or 0):.1f}% covered, "
        f"{credits(g.get(amount_key))} {verb}"
        for g in groups
    ]
    return ("; ".join(parts) + ".") if parts else ""


def _coverage_refund(e: OrderEvent, ctx: TimelineContext) -> Words:
    refund = e.data.get("refundCredits", 0)
    sentence = f"{money(refund)} refunded for the part of the areas not covered, in proportion per area."
    detail = _per_area(e.data.get("groups") or [], "refundCredits", "refunded")
    return (
        "Refund for the part not covered",
        " ".join(filter(None, [sentence, detail])),
        _coverage(ctx) + _ledger(ctx),
    )


def _cancel_settlement(e: OrderEvent, ctx: TimelineContext) -> Words:
    charged, released = e.data.get("chargedCredits", 0), e.data.get("releasedCredits", 0)
    sentence = f"{money(charged)} charged for the imagery delivered; {money(released)} released."
    detail = _per_area(e.data.get("groups") or [], "chargeCredits", "charged")
    return (
        "Cancelled: delivered share charged",
        " ".join(filter(None, [sentence, detail])),
        _coverage(ctx) + _ledger(ctx),
    )


def _when(value: Any) -> str:
    from django.utils.dateparse import parse_datetime

    parsed = parse_datetime(str(value or ""))
    return f"{parsed:%d %b %H:%M} UTC" if parsed else "its window"


def _series_links(e: OrderEvent, ctx: TimelineContext) -> list[Link]:
    links = []
    parent, child = e.data.get("parentOrderId"), e.data.get("childOrderId")
    if e.data.get("seriesId"):
        links.append(Link("The series", reverse("tasking:series", kwargs={"series_id": e.data["seriesId"]})))
    if child and str(child) != str(ctx.order.pk):
        links.append(Link("The occurrence's order", reverse("orders:detail", kwargs={"order_id": child})))
    elif parent and str(parent) != str(ctx.order.pk):
        links.append(Link("The series order", reverse("orders:detail", kwargs={"order_id": parent})))
    return links


def _series_occurrence(e: OrderEvent, ctx: TimelineContext) -> Words:
    n, of = e.data.get("index"), e.data.get("occurrences")
    sentence = (
        f"Occurrence {n} of {of} was ordered for {money(e.data.get('credits'))}, acquiring from "
        f"{_when(e.data.get('windowStart'))} to {_when(e.data.get('windowEnd'))}."
    )
    return "Series occurrence ordered", sentence, _series_links(e, ctx) + _ledger(ctx)


def _series_missed(e: OrderEvent, ctx: TimelineContext) -> Words:
    n, of = e.data.get("index"), e.data.get("occurrences")
    reason = e.data.get("reason") or ""
    return (
        "Series occurrence missed",
        f"Occurrence {n} of {of} was not ordered. {reason}".strip(),
        _series_links(e, ctx),
    )


def _series_rolled(e: OrderEvent, ctx: TimelineContext) -> Words:
    n = int(e.data.get("index") or 1)
    km2 = float(e.data.get("rolledKm2") or 0)
    sentence = f"{km2:,.1f} km² left uncovered by occurrence {n - 1} were added to occurrence {n}."
    return "Remainder rolled into the next occurrence", sentence, _series_links(e, ctx)


def _series_cancelled(e: OrderEvent, ctx: TimelineContext) -> Words:
    cancelled, running = int(e.data.get("cancelled") or 0), int(e.data.get("runningOn") or 0)
    sentence = f"{_plural(cancelled, 'occurrence')} not yet started cancelled"
    released = int(e.data.get("releasedCredits") or 0)
    sentence += f" ({money(released)} released)" if released else ""
    sentence += f"; {_plural(running, 'started occurrence')} run on." if running else "."
    return "Series cancelled", sentence, _series_links(e, ctx) + _ledger(ctx)


_ACTION_WORDS = {
    "archive_place": "this archive order",
    "quotation_accept": "accepting the quotation",
    "feasibility_accept": "a priced feasibility option",
}


def _approval(title: str, template: str) -> Callable[[OrderEvent, TimelineContext], Words]:
    def words(e: OrderEvent, ctx: TimelineContext) -> Words:
        what = _ACTION_WORDS.get(e.data.get("action", ""), "this order")
        sentence = template.format(money=money(e.data.get("credits")), what=what)
        if e.kind == Kind.APPROVAL_REQUESTED:
            note = e.message.partition(" Note: ")[2]  # the operator's own words
            if note:
                sentence += f" Note: {note}"
            links = _inbox("approval") if ctx.order.sub_status == "APPROVAL_WAITING_RESPONSE" else []
        else:
            reason = e.data.get("reason")
            if e.kind == Kind.APPROVAL_EXPIRED and reason:
                # Closed with its order (orders.approvals.services.approvals_close_for_order):
                # nobody decided, and it did not run out of time.
                return (
                    "Spend approval closed",
                    f"The request to spend {money(e.data.get('credits'))} on {what} closed without a "
                    f"decision; nothing was charged. {reason}",
                    [Link("Spend policy", reverse("orders:policies"))],
                )
            if reason:
                sentence += f" Reason: {reason}"
            links = []
        return title, sentence, links + [Link("Spend policy", reverse("orders:policies"))]

    return words


WORDING: dict[str, Callable[[OrderEvent, TimelineContext], Words]] = {
    Kind.PLACED: _placed,
    Kind.PAYMENT_AUTHORIZED: _payment_authorized,
    Kind.STATUS_CHANGED: _status_changed,
    Kind.TAGS_CHANGED: _own_words("Tags changed"),
    Kind.NOTE: _own_words("Note"),
    Kind.DRAFT_CREATED: _draft("Draft created"),
    Kind.DRAFT_SAVED: _draft("Draft saved"),
    Kind.FEASIBILITY_REFERRED: _referred,
    Kind.FEASIBILITY_ACCEPTED: _study("Feasibility option chosen", "A feasibility option was chosen."),
    Kind.FEASIBILITY_REJECTED: _study(
        "Feasibility study rejected", "The feasibility study was rejected; nothing was charged."
    ),
    Kind.FEASIBILITY_EXPIRED: _study(
        "Feasibility study expired", "The feasibility study expired before anyone chose an option."
    ),
    Kind.QUOTATION_ACCEPTED: _quotation("Quote accepted", "The quote of {money} was accepted."),
    Kind.QUOTATION_REJECTED: _quotation(
        "Quote rejected", "The quote of {money} was rejected; nothing was charged."
    ),
    Kind.QUOTATION_EXPIRED: _quotation(
        "Quote expired", "The quote of {money} expired unanswered; nothing was charged."
    ),
    Kind.PROVIDER_SUBMITTED: _provider("Sent to the provider"),
    Kind.PROVIDER_PLACED: _provider("Sent to the provider for acquisition"),
    Kind.DELIVERY_RECEIVED: _delivery("Imagery delivered"),
    Kind.DELIVERY_RECORDED: _delivery("Delivery recorded by support"),
    Kind.COVERAGE_REFUND: _coverage_refund,
    Kind.CANCEL_SETTLEMENT: _cancel_settlement,
    Kind.APPROVAL_REQUESTED: _approval(
        "Spend approval requested", "An admin was asked to approve spending {money} on {what}."
    ),
    Kind.APPROVAL_APPROVED: _approval("Spend approved", "An admin approved spending {money} on {what}."),
    Kind.APPROVAL_REJECTED: _approval(
        "Spend approval rejected", "An admin declined spending {money} on {what}; nothing was charged."
    ),
    Kind.APPROVAL_EXPIRED: _approval(
        "Spend approval expired", "Nobody approved spending {money} on {what} in time; nothing was charged."
    ),
    Kind.SERIES_OCCURRENCE_ORDERED: _series_occurrence,
    Kind.SERIES_OCCURRENCE_MISSED: _series_missed,
    Kind.SERIES_REMAINDER_ROLLED: _series_rolled,
    Kind.SERIES_CANCELLED: _series_cancelled,
}
# The kinds that move the order's own status show the step badges.
_STEPPED = {Kind.PLACED, Kind.STATUS_CHANGED}


class MissingWording(LookupError):
    pass


def timeline_line(event: OrderEvent, ctx: TimelineContext) -> TimelineLine:
    try:
        words = WORDING[event.kind]
    except KeyError:
        raise MissingWording(f"No timeline wording for order event kind {event.kind!r}") from None
    title, sentence, links = words(event, ctx)
    stepped = event.kind in _STEPPED
    return TimelineLine(
        event=event,
        title=title,
        sentence=sentence,
        links=tuple(links),
        from_step=lifecycle_step(event.from_status) if stepped and event.from_status else None,
        to_step=lifecycle_step(event.to_status) if stepped and event.to_status else None,
    )


def timeline_lines(events: Iterable[OrderEvent], ctx: TimelineContext) -> list[TimelineLine]:
    return [timeline_line(e, ctx) for e in events]


def timeline_context_for(*, order: Order, show_money: bool, lineage: dict[str, Any]) -> TimelineContext:
    """The anchors the order page's Lineage section renders (`lineage-<type>-<id>`)."""
    anchors, deliveries = set(), {}
    for node in lineage.get("children", []):
        anchor = f"lineage-{node['entity_type']}-{node['entity_id']}"
        anchors.add(anchor)
        if node["entity_type"] == "delivery":
            deliveries[node["label"]] = anchor
    return TimelineContext(
        order=order, show_money=show_money, anchors=frozenset(anchors), delivery_anchors=deliveries
    )
