"""demo and demo-server: the built-in Lumen community, through the real Mastodon code path."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from cminbox.commands.context import Context
from cminbox.commands.render import row
from cminbox.core.poller import PollReport
from cminbox.demo.server import DemoHTTPServer
from cminbox.demo.session import DemoSession, start_demo
from cminbox.demo.state import DemoState


def _state(args: argparse.Namespace) -> DemoState:
    return DemoState(seed=args.seed, rate=args.rate, burst_after=args.burst_after, token=args.token)


def cmd_demo_server(ctx: Context, args: argparse.Namespace) -> int:
    server = DemoHTTPServer(_state(args), args.port)
    print(f"cminbox demo server on {server.url} (token: {args.token}); Ctrl-C stops it", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def prepare_demo(ctx: Context, args: argparse.Namespace) -> DemoSession:
    """Start the demo server in-process and point ctx (config, data dir, token) at it.
    Close the session when done: that removes the data dir unless --data-dir named it."""
    session = start_demo(args.seed, args.rate, args.burst_after, getattr(args, "data_dir", None), args.token)
    args.data_dir = str(session.data_dir)
    ctx.config_override = session.config
    ctx.secrets = session.secrets
    return session


def cmd_demo(ctx: Context, args: argparse.Namespace) -> int:
    if args.team:
        return _team(ctx, args)
    if not args.text:
        from cminbox.tui import launch

        return launch.run_demo(ctx.setup(), args)
    from cminbox.demo.command import cminbox_command

    with prepare_demo(ctx, args) as session:
        kept = "" if session.temporary else " (kept)"
        print(f"cminbox demo: the Lumen community on {session.server.url}; data in {args.data_dir}{kept}")
        print("In another shell:")
        print(f"  {session.export_line}")
        run = cminbox_command()
        print(f"  {run} list --status new | head;  {run} reply ID --text 'Thanks!'")
        gone = "; the demo's data is removed then" if session.temporary else ""
        print(f"Ctrl-C to stop{gone}.\n", flush=True)
        return _live_text(ctx)


def _team(ctx: Context, args: argparse.Namespace) -> int:
    """demo --team: a local PostgreSQL and two teammates' configs; the TUI (or --text) as the first."""
    from cminbox.core.pg.cluster import ServerMissingError
    from cminbox.demo.team import start_team_demo

    if getattr(args, "data_dir", None):
        print("cminbox: demo --team keeps its data in a temp folder; drop --data-dir.", file=sys.stderr)
        return 2
    try:
        team = start_team_demo(args.me, args.seed, args.rate, args.burst_after, args.token)
    except ServerMissingError as exc:
        print(f"cminbox demo --team: {exc}", file=sys.stderr)
        return 2
    with team:
        print(team.banner(), flush=True)
        if not args.text:
            from cminbox.tui import launch

            return launch.run_team_demo(ctx.setup(), args, team)
        args.data_dir = str(team.data_dir(team.me))
        ctx.config_override = team.config
        ctx.secrets = team.secrets
        print("Ctrl-C to stop.\n", flush=True)
        return _live_text(ctx)


def _live_text(ctx: Context) -> int:
    engine = ctx.engine()
    first = True

    def on_report(report: PollReport) -> None:
        nonlocal first
        now = ctx.clock()
        h = report.health
        if h.state != "ok":
            print(f"[{h.channel}] {h.state}: {h.reason}", flush=True)
            return
        ids = report.new_ids if not first else [m.id for m, _ in ctx.store.query(limit=20)][::-1]
        if first:
            # The store's count, not this poll's: a kept --data-dir already holds the
            # community, and its second run brings in only what is new (a trial of
            # 2026-12-01 read "0 messages in the inbox" above 20 of them).
            held = len(ctx.store)
            # Oldest of them first, as a log reads: what arrives later prints below (a trial of
            # 2026-12-02 read "the newest:" above a list that ran from 4h down to 0s).
            print(
                f"{held} messages in the inbox ({len(report.new_ids)} new from this poll); the newest "
                f"{len(ids)}, oldest first, and new ones below as they arrive:"
            )
        for mid in ids:
            msg = ctx.store.get_message(mid)
            if msg is not None:
                print(row(msg, ctx.store.triage(mid), now), flush=True)
        first = False

    engine.poller.on_report = on_report

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # SIGHUP: the pane was closed
            loop.add_signal_handler(sig, stop.set)
        try:
            await engine.run(stop)
        finally:
            await engine.aclose()

    asyncio.run(run())
    print("\nbye", file=sys.stderr)
    return 0


def add_demo_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=7, help="the community's random seed (same seed, same world)")
    p.add_argument("--rate", type=float, default=6.0, help="live messages per minute (0: none)")
    p.add_argument(
        "--burst-after", type=float, default=60.0, help="seconds until the incident burst (negative: no incident)"
    )
    p.add_argument("--token", default="demo-token", help=argparse.SUPPRESS)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="run cminbox on the built-in demo community")
    add_demo_options(p)
    p.add_argument("--text", action="store_true", help="print the live inbox as text instead of the TUI")
    p.add_argument(
        "--team",
        action="store_true",
        help="on a throwaway local PostgreSQL, with the command that opens a second teammate's instance",
    )
    p.add_argument("--me", default="ana", help="--team: your name in the team (default: ana; the other is bob)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("demo-server", help="run the demo community's server alone (for tests and scripts)")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    add_demo_options(p)
    p.set_defaults(func=cmd_demo_server)
