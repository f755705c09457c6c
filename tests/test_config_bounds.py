"""`cminbox config check` refuses what would fail or misbehave later: unknown [keys] action ids,
a key bound to two actions, channel options outside their bounds, and accepts a byte order
mark. Each error names the file, the line and the key, and the allowed range or values."""

from __future__ import annotations

from pathlib import Path

import pytest

from cminbox import cli
from cminbox.core import config, keymap

MASTODON = '[[channels]]\nname = "m"\ntype = "mastodon"\nurl = "https://m.example"\n'


def check(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, *, bom: bool = False) -> tuple[int, str]:
    path = tmp_path / "config.toml"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    code = cli.main(["--config", str(path), "config", "check"])
    out = capsys.readouterr()
    return code, out.out + out.err


def refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, line: int, key: str) -> str:
    code, out = check(tmp_path, capsys, text)
    assert code == cli.EXIT_CONFIG, out
    assert f"config error in {tmp_path / 'config.toml'}, line {line}, key `{key}`" in out, out
    return out


# ------------------------------------------------------------------ [keys]
def test_unknown_action_id_is_refused_with_the_closest_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = refused(tmp_path, capsys, '[keys]\ndone = "D"\ndnoe = "X"\n', 3, "keys.dnoe")
    assert "unknown action id `dnoe`" in out and "Did you mean `done`?" in out
    out = refused(tmp_path, capsys, '[keys]\nfrobnicate = "z"\n', 2, "keys.frobnicate")
    assert "unknown action id `frobnicate`" in out


def test_a_remap_onto_another_actions_default_key_is_a_conflict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = refused(tmp_path, capsys, '[user]\nname = "ana"\n\n[keys]\ndone = "j"\n', 5, "keys.done")
    assert "key `j` is bound to `done` and `cursor_down`" in out
    assert "`cursor_down` has it by default (j,down)" in out


def test_two_remaps_onto_one_key_and_punctuation_spellings_conflict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = refused(tmp_path, capsys, '[keys]\nreopen = "O"\ntag = "ctrl+o"\nescalate = "ctrl+o"\n', 3, "keys.tag")
    assert "key `ctrl+o` is bound to `tag` and `escalate`" in out
    out = refused(tmp_path, capsys, '[keys]\nhelp = "/"\n', 2, "keys.help")  # "/" is filter's "slash"
    assert "`filter` has it by default" in out
    out = refused(tmp_path, capsys, '[keys]\ndone = " , "\n', 2, "keys.done")
    assert "no key is given" in out
    out = refused(tmp_path, capsys, '[keys]\ndone = "d,ctrl+q"\n', 2, "keys.done")  # Textual's quit, first
    assert "key `ctrl+q` is reserved" in out


def test_moving_the_displaced_action_too_is_fine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check(tmp_path, capsys, '[keys]\ndone = "j, D"\ncursor_down = "down"\n')
    assert code == 0, out
    # The TUI receives the keys as Textual names them, without the stray space.
    assert config.load(tmp_path / "config.toml").keys == {"done": "j,D", "cursor_down": "down"}


# ------------------------------------------------------------------ bounds of numbers and choices
BOUNDS = [
    # (the channel table or section, the offending line, the key it reports, the allowed range said)
    (MASTODON, "interval = 99999999999999999999", "channels[0].interval", "an integer from 5 to 86400"),
    (MASTODON, "interval = 2", "channels[0].interval", "an integer from 5 to 86400"),
    (MASTODON, "page_size = 1000", "channels[0].page_size", "an integer from 1 to 80"),
    (MASTODON, "page_size = 0", "channels[0].page_size", "an integer from 1 to 80"),
    (MASTODON, 'reply_visibility = "everyone"', "channels[0].reply_visibility", '"public", "unlisted"'),
    (MASTODON, "backfill_pages = 100000", "channels[0].backfill_pages", "an integer from 1 to 20"),
    (
        '[[channels]]\nname = "f"\ntype = "discourse"\nurl = "https://f.example"\n',
        "backfill_pages = 100000",
        "channels[0].backfill_pages",
        "an integer from 1 to 20",
    ),
    (
        '[[channels]]\nname = "gh"\ntype = "github"\n',
        "backfill_hours = 99999999999999",
        "channels[0].backfill_hours",
        "an integer from 0 to 87600",
    ),
    ('[[channels]]\nname = "gh"\ntype = "github"\n', "page_size = 500", "channels[0].page_size", "from 1 to 50"),
    (
        '[[channels]]\nname = "b"\ntype = "bluesky"\nurl = "https://bsky.example"\n',
        "page_size = 101",
        "channels[0].page_size",
        "an integer from 1 to 100",
    ),
    (
        '[[channels]]\nname = "s"\ntype = "email"\nurl = "imaps://imap.example"\nsmtp_url = "smtps://smtp.example"\n',
        "backfill = 1000000",
        "channels[0].backfill",
        "an integer from 0 to 500",
    ),
    (
        '[[channels]]\nname = "x"\ntype = "matrix"\nurl = "https://matrix.example"\n',
        "backfill = -1",
        "channels[0].backfill",
        "an integer from 0 to 500",
    ),
    (
        '[[channels]]\nname = "feed"\ntype = "feed"\nurl = "https://feed.example/rss"\n',
        "max_entries = 1000000",
        "channels[0].max_entries",
        "an integer from 0 to 500",
    ),
    ("[store]\n", "archive_after_days = 99999999999999999999", "store.archive_after_days", "from 0 to 36500"),
    ("[store]\n", "archive_after_days = -3", "store.archive_after_days", "from 0 to 36500"),
    (
        '[[escalation.targets]]\nname = "oncall"\nurl = "https://hooks.example"\n',
        "timeout = inf",
        "escalation.targets[0].timeout",
        "a number from 1 to 300",
    ),
]


@pytest.mark.parametrize(("table", "line", "key", "allowed"), BOUNDS, ids=[b[2] + " " + b[1] for b in BOUNDS])
def test_out_of_bounds_values_name_file_line_key_and_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, line: str, key: str, allowed: str
) -> None:
    text = "# cminbox\n" + table + line + "\n"
    out = refused(tmp_path, capsys, text, text.count("\n"), key)
    assert allowed in out, out
    assert f"`{key.rsplit('.', 1)[-1]}` must be" in out, out


def test_a_wrong_type_still_says_the_range(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = refused(tmp_path, capsys, MASTODON + 'page_size = "40"\n', 5, "channels[0].page_size")
    assert "Expected an integer, got a string" in out and "an integer from 1 to 80" in out


def test_values_at_the_bounds_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = MASTODON + 'interval = 86400\npage_size = 80\nbackfill_pages = 20\nreply_visibility = "direct"\n'
    code, out = check(tmp_path, capsys, text)
    assert code == 0, out


# ------------------------------------------------------------------ byte order mark
def test_a_byte_order_mark_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check(tmp_path, capsys, MASTODON, bom=True)
    assert code == 0 and "OK (1 channel(s)" in out, out
    # Line numbers are unchanged by the mark.
    code, out = check(tmp_path, capsys, MASTODON + "intervl = 9\n", bom=True)
    assert code == cli.EXIT_CONFIG and "line 5, key `channels[0].intervl`" in out, out


def test_the_documented_remap_examples_are_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = config.EXAMPLE.replace('# done = "d,D"', 'done = "d,D"')
    assert 'done = "d,D"' in example
    code, out = check(tmp_path, capsys, example)
    assert code == 0, out


def test_a_remap_that_is_not_a_string_names_its_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = refused(tmp_path, capsys, '[keys]\nreply = "r"\ndone = ["d"]\n', 3, "keys.done")
    assert "Expected a string of keys" in out


def test_no_key_has_two_actions_by_default() -> None:
    defaults = [key for spec in keymap.ACTIONS for key in keymap.split_keys(spec.keys)]
    assert len(defaults) == len(set(defaults))


# ------------------------------------------------------------------ [ui] theme
def test_an_unknown_theme_is_refused_with_the_closest_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`config check` passed it, and only the TUI said so at start (new-user trial of 2026-12-01)."""
    out = refused(tmp_path, capsys, '[user]\nname = "ana"\n\n[ui]\nview = "1"\ntheme = "incidnet"\n', 6, "ui.theme")
    assert "no theme named 'incidnet'" in out and "Did you mean 'incident'?" in out
    assert "cminbox-dark" in out and "dracula" in out  # the shipped themes and Textual's, as the picker offers


@pytest.mark.parametrize("theme", ["incident", "high-contrast", "dracula", ""])
def test_a_shipped_or_built_in_theme_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str], theme: str) -> None:
    code, out = check(tmp_path, capsys, f'[ui]\ntheme = "{theme}"\n')
    assert code == 0, out


@pytest.mark.parametrize(
    ("text", "line", "key", "said"),
    [
        ("ui = 3\n", 1, "ui", "Expected a table, got an integer."),
        ('[ui]\nview = ["1"]\n', 2, "ui.view", "Expected a string, got an array."),
        ("channels = true\n", 1, "channels", "Expected an array, got true or false."),
    ],
)
def test_a_wrong_type_is_named_in_toml_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, line: int, key: str, said: str
) -> None:
    """It said "Expected `object`, got `int`", JSON's words (new-user trial of 2026-12-01)."""
    assert said in refused(tmp_path, capsys, text, line, key)
