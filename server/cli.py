"""The ``helpline`` command: serve, triage, rota, bench."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from server.config import Settings


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
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
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
    serve.set_defaults(func=_serve)
    try:
        from triage.cli import register as register_triage
    except ImportError:
        pass
    else:
        register_triage(
            sub.add_parser("triage", help="score and evaluate risk").add_subparsers(
                dest="triage_command", required=True
            )
        )
    try:
        from rota.cli import register as register_rota
    except ImportError:
        pass
    else:
        register_rota(
            sub.add_parser("rota", help="shifts, coverage, gaps").add_subparsers(
                dest="rota_command", required=True
            )
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    result = args.func(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
