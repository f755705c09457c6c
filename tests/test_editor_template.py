"""Writing a reply in $EDITOR: what the user writes below the template's marker is kept (and
they are told), only the lines the template added are left out."""

from __future__ import annotations

import contextlib
import shlex
import sys
from pathlib import Path

import pytest

from cminbox.core.clock import FrozenClock
from cminbox.core.outbox import Outbox
from cminbox.core.reply_template import MARK, read_back, template
from cminbox.core.store import Store
from cminbox.tui.editor import edit_in_editor
from tests.conftest import cli_env, run_cli
from tests.factories import make_message
from tests.tui_fixtures import make_app, make_services

MSG = make_message(1, text="is sync down?\n\nnothing syncs since 10:00")


def test_only_the_template_lines_are_left_out() -> None:
    written = template("Thanks, we're on it.", MSG)
    assert MARK in written and "# > is sync down?" in written
    assert read_back(written, MSG).text == "Thanks, we're on it."
    below = read_back(written + "P.S. the status page has updates.\n", MSG)
    assert (below.text, below.kept_below) == ("Thanks, we're on it.\n\nP.S. the status page has updates.", 1)
    only_below = read_back(written.replace("Thanks, we're on it.", "") + "written under it\n", MSG)
    assert (only_below.text, only_below.kept_below) == ("written under it", 1)
    # Editors that trim trailing blanks ("# > " of an empty quoted line) change nothing.
    trimmed = "\n".join(line.rstrip() for line in written.splitlines())
    assert read_back(trimmed, MSG).text == "Thanks, we're on it."
    # A deleted marker line still leaves the quote out.
    assert read_back(written.replace(MARK + "\n", ""), MSG).text == "Thanks, we're on it."


def appending_editor(tmp_path: Path, line: str) -> str:
    """An $EDITOR that appends a line at the end of the file (below the marker)."""
    script = tmp_path / "editor.py"
    script.write_text(f"import sys\nwith open(sys.argv[1], 'a') as f:\n    f.write({line!r} + '\\n')\n")
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"


async def test_tui_editor_keeps_text_below_the_marker_and_says_so(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDITOR", appending_editor(tmp_path, "P.S. below the line"))
    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=(120, 40)) as pilot:
        monkeypatch.setattr(app, "suspend", contextlib.nullcontext)  # no terminal to hand over in tests
        text = edit_in_editor(app, "Hello", MSG)
        assert text == "Hello\n\nP.S. below the line"
        await pilot.pause()
        assert any("Kept 1 line you wrote below the marker" in n.message for n in app._notifications)


def test_cli_editor_keeps_text_below_the_marker(tmp_path: Path, clock: FrozenClock) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[user]\nname = "ana"\n[[channels]]\nname = "masto"\ntype = "mastodon"\n'
        'url = "https://masto.example"\ntoken_command = "printf x"\n'
    )
    Store(tmp_path / "data", clock=clock).upsert_messages([MSG])
    env = cli_env(
        CMINBOX_CONFIG=str(cfg), CMINBOX_DATA_DIR=str(tmp_path / "data"), EDITOR=appending_editor(tmp_path, "Hi!")
    )
    result = run_cli("reply", "masto:1", "--queue-only", "--editor", env=env)
    assert result.returncode == 0, result.stderr
    assert "kept 1 line(s) written below the marker" in result.stderr
    store = Store(tmp_path / "data", clock=clock)
    [item] = Outbox(store.dir, store.lock, clock=clock).items()
    assert item.payload["text"] == "Hi!"


def test_cli_editor_reply_refused_for_length_is_kept_as_the_draft(tmp_path: Path, clock: FrozenClock) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[user]\nname = "ana"\n[[channels]]\nname = "masto"\ntype = "mastodon"\n'
        'url = "https://masto.example"\ntoken_command = "printf x"\n'
    )
    Store(tmp_path / "data", clock=clock).upsert_messages([MSG])
    long = "y" * 600
    env = cli_env(
        CMINBOX_CONFIG=str(cfg), CMINBOX_DATA_DIR=str(tmp_path / "data"), EDITOR=appending_editor(tmp_path, long)
    )
    result = run_cli("reply", "masto:1", "--queue-only", "--editor", env=env)
    assert result.returncode == 1 and "kept as the item's draft" in result.stderr, result.stderr
    store = Store(tmp_path / "data", clock=clock)
    assert store.get_draft("masto:1") == long
    assert Outbox(store.dir, store.lock, clock=clock).items() == []
