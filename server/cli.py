"""The ``helpline`` command: serve, triage, rota, bench."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rota.cli import register as register_rota
from server.config import Settings
from server.store import Store
from triage.cli import register as register_triage


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server import logs
    from server.app import create_app

    settings = Settings.from_env()
    changes: dict[str, object] = {"demo": not args.no_demo}
    if args.host:
        changes["host"] = args.host
    if args.port:
        changes["port"] = args.port
    if args.data_dir:
        changes["data_dir"] = Path(args.data_dir)
    settings = settings.with_(**changes)
    logs.configure(settings.dev)
    workers = max(1, args.workers)
    options = dict(host=settings.host, port=settings.port)
    if workers == 1:
        app: object = create_app(settings)
    else:
        if not (settings.database_url and settings.redis_url):
            print(
                "--workers needs DATABASE_URL and REDIS_URL: the in-process bus and the "
                "embedded PostgreSQL serve one process only",
                file=sys.stderr,
            )
            return 2
        if settings.demo:
            _create_demo_once(settings)
        # Workers are separate processes: they read their settings from the environment.
        os.environ.update(
            {
                "HELPLINE_HOST": settings.host,
                "HELPLINE_PORT": str(settings.port),
                "HELPLINE_DEMO": "0",
            }
        )
        app = "server.app:app_from_env"
        options["workers"] = workers
    uvicorn.run(
        app,  # type: ignore[arg-type]
        factory=workers > 1,
        **options,  # type: ignore[arg-type]
        ws="websockets-sansio",
        ws_max_size=settings.max_frame_bytes,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=int(settings.drain_s),
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helpline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the server (embedded PostgreSQL unless DATABASE_URL)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--data-dir", help="where the embedded PostgreSQL keeps its data")
    serve.add_argument("--no-demo", action="store_true", help="do not create the demo lines/staff")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes on one port (needs DATABASE_URL and REDIS_URL)",
    )
    serve.set_defaults(func=_serve)
    triage_commands = sub.add_parser(
        "triage", help="score and evaluate risk (docs/triage.md)"
    ).add_subparsers(dest="triage_command", required=True)
    register_triage(triage_commands)
    corrections = triage_commands.add_parser(
        "corrections", help="export counsellors' re-assessments as evaluation items (JSONL)"
    )
    corrections.add_argument("--since-days", type=int, default=90)
    corrections.add_argument("--out", help="write here instead of stdout")
    corrections.set_defaults(func=_corrections)
    staff = sub.add_parser("staff", help="manage staff accounts")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True)
    add = staff_commands.add_parser("add", help="create an account; prints a generated password")
    add.add_argument("username")
    add.add_argument("--name", help="display name (default: the username)")
    add.add_argument("--role", choices=["counsellor", "supervisor", "admin"], default="counsellor")
    add.add_argument("--email", help="for alert e-mails (supervisors)")
    add.add_argument("--lines", default="", help="comma-separated line ids (default: all)")
    add.set_defaults(func=_staff_add)
    lines = sub.add_parser("lines", help="the lines callers reach (docs/deploy.md)")
    line_commands = lines.add_subparsers(dest="lines_command", required=True)
    load = line_commands.add_parser(
        "import", help="create or update lines from a YAML or JSON file (all checked first)"
    )
    load.add_argument("file", type=Path)
    load.set_defaults(func=_lines_import)
    line_commands.add_parser("export", help="print every line as the file `import` reads")
    line_commands.choices["export"].set_defaults(func=_lines_export)
    line_commands.add_parser("list", help="one line each: id, languages, English name")
    line_commands.choices["list"].set_defaults(func=_lines_list)
    soak = sub.add_parser("soak", help="long run over several processes; counts must match")
    soak.add_argument("--minutes", type=float, default=2.0)
    soak.add_argument("--conversations", type=int, default=40)
    soak.add_argument("--messages", type=int, default=100)
    soak.add_argument("--processes", type=int, default=2)
    soak.add_argument("--kill-every", type=float, help="kill -9 a process every N seconds")
    soak.set_defaults(func=_soak)
    bench = sub.add_parser("bench", help="measure speed goals (docs/benchmarks.md)")
    bench.add_argument(
        "--only",
        default="triage,semantic,rota,matching,chat",
        help="comma-separated: triage, semantic, rota, matching, chat",
    )
    bench.add_argument("--quick", action="store_true", help="smaller, faster runs")
    bench.set_defaults(func=_bench)
    rota_parser = sub.add_parser("rota", help="shifts, coverage, gaps (docs/rota.md)")
    rota_parser.add_argument("--data-dir", help="the embedded PostgreSQL's folder")
    register_rota(
        rota_parser.add_subparsers(dest="rota_command", required=True),
        store=lambda _rota, text: _store_rota(text),
        load=_load_rota,
    )
    return parser


def _create_demo_once(settings: Settings) -> None:
    from server.cli_db import with_store
    from server.demo import ensure_demo

    passwords = with_store(lambda store: ensure_demo(store, settings.default_capacity))
    for username, password in passwords.items():
        print(f"    {username:<12} {password}")


def _corrections(args: argparse.Namespace) -> int:
    import json

    from server.cli_db import with_store
    from server.corrections import export_corrections

    items = with_store(lambda store: export_corrections(store, args.since_days))
    text = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"{len(items)} items written to {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def _staff_add(args: argparse.Namespace) -> int:
    import secrets

    from server.auth import hash_password
    from server.cli_db import with_store
    from server.models import StaffRole

    password = secrets.token_urlsafe(12)
    lines = [line.strip() for line in args.lines.split(",") if line.strip()]

    async def create(store: Store) -> None:
        if await store.staff_by_username(args.username) is not None:
            raise SystemExit(f"{args.username} already exists")
        member = await store.create_staff(
            args.username,
            args.name or args.username,
            StaffRole(args.role),
            hash_password(password),
            Settings.from_env().default_capacity,
            lines,
        )
        if args.email:
            await store.set_staff_email(member.id, args.email)
        await store.audit(None, "staff_created", detail={"staff": member.id, "role": args.role})

    with_store(create)
    print(f"created {args.role} {args.username}; password (shown once): {password}")
    return 0


def _lines_import(args: argparse.Namespace) -> int:
    from server.cli_db import with_store
    from server.line_file import LineFileError, parse_line_file

    try:
        lines = parse_line_file(args.file.read_text(encoding="utf-8"))
    except (OSError, LineFileError) as error:
        print(f"{args.file}: {error}", file=sys.stderr)
        return 2

    async def save(store: Store) -> list[str]:
        known = {line.id for line in await store.list_lines()}
        for line in lines:
            await store.upsert_line(line)
            await store.audit(None, "line_saved", detail={"line": line.id})
        return [("updated " if line.id in known else "created ") + line.id for line in lines]

    for change in with_store(save):
        print(change)
    return 0


def _lines_export(_args: argparse.Namespace) -> int:
    from server.cli_db import with_store
    from server.line_file import export_lines

    sys.stdout.write(export_lines(with_store(lambda store: store.list_lines())))
    return 0


def _lines_list(_args: argparse.Namespace) -> int:
    from server.cli_db import with_store

    for line in with_store(lambda store: store.list_lines()):
        name = line.name.get("en") or next(iter(line.name.values()), "")
        print(f"{line.id}\t{','.join(line.languages)}\t{name}")
    return 0


def _soak(args: argparse.Namespace) -> int:
    import asyncio
    import json

    from server.soak import soak

    settings = Settings.from_env()
    if not (settings.database_url and settings.redis_url):
        print(
            "soak needs DATABASE_URL and REDIS_URL (several processes share them)", file=sys.stderr
        )
        return 2
    result = asyncio.run(
        soak(
            settings.database_url,
            settings.redis_url,
            minutes=args.minutes,
            conversations=args.conversations,
            messages=args.messages,
            processes=args.processes,
            kill_every_s=args.kill_every,
        )
    )
    print(json.dumps(result, indent=2))
    return 0 if result["ok"] else 1


def _bench(args: argparse.Namespace) -> int:
    import json

    from server.bench import run

    only = {part.strip() for part in args.only.split(",") if part.strip()}
    results = run(only, args.quick, Settings.from_env().database_url)
    print(json.dumps(results, indent=2))
    return 0


def _data_dir() -> Path | None:
    raw = os.environ.get("HELPLINE_CLI_DATA_DIR")
    return Path(raw) if raw else None


def _store_rota(text: str) -> None:
    from server.cli_db import with_store

    document = with_store(lambda store: store.save_rota(text, None), _data_dir())
    print(f"stored as rota document {document}; running servers pick it up within a minute")


def _load_rota() -> str | None:
    from server.cli_db import with_store

    async def load(store: Store) -> str | None:
        current = await store.current_rota_source()
        return current[1] if current else None

    return with_store(load, _data_dir())


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "rota" and args.data_dir:
        os.environ["HELPLINE_CLI_DATA_DIR"] = args.data_dir
    result = args.func(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
