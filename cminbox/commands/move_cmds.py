"""`cminbox store migrate`: move a team's store to another backend (core/store_move.py)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import msgspec

from cminbox.commands.context import Context, UsageError
from cminbox.core.pg.connection import dsn_has_password
from cminbox.core.store_api import StoreApi
from cminbox.core.store_move import move
from cminbox.core.wiring import StoreSettings, open_store


def _is_dsn(where: str) -> bool:
    return where.startswith(("postgresql://", "postgres://")) or "dbname=" in where or "host=" in where


def _open(ctx: Context, where: str) -> tuple[StoreApi, str]:
    """A store named on the command line: a PostgreSQL DSN (its password as the config's: the
    [store] password_command, the keyring, or .pgpass; never on the command line) or a data dir."""
    if _is_dsn(where):
        if dsn_has_password(where):
            raise UsageError(
                "give the DSN without its password (it would stay in your shell history); cminbox takes it from "
                "[store] password_command, the keyring (`cminbox login store`) or ~/.pgpass"
            )
        cfg = msgspec.structs.replace(ctx.config.store, backend="postgresql", dsn=where)
        settings = StoreSettings(ctx.data_dir, backend="postgresql", options={"store": cfg, "secrets": ctx.secrets})
        return open_store(settings, ctx.clock), where
    path = Path(where).expanduser().resolve()
    return open_store(StoreSettings(path), ctx.clock), str(path)


def _configured_name(ctx: Context) -> str:
    cfg = ctx.config.store
    return cfg.dsn if cfg.backend == "postgresql" else str(ctx.data_dir.resolve())


def cmd_store_migrate(ctx: Context, args: argparse.Namespace) -> int:
    if args.source:
        source, source_name = _open(ctx, args.source)
    else:
        source, source_name = ctx.store, _configured_name(ctx)
    target, target_name = _open(ctx, args.to)
    if target_name == source_name:
        raise UsageError(f"--to names the store being copied ({source_name})")
    try:
        started = time.monotonic()
        report = move(
            source, target, source_name=source_name, say=print
        )  # progress, not an error: no "cminbox:" prefix
    finally:
        target.close()
        if args.source:
            source.close()
    counts = report.target.counts
    if report.already_done:
        print(f"{target_name} already holds a complete copy of {source_name}: nothing to copy; it is still equal.")
    else:
        copied = ", ".join(f"{n} {what}" for what, n in sorted(report.copied.items())) or "nothing new"
        print(f"copied {copied} in {time.monotonic() - started:.1f} s" + (" (continued)" if report.resumed else ""))
    print(
        f"verified: both stores export the same {counts['items']} live item(s), {counts['archive']} archived, "
        f"{counts['outbox']} outbox item(s), {counts['drafts']} draft(s), {counts['cursors']} cursor(s) "
        f"and {counts['events']} event(s)."
    )
    if _is_dsn(args.to):
        print(f'To use it: in [store] of {ctx.config.path}, set backend = "postgresql" and dsn = "{args.to}".')
    else:
        print(
            f'To use it: set backend = "tinydb" in [store] of {ctx.config.path} and run with --data-dir {target_name}.'
        )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("store", help="move the store to another backend")
    store_sub = p.add_subparsers(dest="store_command", required=True)
    m = store_sub.add_parser(
        "migrate",
        help="copy everything (items, archive, outbox, drafts, cursors, events) into another store; "
        "resumable and idempotent",
    )
    m.add_argument("--to", required=True, metavar="DSN_OR_DIR", help="postgresql://USER@HOST/DB, or a data dir")
    m.add_argument(
        "--from", dest="source", metavar="DSN_OR_DIR", help="the store to copy (default: the configured one)"
    )
    m.set_defaults(func=cmd_store_migrate)
