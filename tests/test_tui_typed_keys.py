"""Keys that arrive together are applied in the order typed (Textual issue #6605).

Regression (tmux, 2026-12-01): over a link that delivers several keys in one read (SSH, tmux),
an Input's editing keys bubbled up to the App before running, so the characters after them
went in first: in the filter bar "hello", two backspaces and "tag:outage" gave "hellotag:o",
and ctrl+u then a new filter gave an empty one. In the composer, ctrl+s (a priority binding)
read the text before the box had the words typed just before it, and the reply went without
them. Here the keys are posted to the App in one go, without waiting between them, which is
what one read of several keys does.
"""

from __future__ import annotations

import ast
from pathlib import Path

from textual import events

from cminbox.core.clock import FrozenClock
from cminbox.tui.composer import Composer
from cminbox.tui.inbox_screen import InboxScreen
from tests.conftest import ROOT
from tests.tui_fixtures import make_app, make_services, settle

SIZE = (120, 40)
NAMED = {"backspace": None, "enter": "\r", "ctrl+u": "\x15", "left": None, "ctrl+s": "\x13"}


def burst(app: object, keys: list[str]) -> None:
    """Post every key to the App at once, as a read of several keys from the terminal does."""
    for key in keys:
        character = NAMED.get(key, key)
        name = {" ": "space", ":": "colon"}.get(key, key)
        app.post_message(events.Key(name, character))  # type: ignore[attr-defined]


def _inbox(app: object) -> InboxScreen:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, InboxScreen)
    return screen


async def test_editing_keys_in_the_filter_bar_stay_in_typing_order(tmp_path: Path, clock: FrozenClock) -> None:
    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        # "hello", -2: "hel", "p": "help", two left: "he|lp", -1: "h|lp", enter
        burst(app, [*"hello", "backspace", "backspace", "p", "left", "left", "backspace", "enter"])
        await settle(pilot)
        query = _inbox(app).filter
        assert query is not None and query.text == "hlp", query
        await pilot.press("slash")
        await settle(pilot)
        burst(app, ["ctrl+u", *"tag:outage", "enter"])
        await settle(pilot)
        query = _inbox(app).filter
        assert query is not None and query.text == "tag:outage", query


async def test_a_reply_sent_in_the_same_read_as_its_last_words_has_them(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        row = _inbox(app).inbox_list.current
        assert row is not None
        await pilot.press("r")
        await settle(pilot)
        composer = _inbox(app).query_one(Composer)
        burst(app, [*"Thanks, fixd", "backspace", *"ed!", "ctrl+s"])
        await settle(pilot)
        assert composer.text == "Thanks, fixed!"
        await pilot.press("y")  # a public reply asks first
        await settle(pilot)
        [item] = services.inbox.outbox.items()
        assert (item.message_id, item.payload["text"]) == (row.message.id, "Thanks, fixed!")


def test_every_text_box_of_the_tui_keeps_typing_order() -> None:
    """Textual's own Input and TextArea run their editing keys out of order: the TUI takes them
    from tui/typed_keys.py and tui/typed_area.py."""
    offenders = []
    for path in sorted((ROOT / "cminbox" / "tui").glob("*.py")):
        if path.name in ("typed_keys.py", "typed_area.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "textual.widgets":
                offenders += [f"{path.name}: {a.name}" for a in node.names if a.name in {"Input", "TextArea"}]
    assert not offenders, f"import Input from cminbox.tui.typed_keys, TextArea from typed_area: {offenders}"
