"""The hub: counsellor presence, offers, queue positions and the matching loop.

Design note: docs/architecture.md. PostgreSQL holds the queue (conversations in
state ``queued``) and settles every claim; this object holds what is live in
this process (who is connected, on shift, available, holding what, offered
what) and runs ``server.matching`` on it whenever something changes. It is the
I/O shell around the pure matching module.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from server.bus import Bus
from server.bus.presence import MemoryPresenceBoard, PresenceBoard
from server.config import Settings
from server.connection import Connection
from server.matching import (
    CounsellorState,
    MatchPolicy,
    WaitingConversation,
    expected_wait_s,
    plan_offers,
    queue_positions,
)
from server.models import Conversation, RiskTier, Staff
from server.store import Store

log = structlog.get_logger(__name__)

# Even with no event, look again this often: it notices callers whose grace
# period ran out and conversations queued by other processes.
SWEEP_INTERVAL_S = 5.0
# Until the line has history, assume a conversation takes ten minutes.
DEFAULT_HANDLE_S = 600.0
# How long a measured mean handling time is reused before asking the database.
HANDLE_TIME_TTL_S = 60.0
# An offer's database row lives this much longer than the offer itself, so that
# only offers whose process died are expired by the others.
OFFER_ROW_SLACK_S = 5.0


@dataclass
class Presence:
    staff: Staff
    sockets: set[Connection] = field(default_factory=set)
    on_shift: bool = False
    availability: str = "available"
    availability_reason: str | None = None
    idle_since: float = 0.0
    held: dict[uuid.UUID, RiskTier] = field(default_factory=dict)
    gone_since: float | None = None
    # Set once the counsellor was told their shift ended while holding chats.
    warned_shift_over: bool = False


@dataclass
class PendingOffer:
    conversation_id: uuid.UUID
    staff_id: int
    tier: RiskTier
    expires_at: float


class Hub:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        bus: Bus,
        clock: Callable[[], float] = time.time,
        may_take_calls: Callable[[Staff, float], bool] | None = None,
        presence_board: PresenceBoard | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.bus = bus
        self.clock = clock
        # The rota's say on who may be offered conversations (None: clock-in suffices).
        self.may_take_calls = may_take_calls
        self.presence_board = presence_board or MemoryPresenceBoard()
        self.process_id = secrets.token_hex(6)
        self.policy = MatchPolicy(
            weights=settings.risk_weights.by_tier,
            decline_cooldown_s=settings.decline_cooldown_s,
        )
        self.presence: dict[int, Presence] = {}
        self.pending: dict[uuid.UUID, PendingOffer] = {}
        self.declines: dict[tuple[str, int], float] = {}
        self._last_queue_frame: dict[uuid.UUID, dict[str, Any]] = {}
        self._handle_s: tuple[float, float] = (DEFAULT_HANDLE_S, -HANDLE_TIME_TTL_S)
        # Rounds and claims both read and change ``pending``; a claim landing in
        # the middle of a round would otherwise be offered a second time.
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], Any] | None = None
        self.rounds = 0

    # -- lifecycle ---------------------------------------------------------

    async def start(self) -> None:
        self._unsubscribe = await self.bus.subscribe("hub", lambda _event: self.kick())
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._unsubscribe is not None:
            await self._unsubscribe()

    def kick(self) -> None:
        """Ask for a matching round soon; many kicks coalesce into one round."""
        self._wake.set()

    async def announce(self) -> None:
        """Kick every process's hub: the queue or staffing changed."""
        self.kick()
        await self.bus.publish("hub", {"type": "kick"})

    async def _loop(self) -> None:
        while True:
            timeout = SWEEP_INTERVAL_S
            if self.pending:
                next_expiry = min(o.expires_at for o in self.pending.values())
                timeout = max(0.0, min(timeout, next_expiry - self.clock()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()
            try:
                async with self._lock:
                    await self._round()
            except asyncio.CancelledError:
                raise
            except Exception:
                # A dead database must not kill the loop: the next round retries.
                log.exception("matching_round_failed")
                await asyncio.sleep(1.0)

    # -- the matching round ---------------------------------------------------

    async def _round(self) -> None:
        self.rounds += 1
        now = self.clock()
        for conv in await self.store.abandon_gone_callers(self.settings.reconnect_grace_s):
            log.info("conversation_abandoned", conversation=str(conv.id))
            await self.bus.publish(
                f"conv:{conv.id}",
                {"type": "ended", "conversation": str(conv.id), "reason": "caller_gone"},
            )
        self._drop_departed_staff(now)
        for conv_id, offer in list(self.pending.items()):
            if offer.expires_at <= now:
                await self._withdraw(conv_id, "timeout", record_decline=True)
        queued = await self.store.queued_conversations()
        queued_ids = {c.id for c in queued}
        for conv_id in list(self.pending):
            if conv_id not in queued_ids:
                await self._withdraw(conv_id, "taken", record_decline=False)
        # Callers another process has offered are not offered here as well.
        offered_elsewhere = await self.store.offered_elsewhere() - self.pending.keys()
        waiting = [
            WaitingConversation(str(c.id), c.line_id, c.risk_tier, c.queued_at.timestamp())
            for c in queued
        ]
        await self._warn_shift_over(now)
        counsellors = self._counsellor_states()
        pending_by_conv = {str(k): v.staff_id for k, v in self.pending.items()}
        pending_by_conv.update({str(k): -1 for k in offered_elsewhere})
        by_id = {str(c.id): c for c in queued}
        for planned in plan_offers(
            waiting, counsellors, pending_by_conv, self.declines, self.policy, now
        ):
            conv = by_id[planned.conversation_id]
            await self._offer(conv, planned.counsellor_id, planned.reason, now)
        await self._publish_queue_positions(waiting, queued, now)
        self._prune(now, queued_ids)

    def _scheduled(self, presence: Presence, now: float) -> bool:
        return self.may_take_calls is None or self.may_take_calls(presence.staff, now)

    async def _warn_shift_over(self, now: float) -> None:
        """A shift ended while the counsellor holds chats: they keep them, and are told."""
        for p in self.presence.values():
            over = p.on_shift and not self._scheduled(p, now)
            if over and p.held and not p.warned_shift_over:
                p.warned_shift_over = True
                await self.bus.publish(
                    f"staff:{p.staff.id}",
                    {
                        "type": "shift_ended",
                        "open_conversations": [str(c) for c in p.held],
                        "message": "Your shift has ended: no new offers. Wrap up or transfer "
                        "your open conversations.",
                    },
                )
            elif not over:
                p.warned_shift_over = False

    def _counsellor_states(self) -> list[CounsellorState]:
        now = self.clock()
        states = []
        for p in self.presence.values():
            load = sum(self.policy.weight(t, p.staff.capacity) for t in p.held.values())
            load += sum(
                self.policy.weight(o.tier, p.staff.capacity)
                for o in self.pending.values()
                if o.staff_id == p.staff.id
            )
            states.append(
                CounsellorState(
                    id=p.staff.id,
                    line_ids=frozenset(p.staff.line_ids),
                    on_shift=p.on_shift and self._scheduled(p, now),
                    available=p.availability == "available" and bool(p.sockets),
                    capacity=p.staff.capacity,
                    load=load,
                    idle_since=p.idle_since,
                )
            )
        return states

    async def _offer(self, conv: Conversation, staff_id: int, reason: str, now: float) -> None:
        expires_at = now + self.settings.offer_timeout_s
        # The row's expiry outlives ours a little, so only a dead process's offers lapse there.
        row_expiry = datetime.fromtimestamp(expires_at + OFFER_ROW_SLACK_S, UTC)
        if not await self.store.place_offer(conv.id, staff_id, row_expiry):
            return  # another process got there first
        self.pending[conv.id] = PendingOffer(conv.id, staff_id, conv.risk_tier, expires_at)
        log.info("offer_made", conversation=str(conv.id), staff_id=staff_id, reason=reason)
        await self.bus.publish(
            f"staff:{staff_id}",
            {
                "type": "offer",
                "conversation": str(conv.id),
                "line": conv.line_id,
                "lang": conv.lang,
                "tier": conv.risk_tier.label,
                "waited_s": round(max(0.0, now - conv.queued_at.timestamp())),
                "expires_in_s": self.settings.offer_timeout_s,
                "reason": reason,
            },
        )

    async def _withdraw(self, conv_id: uuid.UUID, why: str, record_decline: bool) -> None:
        offer = self.pending.pop(conv_id, None)
        if offer is None:
            return
        await self.store.drop_offer(conv_id, offer.staff_id)
        if record_decline:
            self.declines[(str(conv_id), offer.staff_id)] = self.clock()
        await self.bus.publish(
            f"staff:{offer.staff_id}",
            {"type": "offer_withdrawn", "conversation": str(conv_id), "reason": why},
        )

    async def _publish_queue_positions(
        self, waiting: list[WaitingConversation], queued: list[Conversation], now: float
    ) -> None:
        if not waiting:
            # Report presence anyway: other processes check transfers and wait
            # alerts against the board, and an entry expires unless refreshed.
            await self.presence_board.put(self.process_id, self._board_entries())
            return
        positions = queue_positions(waiting)
        handle_s = await self._mean_handle_s(now)
        line_ids = {conv.line_id for conv in queued}
        slots = dict.fromkeys(line_ids, 0.0)
        free = dict.fromkeys(line_ids, 0.0)
        for entry in await self._everyone_taking_calls():
            for line_id in line_ids:
                if not entry["lines"] or line_id in entry["lines"]:
                    slots[line_id] += entry["capacity"]
                    free[line_id] += max(0.0, entry["capacity"] - entry["load"])
        for conv in queued:
            position = positions[str(conv.id)]
            estimate = expected_wait_s(position, free[conv.line_id], slots[conv.line_id], handle_s)
            frame: dict[str, Any] = {
                "type": "queue",
                "conversation": str(conv.id),
                "position": position,
                "expected_wait_s": None if estimate is None else round(estimate),
                "counsellors_on_shift": slots[conv.line_id] > 0,
            }
            if self._last_queue_frame.get(conv.id) != frame:
                self._last_queue_frame[conv.id] = frame
                await self.bus.publish(f"conv:{conv.id}", frame)

    def _board_entries(self) -> list[dict[str, Any]]:
        """This process's counsellors on shift with a socket open, for the presence board.

        Shape (docs/architecture.md): ``{"staff", "lines", "capacity", "load",
        "available", "name", "role", "username", "availability", "reason",
        "conversations"}``. Entries without ``available`` come from
        older processes, which listed available counsellors only.
        """
        entries = []
        for state in self._counsellor_states():
            presence = self.presence.get(state.id)
            if presence is None or not state.on_shift or not presence.sockets:
                continue
            entries.append(
                {
                    "staff": state.id,
                    "lines": sorted(state.line_ids),
                    "capacity": state.capacity,
                    "load": state.load,
                    "available": state.available,
                    "name": presence.staff.display_name,
                    "role": presence.staff.role.value,
                    # The rota names staff by username (rota_jobs.present_usernames).
                    "username": presence.staff.username,
                    # For the other processes' monitors (monitor_snapshot).
                    "availability": presence.availability,
                    "reason": presence.availability_reason,
                    "conversations": len(presence.held),
                }
            )
        return entries

    async def everyone_on_shift(self) -> list[dict[str, Any]]:
        """Counsellors on shift and connected in every process (this one's entry fresh)."""
        await self.presence_board.put(self.process_id, self._board_entries())
        return await self.presence_board.everyone()

    async def _everyone_taking_calls(self) -> list[dict[str, Any]]:
        """Counsellors on shift and available in every process, via the presence board."""
        return [e for e in await self.everyone_on_shift() if e.get("available", True)]

    async def _mean_handle_s(self, now: float) -> float:
        value, measured_at = self._handle_s
        if now - measured_at >= HANDLE_TIME_TTL_S:
            value = await self.store.mean_handle_seconds() or DEFAULT_HANDLE_S
            self._handle_s = (value, now)
        return value

    def _drop_departed_staff(self, now: float) -> None:
        for staff_id, p in list(self.presence.items()):
            if p.gone_since is not None and now - p.gone_since >= self.settings.staff_grace_s:
                log.info("staff_presence_expired", staff_id=staff_id)
                del self.presence[staff_id]

    def _prune(self, now: float, queued_ids: set[uuid.UUID]) -> None:
        horizon = self.policy.decline_cooldown_s
        self.declines = {k: t for k, t in self.declines.items() if now - t < horizon}
        for conv_id in list(self._last_queue_frame):
            if conv_id not in queued_ids:
                del self._last_queue_frame[conv_id]

    def forget_queue_frame(self, conv_id: uuid.UUID) -> None:
        """Make the next round re-send the queue position (a caller just resumed)."""
        self._last_queue_frame.pop(conv_id, None)
        self.kick()

    # -- staff presence ---------------------------------------------------------

    async def staff_connected(self, staff: Staff, conn: Connection) -> Presence:
        presence = self.presence.get(staff.id)
        if presence is None:
            presence = Presence(staff=staff, idle_since=self.clock())
            self.presence[staff.id] = presence
        presence.sockets.add(conn)
        presence.gone_since = None
        presence.held = {
            c.id: c.risk_tier for c in await self.store.active_for_counsellor(staff.id)
        }
        # Offers to this counsellor that another process made (and probably died
        # with) cannot be accepted here: free those callers now, not on expiry.
        mine = [c for c, o in self.pending.items() if o.staff_id == staff.id]
        await self.store.drop_offers_to(staff.id, keep=mine)
        self.kick()
        return presence

    async def staff_disconnected(self, staff_id: int, conn: Connection) -> None:
        presence = self.presence.get(staff_id)
        if presence is None:
            return
        presence.sockets.discard(conn)
        if not presence.sockets:
            presence.gone_since = self.clock()
            for conv_id, offer in list(self.pending.items()):
                if offer.staff_id == staff_id:
                    await self._withdraw(conv_id, "counsellor_offline", record_decline=False)
            self.kick()

    def set_on_shift(self, staff_id: int, on_shift: bool) -> None:
        presence = self.presence[staff_id]
        presence.on_shift = on_shift
        if on_shift:
            presence.idle_since = self.clock()
        self.kick()

    def set_availability(self, staff_id: int, status: str, reason: str | None) -> None:
        presence = self.presence[staff_id]
        presence.availability = status
        presence.availability_reason = reason
        self.kick()

    async def accept(self, staff: Staff, conv_id: uuid.UUID) -> Conversation | None:
        """Claim an offered conversation; None if it was not offered or is gone."""
        async with self._lock:
            offer = self.pending.get(conv_id)
            if offer is None or offer.staff_id != staff.id:
                return None
            del self.pending[conv_id]
            conv = await self.store.claim(conv_id, staff.id)
            if conv is None:
                self.kick()
                return None
            presence = self.presence.get(staff.id)
            if presence is not None:
                presence.held[conv.id] = conv.risk_tier
        log.info("offer_accepted", conversation=str(conv_id), staff_id=staff.id)
        await self.bus.publish(
            f"conv:{conv.id}",
            {
                "type": "joined",
                "conversation": str(conv.id),
                "role": "counsellor",
                "name": staff.display_name,
            },
        )
        await self.announce()
        return conv

    async def decline(self, staff: Staff, conv_id: uuid.UUID) -> bool:
        # Under the round's lock, like accept: a round must not see the offer gone
        # from ``pending`` while its database row still stands.
        async with self._lock:
            offer = self.pending.get(conv_id)
            if offer is None or offer.staff_id != staff.id:
                return False
            await self._withdraw(conv_id, "declined", record_decline=True)
        self.kick()
        return True

    async def released(self, staff_id: int, conv_id: uuid.UUID) -> None:
        """A conversation left a counsellor's hands: capacity freed, idle clock restarts."""
        presence = self.presence.get(staff_id)
        if (
            presence is not None
            and presence.held.pop(conv_id, None) is not None
            and not presence.held
        ):
            presence.idle_since = self.clock()
        await self.announce()

    def raise_tier(self, conv_id: uuid.UUID, tier: RiskTier) -> None:
        offer = self.pending.get(conv_id)
        if offer is not None:
            offer.tier = max(offer.tier, tier)
        for presence in self.presence.values():
            if conv_id in presence.held:
                presence.held[conv_id] = max(presence.held[conv_id], tier)
        self.kick()

    # -- supervision and transfer (docs/console.md) -------------------------------
    # Added for the console and monitor; they only touch presence bookkeeping.

    async def handed_over(
        self, conv_id: uuid.UUID, from_staff_id: int | None, to_staff_id: int, tier: RiskTier
    ) -> None:
        """A conversation moved between staff (transfer or take-over): move its load."""
        if from_staff_id is not None and from_staff_id != to_staff_id:
            previous = self.presence.get(from_staff_id)
            freed = previous is not None and previous.held.pop(conv_id, None) is not None
            if previous is not None and freed and not previous.held:
                previous.idle_since = self.clock()
        receiver = self.presence.get(to_staff_id)
        if receiver is not None:
            receiver.held[conv_id] = tier
        await self.announce()

    def set_tier(self, conv_id: uuid.UUID, tier: RiskTier) -> None:
        """A counsellor re-assessed the tier (possibly lower): weigh the load by it."""
        offer = self.pending.get(conv_id)
        if offer is not None:
            offer.tier = tier
        for presence in self.presence.values():
            if conv_id in presence.held:
                presence.held[conv_id] = tier
        self.kick()

    def now_holds(self, staff_id: int, conv_id: uuid.UUID, tier: RiskTier) -> None:
        """``staff_id`` was handed a conversation, perhaps by another process: count it here."""
        presence = self.presence.get(staff_id)
        if presence is not None and conv_id not in presence.held:
            presence.held[conv_id] = tier
            self.kick()

    def no_longer_holds(self, staff_id: int, conv_id: uuid.UUID) -> None:
        """``staff_id`` gave a conversation away, perhaps through another process."""
        presence = self.presence.get(staff_id)
        if presence is not None and presence.held.pop(conv_id, None) is not None:
            if not presence.held:
                presence.idle_since = self.clock()
            self.kick()

    def sockets_of(self, staff_id: int) -> list[Connection]:
        """This process's open sockets of one staff member."""
        presence = self.presence.get(staff_id)
        return list(presence.sockets) if presence is not None else []
