from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from rota.bench import benchmark_rota
from rota.cli import DEMO_ROTA, main, register
from rota.model import Rota


def test_gaps_json_on_the_demo(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gaps", "--days", "14", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["version"] == 1
    # The demo has a deliberate weekly gap: no adults supervisor Sunday 00-08.
    assert any(g["line"] == "adults" and g["role"] == "supervisor" for g in payload["gaps"])
    assert all({"key", "reason"} <= set(a) for a in payload["alerts"])


def test_gaps_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gaps", "--days", "8", "--file", str(DEMO_ROTA)]) == 0
    assert "missing" in capsys.readouterr().out


def test_export_ics(capsys: pytest.CaptureFixture[bytes]) -> None:
    assert main(["export", "--ics", "--staff", "counsellor1", "--days", "30"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("BEGIN:VCALENDAR\r\n") and "BEGIN:VEVENT" in out


def test_import_calls_the_store_callback(tmp_path: Path) -> None:
    stored: list[Rota] = []
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"), store=lambda rota, text: stored.append(rota))
    args = parser.parse_args(["import", str(DEMO_ROTA)])
    assert args.func(args) == 0
    assert len(stored) == 1 and stored[0].line("young")


def test_bad_file_is_an_error_with_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("lines:\n  - {id: a, open: sometimes}\n", encoding="utf-8")
    assert main(["gaps", "--file", str(bad)]) == 1
    assert "line 2, at lines[0].open" in capsys.readouterr().err


def test_benchmark_rota_has_the_issue_size() -> None:
    rota = benchmark_rota()
    assert len(rota.staff) == 200 and len(rota.lines) == 10
