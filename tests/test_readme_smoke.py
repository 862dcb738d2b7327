"""The README's run command, on the embedded default, holds a short conversation."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
from pathlib import Path

import httpx

from tests.conftest import free_port
from tests.server.clients import Caller, Counsellor


async def test_readme_run_command_serves_a_conversation(tmp_path: Path, repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text()
    assert "scripts/run" in readme and "scripts/test" in readme
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    proc = subprocess.Popen(
        [str(repo_root / "scripts" / "run"), "--port", str(port), "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
        start_new_session=True,
    )
    try:
        output = await asyncio.wait_for(asyncio.to_thread(_read_until_ready, proc), 120)
        passwords = dict(
            re.findall(r"^\s+(counsellor1|counsellor2|supervisor)\s+(\S+)$", output, re.M)
        )
        assert set(passwords) == {"supervisor", "counsellor1", "counsellor2"}, output
        assert f"http://127.0.0.1:{port}/staff/" in output
        base = f"http://127.0.0.1:{port}"
        await _wait_healthy(base)
        counsellor = await Counsellor.open(base, "counsellor1", passwords["counsellor1"])
        await counsellor.clock_in()
        caller = await Caller.open(f"ws://127.0.0.1:{port}")
        await caller.start("adults", "da")
        conv = await counsellor.take_next()
        await caller.say("hej, er der nogen?")
        await counsellor.has_message(1)
        await counsellor.say(conv, "Ja, jeg er her.")
        assert (await caller.has_message(2))["text"] == "Ja, jeg er her."
        await caller.close()
        await counsellor.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        rest, _ = proc.communicate(timeout=30)
    assert (tmp_path / "pgdata").is_dir()
    # Privacy: neither a client address nor a caller's words reach the logs.
    log_text = output + rest
    assert "er der nogen" not in log_text
    assert re.search(r"127\.0\.0\.1:\d+ -", log_text) is None, log_text[-2000:]
    assert "conversation_started" in log_text  # the logs are there, just clean
    assert "triage_semantic_layer_on" in log_text  # the default: rules and semantic layer


async def _wait_healthy(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as http:
        for _ in range(200):
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("the server never answered /healthz")


def _read_until_ready(proc: subprocess.Popen[str]) -> str:
    seen = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if "counsellor2" in line:
            break
    return "".join(seen)
