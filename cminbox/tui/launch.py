"""Starting the TUI from the command line: on the configured channels, the demo, or first run.

The objects come from cminbox.core.wiring, as for the CLI; what the command line decided
(the config file, the data dir, the clock, the secrets) arrives as a wiring.Setup.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from cminbox.core.clock import Clock
from cminbox.core.config import Config
from cminbox.core.secrets import Secrets
from cminbox.core.wiring import Setup, wire
from cminbox.tui.services import Services

if TYPE_CHECKING:  # the demo's modules are imported by the commands that start one
    from cminbox.demo.session import DemoSession
    from cminbox.demo.team import TeamDemo
    from cminbox.tui.app import CminboxApp


def services(config: Config, secrets: Secrets, data_dir: Path, clock: Clock, *, engine: bool = True) -> Services:
    """The TUI's objects for one data dir; the store reads its older parts in the background,
    and its first screen from now on (tui/first_read.py): the App and Textual are imported
    after this, beside that read."""
    from cminbox.tui.first_read import EarlyRead

    wired = wire(config, data_dir, lazy=True, clock=clock, secrets=secrets)
    made = Services(config, wired.inbox, None, clock, make_engine=wired.engine if engine else None)
    made.early_read = EarlyRead(made.store, made.people_ops, clock)
    return made


def services_for(launch: Setup) -> Services:
    config = launch.load_config()
    return services(config, launch.secrets, launch.data_dir, launch.clock, engine=bool(config.channels))


def demo_services(session: DemoSession, launch: Setup) -> Services:
    return services(session.config, session.secrets, session.data_dir, launch.clock)


def run(app: CminboxApp, args: argparse.Namespace, mouse_default: bool) -> int:
    """The app's own exit code: 1 when it ended on an error (Textual has printed it), so a
    wrapper or a script can tell a crash from a quit (review of 2026-12-01: it was always 0)."""
    app.run(mouse=mouse_default and not getattr(args, "no_mouse", False))
    return app.return_code or 0


def run_inbox(launch: Setup, args: argparse.Namespace) -> int:
    inbox = services_for(launch)
    from cminbox.tui.app import CminboxApp  # after the first read started (tui/first_read.py)

    app = CminboxApp(inbox, theme=getattr(args, "theme", None))
    return run(app, args, launch.load_config().ui.mouse)


def run_demo(launch: Setup, args: argparse.Namespace) -> int:
    # On exit, error or Ctrl-C the demo's temporary data dir goes (a --data-dir is kept).
    from cminbox.demo.session import start_demo

    with start_demo(args.seed, args.rate, args.burst_after, getattr(args, "data_dir", None)) as session:
        app = demo_app(session, launch, getattr(args, "theme", None))
        return run(app, args, True)


def demo_app(session: DemoSession, launch: Setup, theme: str | None = None) -> CminboxApp:
    """The demo's TUI; a notice says where its data is and how a second shell reaches it: the
    TUI covers whatever was printed before it (a new-user trial of 2026-12-01 found the folder
    only with `ls`)."""
    from cminbox.demo.command import cminbox_command

    gone = "removed when you quit" if session.temporary else "kept"
    notice = (
        f"Data in {session.data_dir} ({gone}). From a second shell:\n"
        f"{session.export_line}\n{cminbox_command()} list --status new | head"
    )
    return app_with_notice(demo_services(session, launch), "The Lumen demo", notice, 30, theme)


def app_with_notice(services: Services, title: str, notice: str, timeout: float, theme: str | None) -> CminboxApp:
    """The inbox, with ``notice`` shown once it is up (the demos say how to go on). It steps
    aside when the composer opens: a toast over the composer's right half hid what was typed
    there and its key hints (team-demo trial of 2026-12-02; the team demo's stays 60 s)."""
    from textual.notifications import Notification, Notify

    from cminbox.tui.app import CminboxApp
    from cminbox.tui.composer import Composer

    class NoticeApp(CminboxApp):
        shown: Notification | None = None

        # Textual calls every class's on_mount in the MRO: CminboxApp's runs too (no super() call,
        # which would open the inbox twice).
        def on_mount(self) -> None:
            # App.notify, keeping the notification to take back; made now, since its timeout
            # runs from when it is made (made with the class, start-up ate into it).
            self.shown = Notification(notice, title, "information", timeout, markup=False)
            self.post_message(Notify(self.shown))

        def on_composer_opened(self, _event: Composer.Opened) -> None:
            if self.shown is not None and self.shown in self._notifications:
                self._unnotify(self.shown)

    return NoticeApp(services, theme=theme)


def team_app(team: TeamDemo, launch: Setup, theme: str | None = None) -> CminboxApp:
    """The first teammate's TUI on the team demo's store; a notification says how the second joins."""
    hint = f"{team.mate.capitalize()} joins from another pane with:\n{team.command(team.mate)}\n(also in {team.script})"
    inbox = services(team.config, team.secrets, team.data_dir(team.me), launch.clock)
    return app_with_notice(inbox, f"Team demo: you are {team.me}", hint, 60, theme)


def run_team_demo(launch: Setup, args: argparse.Namespace, team: TeamDemo) -> int:
    """The caller owns and closes ``team`` (the servers and the temp folders); the store is
    closed first, so its pool does not try to reconnect to the server being stopped."""
    app = team_app(team, launch, getattr(args, "theme", None))
    try:
        return run(app, args, True)
    finally:
        if app.services is not None:
            app.services.store.close()


def run_first_run(launch: Setup, args: argparse.Namespace) -> int:
    from cminbox.tui.app import CminboxApp
    from cminbox.tui.first_run import FirstRunScreen  # first run only: it imports the channels

    app: CminboxApp
    sessions: list[DemoSession] = []

    def on_demo() -> None:
        from cminbox.demo.session import start_demo

        session = start_demo()
        sessions.append(session)
        app.pop_screen()
        app.open_inbox(demo_services(session, launch))

    def on_configured() -> None:
        app.pop_screen()
        app.open_inbox(services_for(launch))

    path = launch.load_config().path
    assert path is not None
    app = CminboxApp(
        None, theme=getattr(args, "theme", None), first_run=lambda: FirstRunScreen(path, on_demo, on_configured)
    )
    try:
        return run(app, args, True)
    finally:
        for session in sessions:
            session.close()
