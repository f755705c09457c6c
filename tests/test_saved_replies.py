"""Saved replies with variables: expanded from a fixed table (never str.format), values from
the server made inert, unknown names refused with the column; `reply --saved` runs the same
pre-send checks on the expanded text as typed text gets."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cminbox.core.models import Author, Kind, Message
from cminbox.core.outbox import Outbox
from cminbox.core.saved_replies import VARIABLES, Context, TemplateError, check, expand, names
from cminbox.core.store import Store
from tests.test_cli_truthful import cli, polled


def message(display: str = "Priya Raman") -> Message:
    return Message(
        id="masto:7",
        channel="masto",
        channel_type="mastodon",
        native_id="7",
        kind=Kind.MENTION,
        author=Author(id="1", handle="@priya@example.social", display_name=display),
        text="how do I export?",
        created_at=datetime(2026, 11, 30, tzinfo=UTC),
        url="https://example.social/@priya/7",
    )


def test_every_variable_expands() -> None:
    text = (
        "Hi {author.first_name} ({author.name}, {author.handle}) on {channel}/{channel.type}: "
        "see {item.url} [{item.id}], {me}. {{literal}}"
    )
    got = expand(text, Context(message(), "ana"))
    assert got == (
        "Hi Priya (Priya Raman, @priya@example.social) on masto/mastodon: "
        "see https://example.social/@priya/7 [masto:7], ana. {literal}"
    )


def test_server_values_are_made_inert() -> None:
    got = expand("Hi {author.name}!", Context(message("Evil\x1b[31m\nName\x07 [bold]x[/bold]"), "ana"))
    assert "\x1b" not in got and "\n" not in got and "\x07" not in got
    assert got.startswith("Hi Evil") and got.endswith("[bold]x[/bold]!")  # markup stays text


def test_unknown_variable_is_refused_with_column_and_suggestion() -> None:
    with pytest.raises(TemplateError) as err:
        check("Thanks {author.nmae}!")
    assert err.value.column == 8 and 'Did you mean "{author.name}"' in str(err.value)
    with pytest.raises(TemplateError):
        expand("{item.__class__}", Context(message(), "ana"))  # no reaching into objects
    assert names("a {me} b {{x}} {channel}") == [(3, "me"), (16, "channel")]


@given(st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=80), st.sampled_from(sorted(VARIABLES)))
def test_known_variables_always_expand_and_text_around_them_is_kept(around: str, name: str) -> None:
    got = expand(around + "{" + name + "}" + around, Context(message(), "ana"))
    assert got.startswith(around) and got.endswith(around)


def test_cli_reply_saved_expands_and_refuses_past_the_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    polled(tmp_path, capsys)
    cfg = tmp_path / "config.toml"
    # Past Mastodon's 500 once expanded (a handle would not do: its domain is not counted).
    long = "{author.name}: " + "x" * 495
    cfg.write_text(
        cfg.read_text()
        + '\n[[saved_replies]]\nname = "thanks"\ntext = "Thanks {author.name}, fixed in 1.2!"\n'
        + f'\n[[saved_replies]]\nname = "long"\ntext = "{long}"\n'
    )
    store = Store(tmp_path / "data")
    outbox = Outbox(store.dir, store.lock)
    code, out = cli(tmp_path, capsys, "reply", "1001", "--saved", "long", "--queue-only")
    assert code != 0 and "nothing was queued" in out and "500" in out
    assert outbox.items() == []
    code, out = cli(tmp_path, capsys, "reply", "1001", "--saved", "missing-reply", "--queue-only")
    assert code != 0 and "no saved reply named 'missing-reply'" in out and "thanks, long" in out
    code, out = cli(tmp_path, capsys, "reply", "1001", "--saved", "thanks", "--queue-only")
    assert code == 0, out
    [item] = outbox.items()
    message_doc = Store(tmp_path / "data").get_message("masto:1001")
    assert message_doc is not None
    who = message_doc.author.display_name or message_doc.author.handle
    assert item.payload["text"] == f"Thanks {who}, fixed in 1.2!"


def test_config_check_refuses_an_unknown_variable_with_line_key_and_column(tmp_path: Path) -> None:
    from cminbox.core import config as config_mod
    from cminbox.core.config import ConfigError

    text = '[[saved_replies]]\nname = "hi"\ntext = "Hi {author.nmae}!"\n'
    with pytest.raises(ConfigError) as err:
        config_mod.parse(text, tmp_path / "c.toml")
    said = str(err.value)
    assert "line 3" in said and "saved_replies[0].text" in said
    # As the README shows it (it read '"{author.nmae}". did you mean': new-user trial of 2026-12-01).
    assert 'col 4: unknown variable "{author.nmae}". Did you mean "{author.name}"?' in said
    with pytest.raises(ConfigError) as err:
        config_mod.parse(text.replace("nmae", "name") * 2, tmp_path / "c.toml")
    assert "two saved replies are named 'hi'" in str(err.value)
