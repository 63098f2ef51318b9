"""Issue 16, item 5: every order event kind has one plain-language wording, built from the event's
structured fields (formatted money, no status codes, kinds or "(s)"), with links to what it
concerns. A new `OrderEvent.Kind` without a wording (or without a sample here) fails."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client

from geopera_web.billing.models import LedgerEntry
from orders.models import Order, OrderEvent
from orders.timeline import WORDING, MissingWording, TimelineContext, timeline_line
from tests.factories import make_archive_order, make_priced_capture, make_product

Kind = OrderEvent.Kind
STUDY, QUOTE, APPROVAL, CHARGE, SERIES, PARENT, CHILD = (str(uuid.uuid4()) for _ in range(7))
GROUPS = [
    {"name": "Dalby", "coveredPercent": 68.18, "refundCredits": 275202, "chargeCredits": 589552},
    {"name": "Cecil", "coveredPercent": 100.0, "refundCredits": 0, "chargeCredits": 450000},
]
# A representative stored event of each kind: (from_status, to_status, message, data).
SAMPLES: dict[str, tuple[str, str, str, dict]] = {
    Kind.PLACED: ("", "pending", "Placed 3 capture(s) in 1 priced group(s)", {"totalCredits": 88838}),
    Kind.PAYMENT_AUTHORIZED: ("", "", "payment_authorized", {"chargeId": CHARGE, "billingMode": "credit"}),
    Kind.STATUS_CHANGED: ("pending/QUOTATION_WAITING_RESPONSE", "cancelled/QUOTATION_ACCEPTED", "x", {}),
    Kind.TAGS_CHANGED: ("", "", "Tags added: harbour", {}),
    Kind.NOTE: ("", "", "Called the client", {"legacy_kind": "Shipped by hand"}),
    Kind.DRAFT_CREATED: ("", "", "Draft saved with 1 area.", {}),
    Kind.DRAFT_SAVED: ("", "", "Draft saved with 2 areas.", {}),
    Kind.FEASIBILITY_REFERRED: ("", "", "No predicted passes.", {}),
    Kind.FEASIBILITY_ACCEPTED: ("PENDING", "ACCEPTED", "Option accepted: Standard pass.", {"studyId": STUDY}),
    Kind.FEASIBILITY_REJECTED: ("PENDING", "REJECTED", "", {"studyId": STUDY}),
    Kind.FEASIBILITY_EXPIRED: ("PENDING", "EXPIRED", "", {"studyId": STUDY}),
    Kind.QUOTATION_ACCEPTED: ("PENDING", "ACCEPTED", "", {"quotationId": QUOTE, "credits": 399000}),
    Kind.QUOTATION_REJECTED: ("PENDING", "REJECTED", "", {"quotationId": QUOTE, "credits": 399000}),
    Kind.QUOTATION_EXPIRED: ("PENDING", "EXPIRED", "", {"quotationId": QUOTE, "credits": 399000}),
    Kind.PROVIDER_SUBMITTED: ("", "", "", {"provider": "geopera-sim", "providerRef": "sim-1"}),
    Kind.PROVIDER_PLACED: ("", "", "", {"provider": "geopera-sim", "ref": "sim-task-1"}),
    Kind.DELIVERY_RECEIVED: ("", "", "", {"batch": "b1", "delivered": 3, "failed": 1, "source": "provider"}),
    Kind.DELIVERY_RECORDED: ("", "", "", {"batch": "b2", "delivered": 1, "failed": 0, "source": "manual"}),
    Kind.COVERAGE_REFUND: ("", "", "Refunded 275202 credits", {"refundCredits": 275202, "groups": GROUPS}),
    Kind.CANCEL_SETTLEMENT: (
        "",
        "",
        "",
        {"chargedCredits": 239736, "releasedCredits": 660264, "groups": GROUPS},
    ),
    Kind.APPROVAL_REQUESTED: (
        "",
        "PENDING",
        "Approval requested to spend 88,838 credits (archive order). Note: Client pays",
        {"approvalId": APPROVAL, "credits": 88838, "action": "archive_place"},
    ),
    Kind.APPROVAL_APPROVED: ("PENDING", "ACCEPTED", "", {"approvalId": APPROVAL, "credits": 88838}),
    Kind.APPROVAL_REJECTED: (
        "PENDING",
        "REJECTED",
        "",
        {"approvalId": APPROVAL, "credits": 88838, "action": "quotation_accept", "reason": "Too dear"},
    ),
    Kind.APPROVAL_EXPIRED: ("PENDING", "EXPIRED", "", {"approvalId": APPROVAL, "credits": 88838}),
    Kind.SERIES_OCCURRENCE_ORDERED: (
        "",
        "",
        "Occurrence 2 of 4 ordered (10,000 credits).",
        {
            "seriesId": SERIES,
            "parentOrderId": PARENT,
            "childOrderId": CHILD,
            "occurrences": 4,
            "index": 2,
            "windowStart": "2027-03-08T09:00:00+00:00",
            "windowEnd": "2027-03-15T09:00:00+00:00",
            "credits": 10000,
        },
    ),
    Kind.SERIES_OCCURRENCE_MISSED: (
        "",
        "",
        "",
        {
            "seriesId": SERIES,
            "parentOrderId": PARENT,
            "occurrences": 4,
            "index": 3,
            "credits": 10000,
            "reason": "It could not be charged: the wallet has 1,200 credits available.",
        },
    ),
    Kind.SERIES_REMAINDER_ROLLED: (
        "",
        "",
        "",
        {
            "seriesId": SERIES,
            "parentOrderId": PARENT,
            "childOrderId": CHILD,
            "occurrences": 4,
            "index": 2,
            "rolledKm2": 71.94,
        },
    ),
    Kind.SERIES_CANCELLED: (
        "",
        "",
        "",
        {
            "seriesId": SERIES,
            "parentOrderId": PARENT,
            "occurrences": 4,
            "cancelled": 2,
            "runningOn": 2,
            "releasedCredits": 10000,
        },
    ),
}
# Where each kind must link (a fragment of the href).
LINKS = {
    Kind.PAYMENT_AUTHORIZED: "/billing/?order=",
    Kind.FEASIBILITY_ACCEPTED: f"#lineage-feasibility_study-{STUDY}",
    Kind.FEASIBILITY_REJECTED: f"#lineage-feasibility_study-{STUDY}",
    Kind.FEASIBILITY_EXPIRED: f"#lineage-feasibility_study-{STUDY}",
    Kind.QUOTATION_ACCEPTED: f"#lineage-quotation-{QUOTE}",
    Kind.QUOTATION_REJECTED: f"#lineage-quotation-{QUOTE}",
    Kind.QUOTATION_EXPIRED: f"#lineage-quotation-{QUOTE}",
    Kind.DELIVERY_RECEIVED: "#lineage-delivery-7",
    Kind.DELIVERY_RECORDED: "#order-assets",
    Kind.COVERAGE_REFUND: "/billing/?order=",
    Kind.CANCEL_SETTLEMENT: "/billing/?order=",
    Kind.STATUS_CHANGED: "/billing/?order=",
    Kind.APPROVAL_REQUESTED: "/policies/",
    Kind.APPROVAL_APPROVED: "/policies/",
    Kind.APPROVAL_REJECTED: "/policies/",
    Kind.APPROVAL_EXPIRED: "/policies/",
    Kind.PLACED: "#order-groups-table",
    Kind.SERIES_OCCURRENCE_ORDERED: f"/tasking/series/{SERIES}/",
    Kind.SERIES_OCCURRENCE_MISSED: f"/tasking/series/{SERIES}/",
    Kind.SERIES_REMAINDER_ROLLED: f"/orders/{CHILD}/",
    Kind.SERIES_CANCELLED: f"/tasking/series/{SERIES}/",
}
INTERNAL = [
    re.compile(r"\b[a-z]+(?:_[a-z]+)+\b"),  # payment_authorized, archive_place
    re.compile(r"\b[A-Z]{3,}(?:_[A-Z]+)+\b"),  # QUOTATION_WAITING_RESPONSE
    re.compile(r"\b(?:PENDING|ACCEPTED|REJECTED|EXPIRED)\b"),
    re.compile(r"\w/\w"),  # pending/QUOTATION_...
    re.compile(r"\(s\)"),
    re.compile(r"(?<![\d,.])\d{4,}(?![\d,])"),  # money without thousands separators
    re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-"),  # ids
]


def _ctx() -> TimelineContext:
    order = Order(
        id=uuid.uuid4(), order_type="tasking", total_credits=900000, billing_mode="credit", status="active"
    )
    return TimelineContext(
        order=order,
        show_money=True,
        anchors=frozenset(
            {f"lineage-feasibility_study-{STUDY}", f"lineage-quotation-{QUOTE}", "lineage-delivery-7"}
        ),
        delivery_anchors={"b1": "lineage-delivery-7"},
    )


def _event(kind: str) -> OrderEvent:
    from_status, to_status, message, data = SAMPLES[kind]
    return OrderEvent(kind=kind, from_status=from_status, to_status=to_status, message=message, data=data)


def test_every_kind_has_a_wording_and_a_sample():
    assert set(WORDING) == set(Kind.values)
    assert set(SAMPLES) == set(Kind.values)


def test_a_kind_without_wording_is_an_error_not_a_raw_code():
    with pytest.raises(MissingWording):
        timeline_line(OrderEvent(kind="shipped_by_owl"), _ctx())


@pytest.mark.parametrize("kind", Kind.values)
def test_each_kind_reads_as_plain_language(kind):
    line = timeline_line(_event(kind), _ctx())
    shown = " ".join(
        [line.title, line.sentence, *(link.label for link in line.links)]
        + [step[0] for step in (line.from_step, line.to_step) if step]
    )
    assert line.title
    for pattern in INTERNAL:
        assert not pattern.search(shown), (pattern.pattern, shown)
    if kind in LINKS:
        assert any(LINKS[kind] in link.href for link in line.links), line.links


def test_money_uses_the_filters_every_page_uses():
    line = timeline_line(_event(Kind.COVERAGE_REFUND), _ctx())
    assert line.sentence.startswith("275,202 cr (A$2,752.02) refunded")
    assert "Dalby: 68.2% covered, 275,202 cr refunded" in line.sentence
    settled = timeline_line(_event(Kind.CANCEL_SETTLEMENT), _ctx())
    assert "239,736 cr (A$2,397.36) charged" in settled.sentence and "660,264 cr" in settled.sentence


def test_a_cancelled_step_reads_cancelled_not_acquiring():
    line = timeline_line(_event(Kind.STATUS_CHANGED), _ctx())
    assert line.title == "Status changed" and line.to_step[0] == "Cancelled"
    assert line.from_step[0] == "Waiting for your answer to the quote"


def test_money_links_only_for_admins():
    ctx = _ctx()
    viewer_ctx = TimelineContext(order=ctx.order, show_money=False, anchors=ctx.anchors)
    line = timeline_line(_event(Kind.COVERAGE_REFUND), viewer_ctx)
    assert not [link for link in line.links if "/billing/" in link.href]


@pytest.mark.django_db
def test_the_order_page_links_events_to_what_they_concern(org, admin_user, viewer_user):
    product = make_product(pid="timeline-optical", rate=100, min_area=10.0)
    make_priced_capture(product=product, bounds=(151, -34, 151.1, -33.9), scene_id="TL-0")
    order = make_archive_order(org=org, actor=admin_user, scene_ids=["TL-0"])
    c = Client()
    c.force_login(admin_user)
    html = c.get(f"/orders/{order.id}/").content.decode()
    timeline = html[html.index('id="order-timeline"') :]
    timeline = timeline[: timeline.index("</ol>")]
    shown = re.sub(r"<[^>]+>", " ", re.sub(r"<time[^>]*>.*?</time>", "", timeline))  # words, not dates
    assert "Order placed" in shown and "Payment held" in shown
    assert f"{order.total_credits:,} cr (A$" in shown
    for pattern in INTERNAL:
        assert not pattern.search(shown), (pattern.pattern, shown)
    assert f'href="/billing/?order={order.id}#ledger"' in timeline
    # The link lands on that order's movements only.
    billing = c.get(f"/billing/?order={order.id}").content.decode()
    ledger = billing[billing.index('data-testid="ledger"') :]
    ledger = ledger[: ledger.index("</table>")]
    assert ledger.count('data-testid="ledger-row"') == LedgerEntry.objects.filter(charge=order.charge).count()
    assert 'data-kind="topup"' not in ledger and 'data-testid="ledger-filter"' in billing
    assert c.get(f"/billing/?order={uuid.uuid4()}").status_code == 404
    assert c.get("/billing/?order=nope").status_code == 404
    # A viewer reads the same words without the money links.
    v = Client()
    v.force_login(viewer_user)
    viewer_html = v.get(f"/orders/{order.id}/").content.decode()
    assert "Payment held" in viewer_html and "/billing/?order=" not in viewer_html
