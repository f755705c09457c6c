"""Starting the TUI from the command line: on the configured channels, the demo, or first run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from cminbox.commands.context import Context
from cminbox.core.engine import Engine
from cminbox.core.inbox import Inbox
from cminbox.core.outbox import Outbox
from cminbox.core.store import Store
from cminbox.demo.session import DemoSession, start_demo
from cminbox.tui.app import CminboxApp
from cminbox.tui.first_run import FirstRunScreen
from cminbox.tui.services import Services

if TYPE_CHECKING:
    from cminbox.core.config import Config
    from cminbox.core.secrets import Secrets


def services_for(ctx: Context) -> Services:
    ctx.lazy_store = True
    return Services(ctx.config, ctx.inbox, ctx.engine() if ctx.config.channels else None, ctx.clock)


def demo_services(session: DemoSession, ctx: Context) -> Services:
    return _services(session.config, session.secrets, session.data_dir, ctx)


def _services(config: Config, secrets: Secrets, data_dir: Path, ctx: Context) -> Services:
    store = Store(data_dir, clock=ctx.clock, lazy=True)
    outbox = Outbox(store.dir, store.lock, clock=ctx.clock)
    return Services(
        config, Inbox(config, store, outbox, ctx.clock), Engine(config, store, outbox, secrets, ctx.clock), ctx.clock
    )


def run(app: CminboxApp, args: argparse.Namespace, mouse_default: bool) -> int:
    app.run(mouse=mouse_default and not getattr(args, "no_mouse", False))
    return 0


def run_inbox(ctx: Context, args: argparse.Namespace) -> int:
    app = CminboxApp(services_for(ctx), theme=getattr(args, "theme", None))
    return run(app, args, ctx.config.ui.mouse)


def run_demo(ctx: Context, args: argparse.Namespace) -> int:
    # On exit, error or Ctrl-C the demo's temporary data dir goes (a --data-dir is kept).
    with start_demo(args.seed, args.rate, args.burst_after, getattr(args, "data_dir", None)) as session:
        app = CminboxApp(demo_services(session, ctx), theme=getattr(args, "theme", None))
        return run(app, args, True)


def run_first_run(ctx: Context, args: argparse.Namespace) -> int:
    app: CminboxApp
    sessions: list[DemoSession] = []

    def on_demo() -> None:
        session = start_demo()
        sessions.append(session)
        app.pop_screen()
        app.open_inbox(demo_services(session, ctx))

    def on_configured() -> None:
        fresh = Context(args, clock=ctx.clock)
        app.pop_screen()
        app.open_inbox(services_for(fresh))

    path = ctx.config.path
    assert path is not None
    app = CminboxApp(
        None, theme=getattr(args, "theme", None), first_run=lambda: FirstRunScreen(path, on_demo, on_configured)
    )
    try:
        return run(app, args, True)
    finally:
        for session in sessions:
            session.close()
