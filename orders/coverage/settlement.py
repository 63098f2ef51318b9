"""What an ACTIVE tasking order owes when it stops acquiring: the one pro-rata rule.

Whenever a tasking order leaves ACTIVE short of its coverage target — its acquisition window ended
(`order_coverage_settle`) or it was cancelled (`orders.services.order_cancel`) — it is charged for
what was delivered and gives back the rest, per AOI:

    credits(AOI)  = the AOI's share of what the order was charged (`group_credits`: in proportion
                    to the AOIs' list prices, or their areas; rounded down)
    remainder     = uncovered km² / requested km², rounded to 1e-6 (the coverage precision)
    given back    = round-down(credits(AOI) × remainder)
    charged       = what was authorized − Σ given back      (0 when nothing at all was covered)

Rounding always falls in the customer's favour per AOI; the few credits that rounding leaves over
stay with the delivered share. Pure calculation over coverage figures (no writes): the cancel
preview, the cancellation itself and the window-end settlement all read their numbers from here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..models import CoverageSnapshot, Order, OrderGroup
from .calculations import compute_group_coverage, group_fingerprints


@dataclass(frozen=True)
class AoiCoverage:
    requested_km2: float
    covered_km2: float
    remainder_km2: float


@dataclass(frozen=True)
class SettlementLine:
    """One AOI's part of a settlement."""

    group_id: Any
    name: str
    credits: int
    remainder_share: float
    covered_km2: float
    release_credits: int

    @property
    def charge_credits(self) -> int:
        return self.credits - self.release_credits

    @property
    def covered_percent(self) -> float:
        return round(100.0 * (1.0 - self.remainder_share), 2)

    def as_wire(self) -> dict[str, Any]:
        """The AOI's line on the wire and in the timeline event."""
        return {
            "groupId": str(self.group_id),
            "name": self.name,
            "credits": self.credits,
            "coveredPercent": self.covered_percent,
            "remainderShare": self.remainder_share,
            "chargeCredits": self.charge_credits,
            "releaseCredits": self.release_credits,
            # The window-end settlement's name for what is given back (a refund after capture).
            "refundCredits": self.release_credits,
        }


@dataclass(frozen=True)
class Settlement:
    authorized_credits: int
    lines: tuple[SettlementLine, ...]

    @property
    def covered_any(self) -> bool:
        return any(line.covered_km2 > 0 for line in self.lines)

    @property
    def release_credits(self) -> int:
        """What goes back to the customer."""
        if not self.covered_any:
            return self.authorized_credits
        return min(self.authorized_credits, sum(line.release_credits for line in self.lines))

    @property
    def charge_credits(self) -> int:
        """What the customer pays for what was delivered."""
        return self.authorized_credits - self.release_credits


def group_credits(order: Order, groups: list[OrderGroup]) -> dict[Any, int]:
    """What each AOI cost out of what the order was actually charged (`total_credits`, which is
    the quoted or accepted price, not necessarily the list estimate): split in proportion to the
    groups' own list prices, or by area when they carry none; rounded down."""
    total = order.total_credits
    if sum(g.credits for g in groups) > 0:
        weights = {g.pk: float(g.credits) for g in groups}
    else:
        weights = {g.pk: g.area_km2 for g in groups}
    denominator = sum(weights.values()) or 1.0
    return {pk: math.floor(total * weight / denominator) for pk, weight in weights.items()}


def settlement_plan(
    order: Order, *, coverage: dict[Any, AoiCoverage], authorized_credits: int | None = None
) -> Settlement:
    """The settlement for `order` given each AOI's coverage (an AOI missing from `coverage` is
    wholly uncovered). `authorized_credits` defaults to what the order was charged."""
    groups = list(order.groups.order_by("position"))
    credits_by_group = group_credits(order, groups)
    lines = []
    for g in groups:
        cov = coverage.get(g.pk)
        share = 1.0 if cov is None or not cov.requested_km2 else cov.remainder_km2 / cov.requested_km2
        # Areas carry float noise (a wholly uncovered AOI can come out at 0.999999999x): round the
        # share to the coverage precision (1e-6) first, so rounding down never costs the customer
        # a credit by accident; the event records this same share.
        share = min(max(round(share, 6), 0.0), 1.0)
        credits = credits_by_group[g.pk]
        lines.append(
            SettlementLine(
                group_id=g.pk,
                name=str(g),
                credits=credits,
                remainder_share=share,
                covered_km2=cov.covered_km2 if cov is not None else 0.0,
                release_credits=math.floor(credits * share),
            )
        )
    authorized = order.total_credits if authorized_credits is None else authorized_credits
    return Settlement(authorized_credits=authorized, lines=tuple(lines))


def coverage_from_snapshots(snapshots: dict[Any, CoverageSnapshot]) -> dict[Any, AoiCoverage]:
    return {gid: AoiCoverage(s.requested_km2, s.covered_km2, s.remainder_km2) for gid, s in snapshots.items()}


def coverage_now(order: Order) -> dict[Any, AoiCoverage]:
    """Each AOI's coverage from the deliveries committed now. An AOI whose latest snapshot has the
    fingerprint of its inputs now (same AOI, same delivered footprints, same algorithm) takes that
    snapshot's figures, which are what computing again would give; the others (a recompute queued
    by the last delivery may not have run yet) are computed. Three queries when all are current."""
    prints = group_fingerprints(order_id=order.pk)
    latest = (
        CoverageSnapshot.objects.filter(order=order)
        .order_by("group_id", "-computed_at", "-id")
        .distinct("group_id")
        .values_list("group_id", "fingerprint", "requested_km2", "covered_km2", "remainder_km2")
    )
    out = {gid: AoiCoverage(req, cov, rem) for gid, fp, req, cov, rem in latest if prints.get(gid) == fp}
    stale = [gid for gid in prints if gid not in out]
    out |= {
        c.group_id: AoiCoverage(c.requested_km2, c.covered_km2, c.remainder_km2)
        for c in compute_group_coverage(order_id=order.pk, group_ids=stale)
    }
    return out


def settlement_now(order: Order, *, authorized_credits: int | None = None) -> Settlement:
    """The settlement if the order stopped acquiring now."""
    return settlement_plan(order, coverage=coverage_now(order), authorized_credits=authorized_credits)
