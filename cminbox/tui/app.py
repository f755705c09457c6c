"""The thin App: themes, keymap, the engine worker, and which screen to show."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import RenderableType
from rich.text import Text
from textual import events
from textual.app import App, SystemCommand
from textual.command import CommandPalette
from textual.drivers.linux_driver import LinuxDriver
from textual.filter import LineFilter
from textual.message import Message as TextualMessage
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.widgets._toast import ToastRack
from textual.worker import Worker, WorkerState

from cminbox.core import gc_pause
from cminbox.core.config import log_path
from cminbox.core.errors import CminboxError
from cminbox.core.health import HealthState
from cminbox.core.outbox_types import OutboxKind
from cminbox.core.redact import redactor
from cminbox.core.text import sanitize
from cminbox.tui import terminal_writer
from cminbox.tui.frames import FrameWaiters
from cminbox.tui.idle_gc import IdleCollector
from cminbox.tui.inbox_screen import InboxScreen
from cminbox.tui.inert_lines import InertLines
from cminbox.tui.palette import ActionCommands
from cminbox.tui.row_loading import FirstRows, RowsComplete
from cminbox.tui.services import Services
from cminbox.tui.terminal_writer import TerminalWriter
from cminbox.tui.themes import DEFAULT_THEME, VARIABLE_DEFAULTS, load_themes

if TYPE_CHECKING:  # built on a worker after the first frame (on_first_rows), imported there
    from cminbox.core.dispatch import Delivery
    from cminbox.core.engine import Engine
    from cminbox.core.poller import PollReport

log = logging.getLogger("cminbox.tui")
INERT_LINES = InertLines()
BAD_STATES = (HealthState.DEGRADED, HealthState.RATE_LIMITED, HealthState.AUTH_FAILED)
ENGINE_BUILD = "build engine"
ENGINE_WAIT = 3.0  # seconds after the first rows: the engine is built by then, rows complete or not
START_UP_GC_LIMIT = 5.0  # seconds: the collector's start-up pause ends by then, rows or not
QUIT_WAIT = 5.0  # seconds quitting waits for triage writes still on their way to the store
CLOSE_WAIT = 5.0  # seconds quitting waits for an unreachable store to close (its goodbyes: db.GOODBYE_WAIT)


class PollUpdate(TextualMessage):
    def __init__(self, report: PollReport) -> None:
        super().__init__()
        self.report = report


class DeliveryUpdate(TextualMessage):
    """An outbox item was delivered (or failed), by this instance's engine or a key press."""

    def __init__(self, delivery: Delivery) -> None:
        super().__init__()
        self.delivery = delivery


# Not imported with the inbox (issue #14): on a worker once every row is in (import_dialogs_soon).
DIALOGS = (
    "cminbox.tui.dialogs",
    "cminbox.tui.bulk_confirm",
    "cminbox.tui.moderation",
    "cminbox.tui.help_screen",
    "cminbox.tui.helpers_screen",
    "cminbox.tui.macro_dialogs",
)


def import_dialogs() -> None:
    for name in DIALOGS:
        importlib.import_module(name)


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
        terminal_writer.install()  # before the driver starts: its writer survives a lost terminal
        self.services = services
        self.run_engine = run_engine
        self.requested_theme = theme
        self.first_run = first_run
        self.blink = blink  # tests and snapshots switch the cursor blink off
        self.keymap_overrides: dict[str, str] = {}
        self._stop = asyncio.Event()
        self._last_state: dict[str, HealthState] = {}
        self.idle_gc = IdleCollector()
        self._fatal: Exception | None = None  # the bug that stopped the app (_fatal_error reports it)
        self._frame_waiters = FrameWaiters(self)
        self._engine_asked = False  # the engine's build was started for these services
        self._dialogs_asked = False  # import_dialogs_soon
        self._quit_unreachable = False  # quitting while the inbox could not reach its store
        # Frames were dropped for a stalled terminal: the writer asked to say when it has caught up.
        self._redraw_asked: TerminalWriter | None = None
        # The themes, and the one to start with, before the stylesheet's first parse: a theme
        # set at mount made Textual parse every stylesheet again and restyle the screen (~8 ms
        # of the first frame, issue #14). An unknown name is reported at mount (apply_theme).
        themes, self._theme_problems = load_themes()
        for each in themes:
            self.register_theme(each)
        first = theme or (services.config.ui.theme if services is not None else None) or DEFAULT_THEME
        if first in self.available_themes:
            self._start_with_theme(first)

    def call_after_frame(self, callback: Callable[[], object]) -> None:
        """``callback`` once the next frame has been written (tui/frames.py)."""
        self._frame_waiters.add(callback)

    def _display(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        writer = self._driver._writer_thread if isinstance(self._driver, LinuxDriver) else None
        if renderable is not None and isinstance(writer, TerminalWriter) and writer.behind():
            # The terminal takes no more output (a stalled link): this frame is dropped, not
            # queued behind the others, so the UI thread never waits on the terminal; the
            # screen is drawn whole once the writer has caught up (tui/terminal_writer.py).
            if self._redraw_asked is not writer:  # (a suspend makes a new writer: the old one's hook is gone)
                self._redraw_asked = writer
                loop = asyncio.get_running_loop()

                def caught_up() -> None:
                    with contextlib.suppress(RuntimeError):  # the loop already closed: the app is ending
                        loop.call_soon_threadsafe(self._redraw_after_stall)

                writer.when_drained(caught_up)
            return
        super()._display(screen, renderable)
        if renderable is not None and not self._batch_count:  # else Textual wrote nothing
            self._frame_waiters.frame_written()

    def _redraw_after_stall(self) -> None:
        self._redraw_asked = None
        if not self._exit and self._screen_stack:
            self.screen.refresh()  # every line of it, as a resize would

    def _start_with_theme(self, name: str) -> None:
        """What App._watch_theme and refresh_css do, less the reparse (nothing is parsed yet):
        the theme's classes, ANSI colours and CSS variables. Textual is pinned, so its private
        filter refresh is safe to call; tests/test_tui_themes.py checks the theme took, with
        no reparse."""
        self.set_reactive(App.theme, name)
        dark = self.current_theme.dark
        classes = {each: False for each in self.classes if each.startswith("-theme-")}
        self.update_classes(
            {**classes, f"-theme-{name}": True, "-dark-mode": dark, "-light-mode": not dark}, update=False
        )
        self._refresh_truecolor_filter(self.ansi_theme)
        self.stylesheet.set_variables(self.get_css_variables())  # made in App.__init__, before this

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters, then the guard that no control character reaches the terminal
        (tui/inert_lines.py)."""
        return [*super().get_line_filters(), INERT_LINES]

    def action_command_palette(self) -> None:
        """Not over a dialog: the palette's commands act on the inbox behind it, while the
        dialog (a "Post this reply publicly?" question) waits for its answer (new-user trial
        of 2026-12-01)."""
        if isinstance(self.screen, ModalScreen) and not isinstance(self.screen, CommandPalette):
            self.notify("Answer or close this dialog first (esc)", timeout=3)
            return
        super().action_command_palette()

    def _refresh_notifications(self) -> None:
        """Textual's, then the screens below the top one show no toasts: Textual shows every live
        notification again on a screen pushed on top and leaves the copies below, so a dialog
        over the inbox showed each notice twice, one through its backdrop (new-user trial of
        2026-12-02: the demo's welcome over `t` and `?`). A screen shows them again when it is
        the top one (Textual refreshes them on resume). Textual is pinned: a test checks it."""
        super()._refresh_notifications()
        for below in self.screen_stack[:-1]:
            for rack in below.query(ToastRack):
                rack.display = False

    def get_system_commands(self, screen: Screen[Any]) -> Iterator[SystemCommand]:
        """Textual's own palette commands, but its "Theme" and "Keys": the action table's "Change
        theme" (ctrl+t) picks from the same themes, and the palette listed both (new-user trial
        of 2026-12-01); Textual's "Keys" opened its own key panel beside the table's "Keys (this
        screen)", the help `?` opens (trial of 2026-12-02)."""
        for command in super().get_system_commands(screen):
            if command.title not in ("Theme", "Keys"):
                yield command

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every notice is plain text, whatever the caller asked (``Widget.notify`` passes
        Textual's default, markup on): a notice often carries a server's words (a channel's
        error, a handle), and read as markup they restyled the notice, made click actions
        (``[@click=app.quit]``) or, unbalanced, ended the app with a MarkupError."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def _handle_exception(self, error: Exception) -> None:
        self._fatal = error
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        """A bug stopped the app. Textual's own report prints every frame's local variables, and
        a channel's password or token is one of them in some frame (review of 2026-12-01: a mail
        search printed the IMAP password). The terminal gets one redacted line and where the log
        is; the log gets the traceback, without locals, through the redacting filter. Textual is
        pinned, so overriding its private report is safe (tests/test_tui_plain_text.py checks it)."""
        error = self._fatal
        log.error("the app stopped on an internal error", exc_info=error)
        said = redactor.redact(sanitize(f"{type(error).__name__}: {error}", single_line=True))[:200]
        self.bell()
        self._exit_renderables.append(
            Text(f"cminbox stopped: internal error ({said}).\nDetails are in {log_path()}; please report it.")
        )
        self._close_messages_no_wait()

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(VARIABLE_DEFAULTS)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self.idle_gc.note_input()
        await super().on_event(event)

    def on_mount(self) -> None:
        self.idle_gc.install()
        # A closed tmux pane or SSH session (SIGHUP) and `kill` (SIGTERM) end the app as `q` does:
        # the terminal is restored and the launcher's clean-up (the demo's temp folder) runs.
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self.exit)
        # A terminal gone without a SIGHUP reaching the app (a shell or a task runner between
        # tmux or sshd and cminbox): its writer says so, and the app ends the same way.

        def terminal_gone() -> None:
            with contextlib.suppress(RuntimeError):  # the loop already closed: the app is ending
                loop.call_soon_threadsafe(self.exit)

        terminal_writer.on_gone(terminal_gone)
        self.set_interval(0.5, self.idle_gc.tick)
        # The start-up pause of the garbage collector (cli.main) ends with the first rows drawn;
        # a screen without rows (first run) ends it once drawn, and nothing keeps it past this.
        self.set_timer(START_UP_GC_LIMIT, gc_pause.end_start_up)
        for problem in self._theme_problems:
            self.notify(problem, title="Theme not loaded", severity="warning", timeout=10)
        if self.services is None:
            self.apply_theme(self.requested_theme or DEFAULT_THEME)
            if self.first_run is not None:
                self.push_screen(self.first_run())
            self.call_after_refresh(gc_pause.end_start_up)
            return
        self._inbox_opened(self.services)  # the inbox is the default screen (get_default_screen)

    def get_default_screen(self) -> Screen[Any]:
        """The inbox, when the app starts on one: it was pushed over Textual's default screen,
        which was composed, styled and mounted with its toast rack and tooltip for nothing
        (issue #14). Popping a dialog still lands on it; it cannot itself be popped."""
        if self.services is None:
            return super().get_default_screen()
        return InboxScreen(self.services)

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
        """The inbox over the screen shown (the first run's choice made)."""
        self.services = services
        self._engine_asked = False
        self.push_screen(InboxScreen(services))
        self._inbox_opened(services)

    def _inbox_opened(self, services: Services) -> None:
        cfg = services.config
        self.apply_theme(self.requested_theme or cfg.ui.theme)
        # Loading the config refused unknown action ids and keys taken twice (core.keymap).
        self.keymap_overrides = dict(cfg.keys)
        self.set_keymap(self.keymap_overrides)
        if services.engine is not None:
            self._attach_engine(services.engine)

    def on_first_rows(self, message: FirstRows) -> None:
        """The first rows are drawn. The engine is built once the rows hold every stored item
        (or after ENGINE_WAIT, whichever is first): the store's own items come before the
        network's, and building it (its channel adapters and their HTTP client are imported
        then) beside the loader took ~60 ms of a 100k inbox's full load (issue #14)."""
        gc_pause.end_start_up()
        if message.complete:  # (no RowsComplete follows: the first read held every item)
            self.build_engine()
            self.import_dialogs_soon()
        else:
            self.set_timer(ENGINE_WAIT, self.build_engine)

    def on_rows_complete(self, _message: RowsComplete) -> None:
        self.build_engine()
        # What the full load's decoding freed goes back to the OS (core/heap.py: ~12 MB at
        # 100k mails), on a worker: ctypes releases the interpreter for the call.
        from cminbox.core.heap import release_freed_memory

        self.run_worker(release_freed_memory, thread=True, name="release freed memory", exit_on_error=False)
        self.import_dialogs_soon()

    def import_dialogs_soon(self) -> None:
        """The dialogs' modules, on a worker, once: the first key that opens one does not pay
        for their import (~5 ms)."""
        if not self._dialogs_asked:
            self._dialogs_asked = True
            self.run_worker(import_dialogs, thread=True, name="import dialogs", exit_on_error=False)

    def build_engine(self) -> None:
        """On a worker, once; attached when it is ready (PollUpdate and DeliveryUpdate follow)."""
        services = self.services
        if services is None or services.make_engine is None or services.engine is not None or self._engine_asked:
            return
        self._engine_asked = True
        self.run_worker(services.make_engine, thread=True, name=ENGINE_BUILD, group="engine", exit_on_error=False)

    def _attach_engine(self, engine: Engine) -> None:
        services = self.services
        assert services is not None
        services.engine, services.make_engine = engine, None

        # The row a reply answered changes when the reply is sent (replied, no longer new),
        # whichever loop sent it; the store's change detection only sees other processes.
        def delivered(delivery: Delivery) -> None:
            self.post_message(DeliveryUpdate(delivery))

        engine.dispatcher.on_delivery = delivered
        if self.run_engine:

            def forward(report: PollReport) -> None:
                self.post_message(PollUpdate(report))

            engine.poller.on_report = forward
            self.run_worker(engine.run(self._stop), name="engine", group="engine", exit_on_error=False)
        for screen in self.screen_stack:
            if isinstance(screen, InboxScreen):
                screen.read_health()  # the header lists the channels from now on

    async def action_quit(self) -> None:
        """Triage writes still queued (milliseconds, normally) are finished before leaving; a
        store that hangs is not waited on for more than a few seconds."""
        for screen in self.screen_stack:
            if isinstance(screen, InboxScreen) and screen.writes.pending:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(screen.writes.idle(), QUIT_WAIT)
        self._quit_unreachable = any(isinstance(s, InboxScreen) and not s.store_ok for s in self.screen_stack)
        self.exit()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker stopped by an error the core explains (an unwritable data folder, a full
        disk): say it, as the triage keys do, rather than let the engine stop silently."""
        error = event.worker.error
        if event.worker.name == ENGINE_BUILD and event.state == WorkerState.SUCCESS and event.worker.result:
            self._attach_engine(event.worker.result)
        elif event.worker.name == ENGINE_BUILD and event.state == WorkerState.ERROR and self.services is not None:
            self.services.make_engine = None  # not tried again: the notice says why
            if not isinstance(error, CminboxError):  # a bug, not the machine: say so, keep triage usable
                log.error("building the engine failed", exc_info=error)
                self.notify(
                    f"Channels not started: internal error ({type(error).__name__}); see the log and please report it.",
                    severity="error",
                    timeout=30,
                    markup=False,
                )
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

    def on_delivery_update(self, message: DeliveryUpdate) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, InboxScreen):
                screen.reread_states([message.delivery.item.message_id])  # on a worker, never here
                if message.delivery.ok and message.delivery.item.kind == OutboxKind.FOLLOW_UP:
                    screen.forget_cards()  # the author's card counts the guideline notices sent

    async def on_unmount(self) -> None:
        self.idle_gc.uninstall()
        terminal_writer.on_gone(None)  # the hook holds this app: a later app in the process sets its own
        self._stop.set()
        if self.services is not None and self.services.engine is not None:
            await self.services.engine.aclose()
        if self.services is not None and self._quit_unreachable and self.services.store.pushes_changes:
            # Workers still waiting for the unreachable database's connections fail at once when
            # it closes; else the exit waited for each to time out (asyncio joins every worker
            # thread): 14-26 s of blank screen after `q` in a new-user trial of the team demo,
            # its server gone with the first teammate. Closing twice is harmless (launch.py).
            # On a thread of its own: the workers waiting hold every thread of asyncio's pool.
            # Not TinyDB's store: no connection to wait for, and its file lease must be released
            # by the thread that took it.
            closing = threading.Thread(target=self._close_store, name="cminbox store close", daemon=True)
            closing.start()
            for _ in range(int(CLOSE_WAIT / 0.05)):
                if not closing.is_alive():
                    break
                await asyncio.sleep(0.05)

    def _close_store(self) -> None:
        if self.services is not None:
            with contextlib.suppress(CminboxError):
                self.services.store.close()
