"""Triage in the hub: escalation, queue jump, emergency numbers, alerts and e-mail."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

from server.models import RiskTier, StaffRole
from tests.conftest import CapturedMail
from tests.server.clients import Counsellor
from tests.server.conftest import Running, ServerFactory
from triage.model import Assessment
from triage.semantic import Exemplar, Verdict

RISKY_SV = "jag har tagit 30 alvedon och vill dö"


async def wait_for_mail(handler: CapturedMail, count: int = 1) -> None:
    for _ in range(100):
        if len(handler.messages) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {count} e-mails, got {len(handler.messages)}")


async def test_risky_message_escalates_alerts_and_shows_emergency_numbers(
    make_server: ServerFactory, smtp_server: tuple[int, CapturedMail]
) -> None:
    port, mailbox = smtp_server
    running = await make_server(smtp_host="127.0.0.1", smtp_port=port)
    line = await running.line()
    supervisor_account = await running.staff(line, role=StaffRole.SUPERVISOR)
    await running.store.set_staff_email(supervisor_account.id, "shift-lead@example.org")
    supervisor = await Counsellor.open(running.http, supervisor_account.username, running.password)
    caller = await running.caller()
    await caller.start(line, "sv")

    await caller.say("hej, jag vill bara fråga om öppettider")
    await caller.nothing_of("emergency", wait=0.3)
    await caller.say(RISKY_SV)
    emergency = await caller.expect("emergency")
    assert [n["number"] for n in emergency["numbers"]] == ["112"]
    assert emergency["text"]["sv"]

    # The caller also waits with nobody available: server.wait_watch may raise
    # (and e-mail) an understaffed alert beside the risk alert.
    alert = await supervisor.expect("alert", conversation=caller.conversation)
    assert (alert["kind"], alert["tier"], alert["conversation"]) == (
        "risk",
        "imminent",
        caller.conversation,
    )
    # The reason also goes out as a code with its values, for the monitor to word
    # in the supervisor's language; the stored alert (a later monitor) keeps it.
    why = alert["why"]
    assert why["code"] == "risk" and why["params"]["tier"] == "imminent"
    assert why["params"]["categories"] and why["params"]["categories"] in alert["reason"]
    assert "vill d" not in why["params"]["categories"]
    # Codes too, for the monitor to name the categories in the supervisor's language.
    assert why["params"]["category_codes"]
    assert set(why["params"]["category_codes"]) <= {
        "suicide",
        "self_harm",
        "overdose",
        "violence",
        "abuse",
    }
    stored = {a["id"]: a for a in await running.store.recent_alerts()}
    assert stored[alert["id"]]["why"] == why
    assert stored[alert["id"]]["reason"] == alert["reason"]
    conv = await running.store.get_conversation(uuid.UUID(caller.conversation))
    assert conv.risk_tier is RiskTier.IMMINENT

    await wait_for_mail(mailbox)
    for _ in range(100):
        risk_mails = [m for m in mailbox.messages if "Risk alert" in m[2]]
        if risk_mails:
            break
        await asyncio.sleep(0.05)
    _sender, recipients, body = risk_mails[0]
    assert "shift-lead@example.org" in recipients
    assert "imminent" in body and "alvedon" not in body and "vill d" not in body

    # A second risky message neither lowers the tier nor sends the alert again.
    await caller.say("jag vill inte leva längre")
    await caller.say("vad har ni för öppettider")
    await asyncio.sleep(0.3)
    conv = await running.store.get_conversation(uuid.UUID(caller.conversation))
    assert conv.risk_tier is RiskTier.IMMINENT
    assert len([m for m in mailbox.messages if "Risk alert" in m[2]]) == 1


async def test_high_risk_caller_jumps_the_queue(running: Running) -> None:
    line = await running.line()
    calm, risky = await running.caller(), await running.caller()
    await calm.start(line, "en")
    await risky.start(line, "en")
    await calm.say("hi, how do I book an appointment?")
    await risky.say("I have the rope ready and I'm going to do it tonight")
    await risky.expect("emergency")
    counsellor = await running.counsellor(line, capacity=1)
    offer = await counsellor.expect("offer")
    assert offer["conversation"] == risky.conversation
    assert offer["tier"] == "imminent"


async def test_counsellor_sees_the_evidence_with_offsets(running: Running) -> None:
    line = await running.line()
    counsellor = await running.counsellor(line)
    caller = await running.caller()
    await caller.start(line, "da")
    conv = await counsellor.take_next()
    text = "jeg har samlet piller sammen og vil ikke leve mere"
    ack = await caller.say(text)
    risk = await counsellor.expect("risk", conversation=conv)
    assert risk["seq"] == ack["seq"]
    assert RiskTier.parse(risk["tier"]) >= RiskTier.HIGH
    assert risk["evidence"], risk
    for item in risk["evidence"]:
        assert text[item["start"] : item["end"]] == item["text"]
    # The caller never receives the staff-only risk frame.
    await caller.nothing_of("risk", wait=0.3)


async def test_idiom_does_not_raise_an_alert(running: Running) -> None:
    line = await running.line()
    caller = await running.caller()
    await caller.start(line, "sv")
    await caller.say("tentan tar livet av mig haha")
    await caller.nothing_of("emergency", wait=0.5)
    conv = await running.store.get_conversation(uuid.UUID(caller.conversation))
    assert conv.risk_tier < RiskTier.HIGH


async def test_semantic_layer_escalates_what_the_rules_miss(make_server: ServerFactory) -> None:
    """With HELPLINE_TRIAGE_SEMANTIC on, the hub assesses with the layer (in its own
    thread) and its raise escalates like a rule's. The message is an urgent exemplar
    the rules miss, so the layer's verdict does not depend on calibration."""
    from triage.semantic_model import load_semantic_engine

    layered = load_semantic_engine(threads=1)
    missed = next(
        e.text
        for e in layered.index.exemplars
        if e.tier >= RiskTier.HIGH
        and e.lang == "en"
        and layered.rules.assess(e.text).tier < RiskTier.HIGH
    )
    assert layered.assess(missed, "en").tier >= RiskTier.HIGH

    running = await make_server(triage_semantic=True)
    line = await running.line()
    caller = await running.caller()
    await caller.start(line, "en")
    await caller.say("hi, are you open?")
    await caller.say(missed)
    emergency = await caller.expect("emergency")
    assert emergency["numbers"]
    conv = await running.store.get_conversation(uuid.UUID(caller.conversation))
    assert conv.risk_tier >= RiskTier.HIGH


async def test_semantic_lane_gives_no_second_opinion_under_a_backlog() -> None:
    from server.risk import SemanticLane
    from triage.semantic_model import load_semantic_engine

    lane = SemanticLane(load_semantic_engine(threads=1), backlog=1)
    calm = "hej, när har ni öppet i helgen?"
    results = await asyncio.gather(
        lane.verdict(calm, ()), *(lane.verdict("jag orkar inte mer", ()) for _ in range(4))
    )
    # The first went to the model's thread; the four behind it got no second opinion
    # (their rule tier has taken effect already, see assess_message).
    assert lane.skipped == 4 and lane.waiting == 0
    assert results[0] is not None and results[0].tier == RiskTier.NONE
    assert results[1:] == [None] * 4
    assert await lane.verdict(calm, ()) is not None
    assert lane.skipped == 4


class _SlowLayer:
    """A semantic layer that answers "imminent" only when released."""

    def __init__(self) -> None:
        import threading

        self.release = threading.Event()
        self.asked = threading.Event()

    def needs_second_opinion(self, rules: Assessment, text: str) -> bool:
        return rules.tier < RiskTier.IMMINENT

    def verdict(self, text: str, context: Sequence[str] = ()) -> Verdict:
        self.asked.set()
        if not self.release.wait(10):
            raise RuntimeError("never released")
        exemplar = Exemplar("ex-test", "sv", "har skrivit brev till alla", RiskTier.IMMINENT, ())
        return Verdict(RiskTier.IMMINENT, 0.95, 1.0, ((exemplar, 0.95),))


class _BrokenLayer(_SlowLayer):
    def verdict(self, text: str, context: Sequence[str] = ()) -> Verdict:
        raise RuntimeError("model failed")


async def test_semantic_lane_gives_no_opinion_when_the_layer_fails() -> None:
    from server.risk import SemanticLane

    lane = SemanticLane(_BrokenLayer())
    assert await lane.verdict("jag vill ta livet av mig", ()) is None
    assert lane.waiting == 0


async def test_the_rule_tier_takes_effect_before_the_semantic_layer_answers(
    make_server: ServerFactory,
) -> None:
    """An urgent message is escalated by the rules at once, whatever the model is
    doing; the layer's raise follows as a second step, stored in place of the first."""
    from server.risk import SemanticLane

    running = await make_server()
    layer = _SlowLayer()
    running.services.extras["triage_lane"] = SemanticLane(layer)
    line = await running.line()
    supervisor_account = await running.staff(line, role=StaffRole.SUPERVISOR)
    supervisor = await Counsellor.open(running.http, supervisor_account.username, running.password)
    caller = await running.caller()
    await caller.start(line, "sv")
    await caller.say("jag vill ta livet av mig")  # high by the rules
    emergency = await caller.expect("emergency")
    assert emergency["numbers"]
    alert = await supervisor.expect("alert", conversation=caller.conversation, tier="high")
    assert alert["kind"] == "risk"
    conv_id = uuid.UUID(caller.conversation)
    assert await asyncio.to_thread(layer.asked.wait, 5)
    conv = await running.store.get_conversation(conv_id)
    assert conv.risk_tier == RiskTier.HIGH  # while the model still thinks
    [first] = await running.store.risk_assessments(conv_id)
    assert first["message_tier"] == "high"

    layer.release.set()
    for _ in range(100):
        conv = await running.store.get_conversation(conv_id)
        if conv.risk_tier == RiskTier.IMMINENT:
            break
        await asyncio.sleep(0.05)
    assert conv.risk_tier == RiskTier.IMMINENT
    # Imminent after high is news to the supervisor: a second alert, at imminent.
    alert = await supervisor.expect("alert", conversation=caller.conversation, tier="imminent")
    assert alert["kind"] == "risk"
    [stored] = await running.store.risk_assessments(conv_id)
    assert stored["message_tier"] == "imminent"
    rules = {e["rule_id"] for e in stored["evidence"]}
    assert "semantic.nearest" in rules and len(rules) > 1  # the rules' evidence kept
