"""Test clients that speak the wire protocol over real websockets."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

RECV_TIMEOUT_S = 10.0


class WsClient:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def recv(self, timeout: float = RECV_TIMEOUT_S) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        frame: dict[str, Any] = json.loads(raw)
        self.seen.append(frame)
        return frame

    async def expect(
        self, kind: str, timeout: float = RECV_TIMEOUT_S, **match: Any
    ) -> dict[str, Any]:
        """Read frames until one of ``kind`` (matching ``match``) arrives."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no {kind} {match} frame; saw {self.seen[-10:]}")
            frame = await self.recv(remaining)
            if frame.get("type") == kind and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def has_frame(
        self, kind: str, timeout: float = RECV_TIMEOUT_S, **match: Any
    ) -> dict[str, Any]:
        """A frame of ``kind`` matching ``match``, already seen or still coming."""
        for frame in self.seen:
            if frame.get("type") == kind and all(frame.get(k) == v for k, v in match.items()):
                return frame
        return await self.expect(kind, timeout=timeout, **match)

    async def has_message(self, seq: int, timeout: float = RECV_TIMEOUT_S) -> dict[str, Any]:
        """The message with ``seq``, whether it already arrived or is still coming."""
        for frame in self.seen:
            if frame.get("type") == "message" and frame.get("seq") == seq:
                return frame
        return await self.expect("message", timeout=timeout, seq=seq)

    async def nothing_of(self, kind: str, wait: float = 0.5) -> None:
        """Assert no frame of ``kind`` arrives within ``wait`` seconds."""
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return
            try:
                frame = await self.recv(remaining)
            except TimeoutError:
                return
            assert frame.get("type") != kind, f"unexpected {frame}"

    def messages(self) -> list[dict[str, Any]]:
        return [f for f in self.seen if f.get("type") == "message"]

    def next_id(self, prefix: str = "m") -> str:
        return f"{prefix}{next(self._ids)}"

    async def close(self) -> None:
        await self.ws.close()


class Caller(WsClient):
    token: str
    conversation: str

    @classmethod
    async def open(cls, base_ws: str) -> Caller:
        return cls(await connect(f"{base_ws}/ws/caller"))

    async def start(self, line: str, lang: str = "sv", **extra: Any) -> dict[str, Any]:
        await self.send({"v": 1, "type": "start", "line": line, "lang": lang, **extra})
        started = await self.expect("started")
        self.token, self.conversation = started["token"], started["conversation"]
        return started

    async def say(self, text: str, client_id: str | None = None) -> dict[str, Any]:
        cid = client_id or self.next_id("c")
        await self.send({"type": "send", "id": cid, "text": text})
        return await self.expect("ack", id=cid)

    async def say_refused(self, text: str) -> dict[str, Any]:
        cid = self.next_id("c")
        await self.send({"type": "send", "id": cid, "text": text})
        return await self.expect("error", ref=cid)


class Counsellor(WsClient):
    @classmethod
    async def open(cls, base_http: str, username: str, password: str) -> Counsellor:
        async with httpx.AsyncClient(base_url=base_http) as http:
            response = await http.post(
                "/api/login", json={"username": username, "password": password}
            )
            response.raise_for_status()
            cookie = response.cookies["helpline_session"]
        ws_url = base_http.replace("http://", "ws://") + "/ws/staff"
        client = cls(
            await connect(ws_url, additional_headers={"Cookie": f"helpline_session={cookie}"})
        )
        client.cookie = cookie
        await client.expect("hello")
        return client

    cookie: str

    async def clock_in(self) -> None:
        await self.send({"type": "clock_in"})
        await self.expect("shift", on_shift=True)

    async def take_next(self, timeout: float = 10.0) -> str:
        offer = await self.expect("offer", timeout=timeout)
        await self.send({"type": "accept", "conversation": offer["conversation"]})
        await self.expect("assigned", conversation=offer["conversation"])
        return str(offer["conversation"])

    async def say(
        self, conversation: str, text: str, client_id: str | None = None
    ) -> dict[str, Any]:
        cid = client_id or self.next_id("s")
        await self.send({"type": "send", "conversation": conversation, "id": cid, "text": text})
        return await self.expect("ack", id=cid)
