"""Supervisor alerts: live on the monitor and by e-mail, each sent once across processes.

An alert has a stable key (for a risk escalation: the conversation and the
tier; for the rota: the key the rota module gives). Whoever inserts the key
into ``sent_alerts`` first sends it, so two server processes never send twice.
E-mails carry no message text: a mailbox is less safe than the console.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import structlog

from server.services import Services

log = structlog.get_logger(__name__)

# E-mail must never hold up the chat; a server that does not answer in this
# long is logged and skipped (the live alert has already been shown).
SMTP_TIMEOUT_S = 10.0


async def raise_alert(
    services: Services,
    *,
    key: str,
    kind: str,
    reason: str,
    line_id: str | None = None,
    conversation_id: uuid.UUID | None = None,
    tier: str | None = None,
    why: dict[str, Any] | None = None,
) -> bool:
    """Publish and e-mail an alert unless it was already sent; True if sent now.

    ``reason`` is the English text (e-mail, logs); ``why`` is the same as
    ``{"code": str, "params": {str: int | str}}``, which the monitor words in the
    supervisor's language (``alert.why.<code>`` in i18n.js).
    """
    if not await services.store.claim_alert(key, kind):
        return False
    alert: dict[str, Any] = {
        "type": "alert",
        "id": str(uuid.uuid4()),
        "key": key,
        "kind": kind,
        "line": line_id,
        "conversation": str(conversation_id) if conversation_id else None,
        "tier": tier,
        "reason": reason,
        "why": why,
        "at": datetime.now(UTC).isoformat(),
    }
    insert = getattr(services.store, "insert_alert", None)
    if insert is not None:
        stored_id = await insert(
            kind=kind,
            line_id=line_id,
            conversation_id=conversation_id,
            tier=tier,
            reason=reason,
            why=why,
        )
        if stored_id is not None:
            alert["id"] = str(stored_id)
    await services.bus.publish("supervisors", alert)
    log.info("alert_raised", kind=kind, key=key, line=line_id)
    recipients = await services.store.supervisor_emails(line_id)
    recipients += [a for a in services.settings.alert_emails if a not in recipients]
    if services.settings.smtp_host and recipients:
        task = asyncio.create_task(_email(services, recipients, alert))
        services.extras.setdefault("background", set()).add(task)
        task.add_done_callback(services.extras["background"].discard)
    return True


def alert_email(
    sender: str, recipients: list[str], alert: dict[str, Any], base_url: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    subject = {"risk": f"Risk alert ({alert['tier']})"}.get(
        alert["kind"], f"Alert: {alert['kind']}"
    )
    message["Subject"] = f"[helpline] {subject}" + (f" on {alert['line']}" if alert["line"] else "")
    lines = [alert["reason"], "", f"Open the shift monitor: {base_url}/staff/monitor.html"]
    if alert["conversation"]:
        lines.append(f"Conversation: {alert['conversation']}")
    message.set_content("\n".join(lines))
    return message


async def _email(services: Services, recipients: list[str], alert: dict[str, Any]) -> None:
    settings = services.settings
    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    message = alert_email(settings.smtp_from, recipients, alert, base)
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            timeout=SMTP_TIMEOUT_S,
            start_tls=False,
            use_tls=False,
        )
        log.info("alert_emailed", kind=alert["kind"], recipients=len(recipients))
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        log.warning("alert_email_failed", kind=alert["kind"])
