"""The thin App: themes, keymap, the engine worker, and which screen to show."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual import events
from textual.app import App
from textual.message import Message as TextualMessage
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from cminbox.core.errors import CminboxError
from cminbox.core.health import HealthState
from cminbox.core.poller import PollReport
from cminbox.tui.actions import unknown_ids
from cminbox.tui.idle_gc import IdleCollector
from cminbox.tui.inbox_screen import InboxScreen
from cminbox.tui.palette import ActionCommands
from cminbox.tui.services import Services
from cminbox.tui.themes import DEFAULT_THEME, VARIABLE_DEFAULTS, load_themes

BAD_STATES = (HealthState.DEGRADED, HealthState.RATE_LIMITED, HealthState.AUTH_FAILED)


class PollUpdate(TextualMessage):
    def __init__(self, report: PollReport) -> None:
        super().__init__()
        self.report = report


class CminboxApp(App[None]):
    CSS_PATH = "cminbox.tcss"
    TITLE = "cminbox"
    COMMANDS = App.COMMANDS | {ActionCommands}

    def __init__(
        self,
        services: Services | None,
        *,
        run_engine: bool = True,
        theme: str | None = None,
        first_run: Callable[[], Screen[Any]] | None = None,
        blink: bool = True,
    ) -> None:
        super().__init__()
        self.services = services
        self.run_engine = run_engine
        self.requested_theme = theme
        self.first_run = first_run
        self.blink = blink  # tests and snapshots switch the cursor blink off
        self.keymap_overrides: dict[str, str] = {}
        self._stop = asyncio.Event()
        self._last_state: dict[str, HealthState] = {}
        self.idle_gc = IdleCollector()

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(VARIABLE_DEFAULTS)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self.idle_gc.note_input()
        await super().on_event(event)

    def on_mount(self) -> None:
        self.idle_gc.install()
        self.set_interval(0.5, self.idle_gc.tick)
        themes, problems = load_themes()
        for theme in themes:
            self.register_theme(theme)
        for problem in problems:
            self.notify(problem, title="Theme not loaded", severity="warning", timeout=10)
        if self.services is None:
            self.apply_theme(self.requested_theme or DEFAULT_THEME)
            if self.first_run is not None:
                self.push_screen(self.first_run())
            return
        self.open_inbox(self.services)

    def apply_theme(self, name: str) -> None:
        if name in self.available_themes:
            self.theme = name
        else:
            self.notify(
                f"Theme {name!r} is not available; using {DEFAULT_THEME}. "
                f"Known: {', '.join(sorted(self.available_themes))}",
                severity="warning",
                timeout=10,
            )
            self.theme = DEFAULT_THEME

    def open_inbox(self, services: Services) -> None:
        self.services = services
        cfg = services.config
        self.apply_theme(self.requested_theme or cfg.ui.theme)
        bad = unknown_ids(cfg.keys)
        if bad:
            where = ", ".join(f"`{b}` (line {cfg.line_of('keys', b)})" for b in bad)
            self.notify(
                f"{cfg.path}: unknown action ids in [keys]: {where}. `?` lists the ids.", severity="error", timeout=15
            )
        self.keymap_overrides = {k: v for k, v in cfg.keys.items() if k not in bad}
        self.set_keymap(self.keymap_overrides)
        self.push_screen(InboxScreen(services))
        if self.run_engine and services.engine is not None:
            engine = services.engine

            def forward(report: PollReport) -> None:
                self.post_message(PollUpdate(report))

            engine.poller.on_report = forward
            self.run_worker(engine.run(self._stop), name="engine", group="engine", exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker stopped by an error the core explains (an unwritable data folder, a full
        disk): say it, as the triage keys do, rather than let the engine stop silently."""
        error = event.worker.error
        if event.state == WorkerState.ERROR and isinstance(error, CminboxError):
            self.notify(str(error), title="Stopped", severity="error", timeout=30, markup=False)

    def on_poll_update(self, message: PollUpdate) -> None:
        report = message.report
        previous = self._last_state.get(report.channel)
        self._last_state[report.channel] = report.health.state
        went_bad = report.health.state in BAD_STATES and previous != report.health.state
        for screen in self.screen_stack:
            if isinstance(screen, InboxScreen):
                screen.apply_poll(report, went_bad)

    async def on_unmount(self) -> None:
        self.idle_gc.uninstall()
        self._stop.set()
        if self.services is not None and self.services.engine is not None:
            await self.services.engine.aclose()
