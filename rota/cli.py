"""Command-line shell around the rota: ``import``, ``gaps`` and ``export``.

Design note: docs/rota.md ("CLI"). The only rota module allowed to read files
and the clock; everything it prints comes from the pure functions. The server
CLI attaches these subcommands with ``register(subparsers, store=...)``, where
``store`` persists an imported rota; ``python -m rota.cli`` works standalone.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rota.alerts import gaps_ahead
from rota.coverage import compute_coverage
from rota.ics import to_ics
from rota.model import Rota
from rota.shifts import effective_shifts
from rota.yaml_format import RotaFormatError, parse_rota_yaml

DEMO_ROTA = Path(__file__).with_name("examples") / "demo.yaml"

# How far ahead `export --ics` looks by default: a quarter is what people plan.
DEFAULT_EXPORT_DAYS = 90

StoreRota = Callable[[Rota, str], None]
"""Persist a parsed rota; gets the rota and the original YAML text."""
LoadRota = Callable[[], str | None]
"""The stored rota's YAML text, or None when nothing was imported."""


def _rota_for(args: argparse.Namespace, load: LoadRota | None) -> Rota:
    """``--file`` if given, else the stored rota, else the demo."""
    if args.file:
        return load_rota(args.file)
    stored = load() if load is not None else None
    if stored is not None:
        return parse_rota_yaml(stored)
    return load_rota(DEMO_ROTA)


def load_rota(path: Path | str) -> Rota:
    """Read and parse a rota file (raises ``RotaFormatError`` with the file's name)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        return parse_rota_yaml(text)
    except RotaFormatError as exc:
        raise RotaFormatError(f"{path}: {exc}", path=exc.path, line=exc.line) from None


def summary(rota: Rota) -> str:
    """A few human lines describing a parsed rota."""
    lines = [
        f"{len(rota.lines)} lines, {len(rota.staff)} staff, {len(rota.templates)} templates, "
        f"{len(rota.shifts)} one-off shifts, {len(rota.holidays)} holidays, "
        f"{len(rota.swaps)} swaps, {len(rota.covers)} covers"
    ]
    for line in rota.lines:
        lines.append(f"  {line.line_id} ({line.timezone}): open {line.opening.label()}")
    return "\n".join(lines)


def _now() -> datetime:
    return datetime.now(UTC)


def _cmd_import(args: argparse.Namespace, store: StoreRota | None) -> int:
    text = Path(args.file).read_text(encoding="utf-8")
    rota = parse_rota_yaml(text)
    print(summary(rota))
    if store is None:
        print("validated only (no store configured)")
    else:
        store(rota, text)
        print("stored")
    return 0


def _cmd_gaps(args: argparse.Namespace, load: LoadRota | None) -> int:
    rota = _rota_for(args, load)
    now = _now()
    if args.json:
        coverage = compute_coverage(rota, now, now + timedelta(days=args.days))
        payload: dict[str, Any] = coverage.to_dict()
        payload["alerts"] = [a.to_dict() for a in gaps_ahead(rota, now, args.days)]
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    alerts = gaps_ahead(rota, now, args.days)
    if not alerts:
        print(f"no gaps in the next {args.days} days")
    for alert in alerts:
        print(f"- {alert.reason}")
    return 0


def _cmd_export(args: argparse.Namespace, load: LoadRota | None) -> int:
    if not args.ics:
        print("only --ics export is supported", file=sys.stderr)
        return 2
    rota = _rota_for(args, load)
    if args.staff not in rota.staff_by_id():
        print(f"unknown staff member {args.staff!r}", file=sys.stderr)
        return 2
    now = _now()
    shifts, _ = effective_shifts(rota, now, now + timedelta(days=args.days))
    text = to_ics(
        shifts,
        args.staff,
        dtstamp=now.replace(microsecond=0),
        line_names={line.line_id: line.name for line in rota.lines},
    )
    if args.output:
        Path(args.output).write_bytes(text.encode("utf-8"))
    else:
        sys.stdout.buffer.write(text.encode("utf-8"))
    return 0


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    store: StoreRota | None = None,
    load: LoadRota | None = None,
) -> None:
    """Add ``import``, ``gaps`` and ``export``; each sets ``func(args) -> int``."""
    importer = subparsers.add_parser("import", help="validate (and store) a YAML rota")
    importer.add_argument("file", help="rota YAML file (format: docs/rota.md)")
    importer.set_defaults(func=lambda args: _cmd_import(args, store))

    gaps = subparsers.add_parser("gaps", help="list staffing gaps ahead")
    gaps.add_argument("--days", type=int, default=14)
    gaps.add_argument("--json", action="store_true", help="machine-readable output")
    gaps.add_argument("--file", help="rota YAML (default: the stored rota, else the demo)")
    gaps.set_defaults(func=lambda args: _cmd_gaps(args, load))

    export = subparsers.add_parser("export", help="export one person's shifts")
    export.add_argument("--ics", action="store_true", help="as an RFC 5545 calendar")
    export.add_argument("--staff", required=True, help="username")
    export.add_argument("--days", type=int, default=DEFAULT_EXPORT_DAYS)
    export.add_argument("--file", help="rota YAML (default: the stored rota, else the demo)")
    export.add_argument("--output", help="write here instead of stdout")
    export.set_defaults(func=lambda args: _cmd_export(args, load))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rota", description="Helpline rota tools")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        result: int = args.func(args)
    except RotaFormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return result


if __name__ == "__main__":
    raise SystemExit(main())
