"""The pure matching rules: table-driven cases and hypothesis properties."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from server.matching import (
    CounsellorState,
    MatchPolicy,
    WaitingConversation,
    expected_wait_s,
    plan_offers,
    queue_positions,
)
from server.models import RiskTier

POLICY = MatchPolicy()
NOW = 10_000.0


def waiting(cid: str, tier: RiskTier = RiskTier.NONE, at: float = 0.0, line: str = "a"):
    return WaitingConversation(cid, line, tier, at)


def counsellor(cid: int, load: float = 0.0, capacity: int = 2, idle: float = 0.0, **kw):
    fields = {"line_ids": frozenset(), "on_shift": True, "available": True} | kw
    return CounsellorState(id=cid, capacity=capacity, load=load, idle_since=idle, **fields)


def test_priority_before_arrival() -> None:
    offers = plan_offers(
        [waiting("old"), waiting("risky", RiskTier.HIGH, at=50.0)],
        [counsellor(1, capacity=1)],
        {},
        {},
        POLICY,
        NOW,
    )
    assert [o.conversation_id for o in offers] == ["risky"]


def test_least_loaded_then_longest_idle() -> None:
    staff = [counsellor(1, load=1.0), counsellor(2, idle=5.0), counsellor(3, idle=1.0)]
    offers = plan_offers([waiting("c")], staff, {}, {}, POLICY, NOW)
    assert offers[0].counsellor_id == 3
    assert "least loaded" in offers[0].reason


def test_only_on_shift_available_and_serving_the_line() -> None:
    staff = [
        counsellor(1, on_shift=False),
        counsellor(2, available=False),
        counsellor(3, line_ids=frozenset({"other"})),
    ]
    assert plan_offers([waiting("c")], staff, {}, {}, POLICY, NOW) == []
    staff.append(counsellor(4, line_ids=frozenset({"a"})))
    assert plan_offers([waiting("c")], staff, {}, {}, POLICY, NOW)[0].counsellor_id == 4


def test_imminent_takes_a_whole_capacity() -> None:
    staff = [counsellor(1, load=1.0)]
    assert plan_offers([waiting("c", RiskTier.IMMINENT)], staff, {}, {}, POLICY, NOW) == []
    assert plan_offers([waiting("c", RiskTier.IMMINENT)], [counsellor(1)], {}, {}, POLICY, NOW)


def test_a_decline_holds_for_the_cool_down_only() -> None:
    declines = {("c", 1): NOW - 10}
    assert plan_offers([waiting("c")], [counsellor(1)], {}, declines, POLICY, NOW) == []
    later = NOW + POLICY.decline_cooldown_s
    assert plan_offers([waiting("c")], [counsellor(1)], {}, declines, POLICY, later)


def test_pending_offers_are_not_repeated() -> None:
    assert plan_offers([waiting("c")], [counsellor(1, load=1)], {"c": 1}, {}, POLICY, NOW) == []


def test_room_is_held_for_a_higher_priority_caller() -> None:
    staff = [counsellor(1, load=1.0)]
    queue = [waiting("imminent", RiskTier.IMMINENT), waiting("calm", at=-5.0)]
    assert plan_offers(queue, staff, {}, {}, POLICY, NOW) == []


def test_queue_positions_per_line_and_estimate() -> None:
    q = [
        waiting("a1"),
        waiting("b1", line="b"),
        waiting("a2", at=1.0),
        waiting("a0", RiskTier.HIGH, at=2.0),
    ]
    assert queue_positions(q) == {"a0": 1, "a1": 2, "a2": 3, "b1": 1}
    assert expected_wait_s(1, free_slots=1, slots_total=2, mean_handle_s=600) == 0.0
    assert expected_wait_s(3, free_slots=0, slots_total=2, mean_handle_s=600) == 900.0
    assert expected_wait_s(1, free_slots=0, slots_total=0, mean_handle_s=600) is None


tiers = st.sampled_from(list(RiskTier))
waiting_lists = st.lists(
    st.builds(
        waiting,
        st.text("abcdefgh", min_size=1, max_size=4),
        tiers,
        st.floats(0, 1000),
        st.sampled_from(["a", "b"]),
    ),
    max_size=12,
    unique_by=lambda w: w.id,
)
counsellor_lists = st.lists(
    st.builds(
        counsellor,
        st.integers(1, 50),
        st.sampled_from([0.0, 1.0, 1.5, 2.0]),
        st.integers(1, 3),
        st.floats(0, 1000),
        line_ids=st.sampled_from([frozenset(), frozenset({"a"}), frozenset({"b"})]),
        on_shift=st.booleans(),
        available=st.booleans(),
    ),
    max_size=6,
    unique_by=lambda c: c.id,
)


@settings(max_examples=300, deadline=None)
@given(waiting_lists, counsellor_lists)
def test_invariants(queue: list[WaitingConversation], staff: list[CounsellorState]) -> None:
    staff = [c for c in staff if c.load <= c.capacity]
    offers = plan_offers(queue, staff, {}, {}, POLICY, NOW)
    by_id = {c.id: c for c in staff}
    # No conversation is offered to two counsellors.
    assert len({o.conversation_id for o in offers}) == len(offers)
    # No counsellor goes over capacity; only eligible ones are offered.
    added: dict[int, float] = {}
    tier_of = {w.id: w.tier for w in queue}
    line_of = {w.id: w.line_id for w in queue}
    for o in offers:
        c = by_id[o.counsellor_id]
        assert c.on_shift and c.available and c.serves(line_of[o.conversation_id])
        added[c.id] = added.get(c.id, 0.0) + POLICY.weight(tier_of[o.conversation_id], c.capacity)
    for cid, extra in added.items():
        assert by_id[cid].load + extra <= by_id[cid].capacity + 1e-9
    # A counsellor never takes a lower-priority caller while a higher-priority
    # one it serves is left waiting (strict priority, free or not).
    offered = {o.conversation_id for o in offers}
    rank = {w.id: (-w.tier, w.queued_at, w.id) for w in queue}
    for o in offers:
        c = by_id[o.counsellor_id]
        for w in queue:
            if w.id not in offered and c.serves(w.line_id):
                assert rank[w.id] > rank[o.conversation_id], (w, o)
    # Nobody is forgotten: an unoffered caller has no eligible counsellor with room
    # (or that counsellor's room is held for a caller ahead of it).
    loads = {c.id: c.load + added.get(c.id, 0.0) for c in staff}
    for w in queue:
        if w.id in offered:
            continue
        for c in staff:
            if c.on_shift and c.available and c.serves(w.line_id):
                ahead_waits = any(
                    v.id not in offered and c.serves(v.line_id) and rank[v.id] < rank[w.id]
                    for v in queue
                )
                fits = loads[c.id] + POLICY.weight(w.tier, c.capacity) <= c.capacity + 1e-9
                assert ahead_waits or not fits, (w, c)
