"""Out-of-range and empty input gets a clear error, never a crash or "internal error".

Regressions (review of 2026-12-01):
- ``age:>99999999999d`` typed in the filter bar, or ``9999999999999h`` in the snooze box,
  overflowed a date and ended the TUI; as a view or rule in the config it was an internal error.
- ``list --limit 0``, ``--query`` of 1000 "(", ``show ""``, ``snooze ID 3000000d``,
  ``events --since 99999999999d`` and ``archive --older-than 99999999999`` were internal errors;
  ``status , done`` said "nothing changed" about no item at all.
- "release2" typed fast into the tag picker picked the second tag: the digit's binding was
  checked before the box had taken the letters ahead of it.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from textual import events

from cminbox.core import config as config_mod
from cminbox.core.clock import FrozenClock
from cminbox.core.config import ConfigError
from cminbox.core.query import QueryError, parse
from cminbox.core.store import Store
from cminbox.core.when import WhenError, parse_duration, parse_when
from cminbox.tui.dialogs import TagPicker
from tests.cli_in_process import cli
from tests.factories import make_message
from tests.tui_fixtures import make_app, make_services, settle


@pytest.mark.parametrize(
    "text", ["age:>99999999999d", "age:<3000000d", "age:>5300w", "(" * 1000 + "a", "not " * 500 + "a"]
)
def test_a_query_out_of_range_or_too_deep_is_a_query_error(text: str) -> None:
    with pytest.raises(QueryError, match=r"too long|too deeply"):
        parse(text)


def test_a_hundred_years_of_age_and_some_nesting_still_parse() -> None:
    assert parse("age:>36525d").canonical == "age:>36525d"
    assert parse("(" * 20 + "a" + ")" * 20).canonical == "a"


@pytest.mark.parametrize("text", ["9999999999999h", "3000000d", "99999999999w"])
def test_a_duration_out_of_range_is_a_when_error(text: str, clock: FrozenClock) -> None:
    with pytest.raises(WhenError, match="too long"):
        parse_when(text, clock())
    with pytest.raises(WhenError, match="too long"):
        parse_duration(text)


def test_a_view_with_an_age_out_of_range_is_a_config_error_with_its_line(tmp_path: Path) -> None:
    text = '[user]\nname = "ana"\n\n[[views]]\nkey = "6"\nname = "x"\nquery = "age:>99999999999d"\n'
    with pytest.raises(ConfigError) as caught:
        config_mod.parse(text, tmp_path / "config.toml")
    said = str(caught.value)
    assert "config.toml" in said and "line 7" in said and "too long" in said


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["list", "--limit", "0"], "out of range"),
        (["list", "--limit", "-1"], "out of range"),
        (["list", "--query", "(" * 1000 + "a"], "too deeply"),
        (["show", ""], "no item id"),
        (["status", ",", "done"], "no item id"),
        (["snooze", "masto:1", "3000000d"], "too long"),
        (["events", "--since", "99999999999d"], "too long"),
        (["archive", "--older-than", "99999999999"], "out of range"),
        # Accepted, and the row's age column pushed off (new-user trial of 2026-12-01).
        (["assign", "masto:1", "y" * 80], "at most 40 characters (this one has 80). Use"),
    ],
    ids=[
        "limit-0",
        "limit-neg",
        "deep-query",
        "show-empty",
        "status-comma",
        "snooze",
        "events-since",
        "archive",
        "assignee-too-long",
    ],
)
def test_the_command_line_says_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], said: str
) -> None:
    Store(tmp_path / "data").upsert_messages([make_message(1)])
    code, out = cli(tmp_path, capsys, *args)
    assert code != 0
    assert said in out and "internal error" not in out and "Traceback" not in out


async def test_filter_and_snooze_out_of_range_are_said_under_the_box(tmp_path: Path, clock: FrozenClock) -> None:
    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"age:>99999999999d", "enter")
        await settle(pilot)
        assert app.is_running
        assert "too long" in str(app.screen.query_one("#filter-error").render())
        await pilot.press("escape", "escape", "s", *"9999999999999h", "enter")
        await settle(pilot)
        assert app.is_running
        assert "too long" in str(app.screen.query_one("#snooze-error").render())


async def test_a_long_snooze_error_is_shown_whole(tmp_path: Path, clock: FrozenClock) -> None:
    """Regression (new-user trial of 2026-12-01): the error was cut at the dialog's edge,
    "cannot read 'next tuesday-ish' as a time; try 1h, tomorrow 9:00, n"."""
    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=(80, 30)) as pilot:
        await settle(pilot)
        await pilot.press("s", *"next tuesday-ish", "enter")
        await settle(pilot)
        error = app.screen.query_one("#snooze-error")
        dialog = app.screen.query_one(".dialog")
        example = f"{clock() + timedelta(days=7):%Y-%m-%d} 10:00"  # a week ahead: never in the past
        assert f"next week or {example}" in str(error.render())
        assert error.region.right <= dialog.content_region.right and error.region.height >= 2, (error.region, dialog)


async def test_a_tag_typed_fast_with_a_digit_is_the_tag_typed(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    services.config.ui.auto_advance = False
    services.inbox.tag(["masto:101"], ["outage", "billing"])
    app = make_app(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        row = app.screen.inbox_list.current  # type: ignore[attr-defined]
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TagPicker)
        for ch in "release2":  # all queued at once, as a paste or keys batched over SSH arrive
            app.post_message(events.Key(ch, ch))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "release2" in services.store.triage(row.message.id).tags
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("1")  # an empty box: the digit still picks the first tag listed
        await settle(pilot)
        assert not isinstance(app.screen, TagPicker)


def test_importing_a_folder_blames_the_import_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = cli(tmp_path, capsys, "import", str(tmp_path))
    assert code != 0 and "is not a file" in out and "--data-dir" not in out


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b'[user]\nname = "Ren\xe9e"\n', "line 2: byte 0xe9 at column 12 is not UTF-8"),
        (b"\xff\xfe[\x00u\x00", "line 1: the file is saved as UTF-16"),
        (b'[[ui]]\ntheme = "x"\n', "line 1, key `ui`: Expected a table, got an array"),
    ],
    ids=["latin-1", "utf-16", "array-of-ui"],
)
def test_a_config_in_another_encoding_or_shape_is_said_with_its_line(tmp_path: Path, content: bytes, said: str) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        config_mod.load(path)
    assert said in str(caught.value)


def test_an_unknown_escalation_target_is_the_argument_s_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It was reported as "config error in ….toml" (exit 2) about a valid config (new-user
    trial of 2026-12-01)."""
    Store(tmp_path / "data").upsert_messages([make_message(1)])
    code, out = cli(tmp_path, capsys, "escalate", "masto:1", "--to", "nowhere")
    assert code == 1
    assert "no escalation target named 'nowhere' (configured: none configured)" in out
    assert "config error" not in out
    assert Store(tmp_path / "data").triage("masto:1").status == "new"  # nothing was escalated


def test_a_channel_that_names_nothing_says_which_channels_there_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regression (new-user trial of 2026-12-02): `list --channel nosuch` said only "(no
    messages match)", as if the channel were real and quiet."""
    Store(tmp_path / "data").upsert_messages([make_message(1)])
    code, out = cli(tmp_path, capsys, "list", "--channel", "nosuch")
    assert code == 0
    assert "(no messages match)" in out and "no channel is named or typed 'nosuch'" in out


def test_a_tag_with_commas_is_one_tag_that_reads_as_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Store(tmp_path / "data").upsert_messages([make_message(1)])
    code, out = cli(tmp_path, capsys, "tag", "masto:1", "tag,with,commas")
    assert code == 0 and "tag-with-commas" in out
    assert Store(tmp_path / "data").triage("masto:1").tags == ("tag-with-commas",)


def test_a_missing_config_named_by_the_environment_says_to_unset_it(tmp_path: Path) -> None:
    """Regression (new-user trial of 2026-12-02): with $CMINBOX_CONFIG naming a missing file,
    the error said "or drop --config", a flag the user had not given."""
    from tests.conftest import cli_env, run_cli

    result = run_cli("list", env=cli_env(CMINBOX_CONFIG=str(tmp_path / "nope.toml")))
    assert result.returncode == 2
    assert "nope.toml" in result.stderr and "unset CMINBOX_CONFIG" in result.stderr
    assert "--config" not in result.stderr


@pytest.mark.parametrize(
    ("text", "line", "key", "hint"),
    [
        ("[ui]\ntheme = nord\n", 2, "ui.theme", 'A text value needs quotes: theme = "nord".'),
        ('[ui]\ntheme = "nord"\ntheme = "x"\n', 3, "ui.theme", "The key is set twice in this table: keep one."),
        ('[[channels]]\nname = "a"\n[[channels]]\nname = b c\n', 4, "channels[1].name", 'name = "b c"'),
        ("[ui\n", 1, None, "Check quotes, brackets"),
    ],
)
def test_a_toml_syntax_error_names_the_key_on_its_line(
    tmp_path: Path, text: str, line: int, key: str | None, hint: str
) -> None:
    """Regression (new-user trial of 2026-12-02): a syntax error named the file and the line
    but not the key, where every other config error names all three."""
    with pytest.raises(ConfigError) as caught:
        config_mod.parse(text, tmp_path / "config.toml")
    error = caught.value
    assert (error.line, error.key) == (line, key)
    assert hint in error.hint


async def test_the_snooze_error_line_shows_only_with_an_error(tmp_path: Path, clock: FrozenClock) -> None:
    """Regression (new-user trial of 2026-12-02): the empty error line drew Textual's error
    background, a blank coloured bar under the time box, before anything was typed."""
    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=(80, 30)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        error = app.screen.query_one("#snooze-error")
        assert not error.display and error.region.height == 0
        await pilot.press(*"someday", "enter")
        await settle(pilot)
        assert error.display and "someday" in str(error.render())
