"""Retention is enforced; the staff and corrections commands work against the database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from server.models import RiskTier
from server.retention import purge
from tests.server.conftest import Running


async def test_retention_deletes_old_transcripts_and_keeps_recent_ones(running: Running) -> None:
    line = await running.line()
    old, recent = await running.caller(), await running.caller()
    await old.start(line)
    await recent.start(line)
    await old.say("old words")
    await recent.say("recent words")
    await old.send({"type": "end"})
    await recent.send({"type": "end"})
    await old.expect("ended")
    await recent.expect("ended")
    await running.store.pool.execute(
        "UPDATE conversations SET ended_at = now() - interval '91 days' WHERE id = $1",
        uuid.UUID(old.conversation),
    )
    counts = await purge(running.store, retention_days=90)
    assert counts["conversations"] >= 1
    assert await running.store.get_conversation(uuid.UUID(old.conversation)) is None
    left = await running.store.pool.fetchval(
        "SELECT count(*) FROM messages WHERE conversation_id = $1", uuid.UUID(old.conversation)
    )
    assert left == 0
    assert await running.store.get_conversation(uuid.UUID(recent.conversation)) is not None


def _helpline(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_staff_add_creates_an_account_that_can_sign_in(database_url: str) -> None:
    username = f"first-{uuid.uuid4().hex[:6]}"
    made = _helpline(
        database_url,
        "staff",
        "add",
        username,
        "--role",
        "supervisor",
        "--email",
        "lead@example.org",
    )
    assert made.returncode == 0, made.stderr
    assert "password (shown once)" in made.stdout
    again = _helpline(database_url, "staff", "add", username)
    assert again.returncode != 0


async def test_corrections_export_as_evaluation_items(
    running: Running, database_url: str, tmp_path: Path
) -> None:
    line = await running.line()
    counsellor = await running.staff(line)
    caller = await running.caller()
    await caller.start(line, "sv")
    await caller.say("jag mår dåligt")
    await caller.say("har köpt rep")
    conv = uuid.UUID(caller.conversation)
    await running.store.reassess_risk(
        conv, RiskTier.IMMINENT, counsellor.id, "rope bought after a death wish earlier"
    )
    out = tmp_path / "corrections.jsonl"
    done = _helpline(database_url, "triage", "corrections", "--out", str(out))
    assert done.returncode == 0, done.stderr
    items = [json.loads(line) for line in out.read_text().splitlines()]
    ours = [i for i in items if i["text"] == "har köpt rep"]
    assert ours and ours[-1]["tier"] == "imminent" and ours[-1]["context"] == ["jag mår dåligt"]
    assert ours[-1]["lang"] == "sv"
