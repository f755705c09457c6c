"""First run: nothing configured yet. Offer the demo, or set up a first channel right here."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Select

from cminbox.core import config as config_mod
from cminbox.core import registry
from cminbox.core.channel import ChannelError
from cminbox.core.clock import system_clock
from cminbox.core.config import ChannelConfig, ConfigError
from cminbox.core.engine import build_channel
from cminbox.core.secrets import SecretError, Secrets, keyring_set, keyring_status
from cminbox.tui.cursor import StillCursorScreen
from cminbox.tui.plain import Label
from cminbox.tui.typed_keys import Input


class FirstRunScreen(StillCursorScreen):
    """``on_demo`` starts the demo; ``on_configured`` reloads with the new config file.

    ``q`` quits and ``esc`` closes the set-up form, then quits, as on every other screen: only
    ctrl+q did, and nothing said so (new-user trial of 2026-12-02). A focused box takes the
    letters typed into it, so ``q`` there is a q."""

    BINDINGS = [
        Binding("q", "app.quit", "Quit", id="first_run_quit"),
        Binding("escape", "back", "Back", id="first_run_back"),
    ]

    def __init__(self, config_path: Path, on_demo: Callable[[], None], on_configured: Callable[[], None]) -> None:
        super().__init__()
        self.config_path = config_path
        self.on_demo = on_demo
        self.on_configured = on_configured

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text("Welcome to cminbox", style="bold"), classes="dialog-title")
            yield Label("No channel is configured yet. Try the demo community, or connect your first channel.")
            with Horizontal():
                yield Button("Try the demo", id="demo", variant="primary")
                yield Button("Set up a channel", id="setup")
            with Vertical(id="setup-form"):
                yield Select(
                    [(t, t) for t in registry.channel_types()], value="mastodon", allow_blank=False, id="setup-type"
                )
                yield Input(placeholder="name, e.g. mastodon", id="setup-name")
                yield Input(placeholder="server URL, e.g. https://mastodon.social", id="setup-url")
                yield Input(placeholder="access token (stored in the OS keyring)", password=True, id="setup-token")
                yield Input(placeholder="…or a token_command, e.g. pass show cminbox/mastodon", id="setup-command")
                yield Button("Check and save", id="setup-save", variant="primary")
                yield Label("", id="setup-result")
            yield Label("tab moves · enter presses · esc goes back · q quits", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#setup-form").display = False
        self.query_one("#demo", Button).focus()

    def action_back(self) -> None:
        form = self.query_one("#setup-form")
        if form.display:
            form.display = False
            self.query_one("#setup", Button).focus()
        else:
            self.app.exit()

    @on(Button.Pressed, "#demo")
    def _demo(self) -> None:
        self.on_demo()

    @on(Button.Pressed, "#setup")
    def _setup(self) -> None:
        self.query_one("#setup-form").display = True
        self.query_one("#setup-name", Input).focus()

    def say(self, text: str, style: str = "") -> None:
        self.query_one("#setup-result", Label).update(Text(text, style=style))

    @on(Button.Pressed, "#setup-save")
    def _save(self) -> None:
        name = self.query_one("#setup-name", Input).value.strip()
        url = self.query_one("#setup-url", Input).value.strip().rstrip("/")
        token = self.query_one("#setup-token", Input).value.strip()
        command = self.query_one("#setup-command", Input).value.strip()
        kind = str(self.query_one("#setup-type", Select).value)
        # A JSON string is a valid TOML basic string: quoting cannot break the file.
        block = f"\n[[channels]]\nname = {json.dumps(name)}\ntype = {json.dumps(kind)}\nurl = {json.dumps(url)}\n"
        if command:
            block += f"token_command = {json.dumps(command)}\n"
        try:
            config_mod.parse(block, self.config_path)
        except ConfigError as exc:
            self.say(exc.problem + " " + exc.hint, "bold red")
            return
        if not token and not command:
            self.say("Give a token or a token_command.", "bold red")
            return
        self.say("Checking the connection…", "italic")
        self.check(block, name, token, command)

    @work(exclusive=True)
    async def check(self, block: str, name: str, token: str, command: str) -> None:
        cfg = config_mod.parse(block, self.config_path)
        ch_cfg: ChannelConfig = cfg.channels[0]
        secrets = Secrets({name: token}) if token else Secrets()
        channel = build_channel(ch_cfg, secrets, system_clock)
        try:
            me = await channel.whoami()
        except (ChannelError, SecretError) as exc:
            self.say(f"Could not connect: {getattr(exc, 'reason', exc)}", "bold red")
            return
        finally:
            await channel.aclose()
        if token:
            status = keyring_status()
            if not status.usable:
                self.say(f"Connected as {me.handle}, but the token cannot be stored: {status.problem}", "bold red")
                return
            keyring_set(name, token)
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        with self.config_path.open("a", encoding="utf-8") as fh:
            fh.write(block)
        self.say(f"Connected as {me.handle}. Saved to {self.config_path}.", "bold green")
        self.on_configured()
