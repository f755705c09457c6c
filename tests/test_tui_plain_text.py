"""What a server or a person wrote is shown as written, never read as Textual markup.

Regression (review of 2026-12-01): a channel's error text went into a notice with markup on;
``[/]`` ended the app with a MarkupError, ``[@click=app.quit]Dismiss[/]`` made a link that
quit it. The same held for every Label and Static given a str (a typed filter, a handle).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from textual.widgets import Label, Static
from textual.widgets._toast import Toast

from cminbox.core.clock import FrozenClock
from cminbox.core.health import ChannelHealth, HealthState
from cminbox.core.poller import PollReport
from cminbox.tui.app import PollUpdate
from tests.conftest import ROOT
from tests.tui_fixtures import make_app, make_services, settle

HOSTILE = [
    "[reverse red]YOUR TOKEN EXPIRED[/] [@click=app.quit]Dismiss[/]",
    "oops [/bold] x",
    "x [/]",
    "[link=https://evil.example/login]re-login here[/link]",
]


def _toasts_text(app: object) -> str:
    return "\n".join(str(toast.render()) for toast in app.screen.query(Toast))  # type: ignore[attr-defined]


@pytest.mark.parametrize("reason", HOSTILE)
async def test_a_channel_error_is_shown_as_written(tmp_path: Path, clock: FrozenClock, reason: str) -> None:
    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        health = ChannelHealth(channel="masto", state=HealthState.DEGRADED, reason=reason)
        app.post_message(PollUpdate(PollReport(channel="masto", health=health, new_ids=[])))
        await settle(pilot)
        await pilot.pause()
        assert app.is_running and app.return_code is None
        assert f"masto: {reason}" in _toasts_text(app)
        await pilot.click(Toast)  # a click on the notice runs no action of the server's
        assert app.is_running


async def test_a_typed_filter_with_brackets_is_shown_as_typed(tmp_path: Path, clock: FrozenClock) -> None:
    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"[/] [@click=app.quit]x", "enter")
        await settle(pilot)
        assert app.is_running
        said = str(app.screen.query_one("#filter-error").render()) + str(app.screen.query_one("#view-line").render())
        assert "[/]" in said or "[@click=app.quit]" in said


def test_every_label_and_static_of_the_tui_is_plain() -> None:
    """Textual's own Label and Static read a str as markup: the TUI takes them from tui/plain.py."""
    offenders = []
    for path in sorted((ROOT / "cminbox" / "tui").glob("*.py")):
        if path.name == "plain.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "textual.widgets":
                offenders += [f"{path.name}: {a.name}" for a in node.names if a.name in {"Label", "Static"}]
    assert not offenders, f"import Label and Static from cminbox.tui.plain: {offenders}"


def test_plain_widgets_keep_brackets() -> None:
    from cminbox.tui.plain import Label as PlainLabel
    from cminbox.tui.plain import Static as PlainStatic

    for kind in (PlainLabel, PlainStatic):
        widget = kind("a [/] b [@click=app.quit]c[/]")
        assert isinstance(widget, Label | Static)
        assert "[/]" in str(widget.visual)


async def test_a_crash_report_shows_no_local_variable_and_no_secret(tmp_path: Path, clock: FrozenClock) -> None:
    """Regression (review of 2026-12-01): Textual's crash report printed every frame's locals;
    a mail search's frame held the IMAP password. One redacted line and the log's path now."""
    from cminbox.core.redact import redactor

    secret = "s3cret-support-pw-0042"
    redactor.add(secret)
    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        password = secret  # a local of the failing frame, as imaplib's caller had

        try:
            raise UnicodeEncodeError("ascii", "über", 0, 1, f"while sending {password}")
        except UnicodeEncodeError as error:
            app._handle_exception(error)
        said = "\n".join(str(each) for each in app._exit_renderables)
        app._exception = None  # handled here: run_test must not raise it again
    assert "internal error (UnicodeEncodeError" in said and "cminbox.log" in said
    assert secret not in said and "password" not in said and "«redacted»" in said
