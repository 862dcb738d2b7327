"""Load clients and server processes for the fault tests and ``helpline soak``.

Callers and counsellors that behave like the real widget and console on a bad
network: they reconnect to any live process, resume from the last sequence
number they saw, and resend unacknowledged messages with the same client id.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``helpline serve`` in a subprocess, on a fixed loopback port so it can restart."""

    def __init__(self, env: dict[str, str], port: int | None = None, drain_s: float = 5.0) -> None:
        self.port = port or free_port()
        # Load and fault runs measure the hub, not the embedding model: the semantic
        # triage layer is off unless the caller's environment asks for it.
        self.env = {
            "HELPLINE_TRIAGE_SEMANTIC": "off",
            **os.environ,
            **env,
            "HELPLINE_DRAIN_S": str(drain_s),
        }
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(self.port), "--no-demo"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}")
            try:
                if httpx.get(f"{self.http}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError("server did not become healthy")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


@dataclass
class Cluster:
    servers: list[ServerProcess]

    def alive(self) -> list[ServerProcess]:
        return [s for s in self.servers if s.alive()]

    async def connect(self, path: str, **kwargs: Any) -> ClientConnection:
        """Connect to some live process, trying the others, with a short backoff."""
        for attempt in range(200):
            candidates = self.alive() or self.servers
            server = random.choice(candidates)
            try:
                return await connect(f"{server.ws}{path}", open_timeout=3, **kwargs)
            except (TimeoutError, OSError, Exception):
                await asyncio.sleep(min(1.0, 0.05 * (attempt + 1)))
        raise AssertionError("no server process answered")


async def send_json(ws: ClientConnection, frame: dict[str, Any]) -> None:
    await ws.send(json.dumps(frame))


@dataclass
class CallerRun:
    index: int
    line: str
    messages: int
    # Between messages, to spread a soak run over its duration.
    pause_s: float = 0.0
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    conversation: str = ""
    acked: dict[int, int] = field(default_factory=dict)  # message index -> seq
    reconnects: int = 0

    async def run(self, cluster: Cluster, started: asyncio.Event | None) -> None:
        next_index = 0
        first = True
        while next_index < self.messages:
            try:
                ws = await cluster.connect("/ws/caller")
                async with ws:
                    kind = "start" if first else "resume"
                    frame = (
                        {"type": "start", "line": self.line, "lang": "en", "token": self.token}
                        if first
                        else {"type": "resume", "token": self.token, "last_seq": 0}
                    )
                    await send_json(ws, frame)
                    while True:
                        reply = json.loads(await ws.recv())
                        if reply["type"] in ("started", "resumed"):
                            self.conversation = reply["conversation"]
                            break
                        if reply["type"] == "error":
                            raise AssertionError(f"{kind} refused: {reply}")
                    if first and started is not None:
                        started.set()
                    first = False
                    while next_index < self.messages:
                        client_id = f"c{self.index}-{next_index}"
                        await send_json(
                            ws, {"type": "send", "id": client_id, "text": f"m{next_index}"}
                        )
                        while True:
                            reply = json.loads(await ws.recv())
                            if reply.get("type") == "ack" and reply["id"] == client_id:
                                self.acked[next_index] = reply["seq"]
                                next_index += 1
                                if self.pause_s:
                                    await asyncio.sleep(self.pause_s)
                                break
                            if reply.get("type") == "error" and reply.get("ref") == client_id:
                                await asyncio.sleep(0.2)  # not stored: resend the same id
                                break
            except Exception:
                self.reconnects += 1
                await asyncio.sleep(0.1)


@dataclass
class CounsellorRun:
    username: str
    password: str
    messages: int
    received: dict[str, list[int]] = field(default_factory=dict)
    finished: set[str] = field(default_factory=set)
    accepted: list[str] = field(default_factory=list)
    reconnects: int = 0

    async def login(self, cluster: Cluster) -> str:
        for _ in range(200):
            server = random.choice(cluster.alive() or cluster.servers)
            try:
                async with httpx.AsyncClient(base_url=server.http, timeout=5) as http:
                    reply = await http.post(
                        "/api/login", json={"username": self.username, "password": self.password}
                    )
                reply.raise_for_status()
                return str(reply.cookies["helpline_session"])
            except (httpx.HTTPError, OSError):
                await asyncio.sleep(0.2)
        raise AssertionError("could not sign in")

    async def run(self, cluster: Cluster, stop: asyncio.Event) -> None:
        cookie = await self.login(cluster)
        while not stop.is_set():
            try:
                ws = await cluster.connect(
                    "/ws/staff", additional_headers={"Cookie": f"helpline_session={cookie}"}
                )
                async with ws:
                    await send_json(ws, {"type": "clock_in"})
                    await self._serve(ws, stop)
            except Exception:
                self.reconnects += 1
                await asyncio.sleep(0.1)

    async def _serve(self, ws: ClientConnection, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 1.0))
            except TimeoutError:
                continue
            kind = frame.get("type")
            if kind == "hello":
                held_now = {held["conversation"] for held in frame["conversations"]}
                # An end that the server carried out just before a crash: the
                # wrapped_up frame was lost, but the conversation is no longer held.
                for conv, seen in self.received.items():
                    if len(seen) >= self.messages and conv not in held_now:
                        self.finished.add(conv)
                for held in frame["conversations"]:
                    conv = held["conversation"]
                    seen = self.received.setdefault(conv, [])
                    await send_json(
                        ws, {"type": "sync", "conversation": conv, "last_seq": max(seen, default=0)}
                    )
                    if len(seen) >= self.messages:  # the end sent before a crash got lost
                        await send_json(ws, {"type": "end", "conversation": conv})
            elif kind == "offer":
                await send_json(ws, {"type": "accept", "conversation": frame["conversation"]})
            elif kind == "assigned":
                self.accepted.append(frame["conversation"])
                self.received.setdefault(frame["conversation"], [])
            elif kind == "message" and frame["from"] == "caller":
                conv = frame["conversation"]
                self.received.setdefault(conv, []).append(frame["seq"])
                if len(self.received[conv]) >= self.messages and conv not in self.finished:
                    await send_json(ws, {"type": "end", "conversation": conv})
            elif kind == "wrapped_up":
                self.finished.add(frame["conversation"])
            elif kind == "error" and frame.get("code") == "conversation_closed":
                self.finished.add(str(frame.get("ref")))
