"""Who gets which conversation: pure matching, no I/O, no clock (``now`` is an argument).

Rules (docs/matching.md):
- conversations are served by risk tier (imminent first), then by arrival;
- a counsellor is eligible when on shift, available, serving the line, not
  having declined this caller within the cool-down, and with room for the
  conversation's weight (risk-weighted load, capped at the capacity so that a
  free counsellor can always take anything);
- among eligible counsellors: the least loaded, then the longest idle;
- strict priority per counsellor: once a caller this counsellor could serve
  had to wait for lack of room, nobody of lower priority takes that room.
Each offer carries the reason for it, so the hub can log and show it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from server.models import RiskTier

# Loads are sums of floats such as 1.5; compare with a tolerance.
_EPSILON = 1e-9


@dataclass(frozen=True)
class WaitingConversation:
    id: str
    line_id: str
    tier: RiskTier
    queued_at: float


@dataclass(frozen=True)
class CounsellorState:
    id: int
    line_ids: frozenset[str]  # empty: serves every line
    on_shift: bool
    available: bool
    capacity: int
    load: float  # held conversations and pending offers, weighted by risk
    idle_since: float

    def serves(self, line_id: str) -> bool:
        return not self.line_ids or line_id in self.line_ids


@dataclass(frozen=True)
class MatchPolicy:
    weights: tuple[float, float, float, float, float] = (1.0, 1.0, 1.0, 1.5, 2.0)
    decline_cooldown_s: float = 60.0

    def weight(self, tier: RiskTier, capacity: int) -> float:
        return min(self.weights[tier], float(capacity))


@dataclass(frozen=True)
class Offer:
    conversation_id: str
    counsellor_id: int
    reason: str


def priority_key(conv: WaitingConversation) -> tuple[int, float, str]:
    return (-int(conv.tier), conv.queued_at, conv.id)


def queue_order(waiting: Iterable[WaitingConversation]) -> list[WaitingConversation]:
    return sorted(waiting, key=priority_key)


def plan_offers(
    waiting: Iterable[WaitingConversation],
    counsellors: Sequence[CounsellorState],
    pending: Mapping[str, int],
    declines: Mapping[tuple[str, int], float],
    policy: MatchPolicy,
    now: float,
) -> list[Offer]:
    """New offers to make now, highest priority first.

    ``pending`` maps conversations already offered to their counsellor (their
    weight is already in that counsellor's load); ``declines`` maps
    (conversation, counsellor) to when the counsellor declined or let it lapse.
    """
    loads = {c.id: c.load for c in counsellors}
    # Counsellors whose free room is reserved for a higher-priority caller.
    reserved: set[int] = set()
    offers: list[Offer] = []
    for conv in queue_order(waiting):
        if conv.id in pending:
            continue
        best: CounsellorState | None = None
        lacking_room: list[int] = []
        for c in counsellors:
            if c.id in reserved or not (c.on_shift and c.available and c.serves(conv.line_id)):
                continue
            declined_at = declines.get((conv.id, c.id))
            if declined_at is not None and now - declined_at < policy.decline_cooldown_s:
                continue
            if loads[c.id] + policy.weight(conv.tier, c.capacity) > c.capacity + _EPSILON:
                lacking_room.append(c.id)
                continue
            if best is None or (loads[c.id], c.idle_since, c.id) < (
                loads[best.id],
                best.idle_since,
                best.id,
            ):
                best = c
        if best is None:
            # This caller stays waiting: hold those counsellors' room for it.
            reserved.update(lacking_room)
            continue
        weight = policy.weight(conv.tier, best.capacity)
        offers.append(
            Offer(
                conversation_id=conv.id,
                counsellor_id=best.id,
                reason=(
                    f"{conv.tier.label} risk, waited {max(0.0, now - conv.queued_at):.0f}s;"
                    f" counsellor {best.id} least loaded ({loads[best.id]:g}/{best.capacity})"
                    f" and idle {max(0.0, now - best.idle_since):.0f}s"
                ),
            )
        )
        loads[best.id] += weight
    return offers


def queue_positions(waiting: Iterable[WaitingConversation]) -> dict[str, int]:
    """1-based position of each conversation among those waiting for the same line."""
    seen_per_line: dict[str, int] = {}
    positions: dict[str, int] = {}
    for conv in queue_order(waiting):
        seen_per_line[conv.line_id] = seen_per_line.get(conv.line_id, 0) + 1
        positions[conv.id] = seen_per_line[conv.line_id]
    return positions


def expected_wait_s(
    position: int, free_slots: float, slots_total: float, mean_handle_s: float
) -> float | None:
    """A plain estimate: busy slots free one every ``mean_handle_s / slots_total`` seconds.

    None when nobody is on shift: an honest "unknown" beats a made-up number.
    """
    if slots_total <= 0:
        return None
    ahead_of_free = position - int(free_slots)
    if ahead_of_free <= 0:
        return 0.0
    return ahead_of_free * mean_handle_s / slots_total
