"""A reply is measured as the channel will send it (Mastodon's @mention included), by the
composer's counter, before queueing (CLI and TUI) and by the channel itself; a refused reply
keeps its draft."""

from __future__ import annotations

from pathlib import Path

import pytest

from cminbox.core import registry
from cminbox.core.clock import FrozenClock
from cminbox.core.outbox import Outbox
from cminbox.core.store import Store
from cminbox.tui.composer import Composer
from cminbox.tui.dialogs import ConfirmDialog
from tests.conftest import cli_env, run_cli
from tests.factories import make_message
from tests.tui_fixtures import make_app, make_services

SIZE = (120, 40)
PRIYA = "masto:100"  # the reply starts with "@priya@example.social ", which Mastodon counts as "@priya " (7)


def test_every_channel_type_declares_its_outgoing_reply() -> None:
    message = make_message(1, text="hello")
    for type_name in registry.channel_types():
        cls = registry.load_channel(type_name)
        out = cls.outgoing_reply(message, "thanks 👍🏽", None)
        assert "thanks 👍🏽" in out.text and out.length >= 1, type_name
        assert out.limit == cls.capabilities.reply_limit or out.limit is None, type_name


def test_mastodon_counts_the_mention_and_links_as_the_server_does() -> None:
    cls = registry.load_channel("mastodon")
    msg = make_message(1)  # from @user1@example.social
    out = cls.outgoing_reply(msg, "x" * 495, None)
    assert out.text == "@user1@example.social " + "x" * 495
    # The remote mention it adds counts as "@user1", as Mastodon counts it.
    assert (out.length, out.left, out.too_long) == (502, -2, True)
    # Any link counts as 23 characters on Mastodon, short or long; the full stop is not the link's.
    assert cls.outgoing_reply(msg, "see http://x.co.", None).length == len("@user1 see .") + 23
    # The mention already typed is not added twice, and counts as the server counts it.
    assert cls.outgoing_reply(msg, "@user1@example.social hi", None).length == len("@user1 hi")


def test_a_reply_mastodon_takes_is_not_refused() -> None:
    """A long link and a typed remote mention were counted in full: 520 "as sent" for a reply
    Mastodon counts as 477 (new-user trial of 2026-12-01)."""
    cls = registry.load_channel("mastodon")
    msg = make_message(1)
    typed = "Thanks @dave@d.social we are on it https://example.com/a/very/long/link/that/is/long/indeed " + "y" * 420
    out = cls.outgoing_reply(msg, typed, None)
    assert out.text == "@user1@example.social " + typed
    counted = len("@user1 Thanks @dave we are on it ") + 23 + len(" " + "y" * 420)
    assert (out.length, out.too_long) == (counted, False)
    assert counted == 477


@pytest.mark.parametrize(
    ("text", "counted"),
    [
        ("👍🏽 done", 6),  # one grapheme for the emoji with its skin tone, as the server counts
        ("mail a@b.com please", len("mail a@b.com please")),  # an address, not a mention
        ("https://mastodon.social/@ana/1 thanks", 23 + len(" thanks")),  # the @ in a link's path
        ("(see https://docs.example.org/x?y=1#z)", len("(see ") + 23 + len(")")),
        ("http://localhost/" + "x" * 40, len("http://localhost/") + 40),  # no domain: not a link to it
    ],
)
def test_mastodon_counts_links_mentions_and_graphemes_as_its_validator(text: str, counted: int) -> None:
    from cminbox.channels.mastodon import status_length

    assert status_length(text) == counted


def cli_setup(tmp_path: Path, clock: FrozenClock) -> dict[str, str]:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[user]\nname = "ana"\n[[channels]]\nname = "masto"\ntype = "mastodon"\n'
        'url = "https://masto.example"\ntoken_command = "printf x"\n'
    )
    Store(tmp_path / "data", clock=clock).upsert_messages([make_message(1)])
    return cli_env(CMINBOX_CONFIG=str(cfg), CMINBOX_DATA_DIR=str(tmp_path / "data"))


def test_cli_refuses_495_characters_plus_the_mention(tmp_path: Path, clock: FrozenClock) -> None:
    env = cli_setup(tmp_path, clock)
    result = run_cli("reply", "masto:1", "--queue-only", "--text", "x" * 495, env=env)
    assert result.returncode == 1, result.stdout
    assert "502 characters as sent (with the @user1@example.social mention)" in result.stderr
    assert "allows 500 characters" in result.stderr and "nothing was queued" in result.stderr
    store = Store(tmp_path / "data", clock=clock)
    assert Outbox(store.dir, store.lock, clock=clock).items() == []
    fits = run_cli("reply", "masto:1", "--queue-only", "--text", "x" * 493, env=env)
    assert fits.returncode == 0 and "queued" in fits.stdout, fits.stderr


def status_text(app: object) -> str:
    return str(app.screen.query_one("#composer-status").render())  # type: ignore[attr-defined]


async def test_counter_counts_the_mention_and_a_refused_send_keeps_the_draft(
    tmp_path: Path, clock: FrozenClock
) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        lst = app.screen.inbox_list  # type: ignore[attr-defined]
        lst.cursor = lst.index[PRIYA]
        await pilot.press("r")
        composer = app.screen.query_one(Composer)
        composer.set_text("x" * 495)
        await pilot.pause()
        assert status_text(app).startswith("-2 left")  # "@priya " + 495
        await pilot.press("ctrl+s")
        assert not isinstance(app.screen, ConfirmDialog)  # refused before asking to post it
        assert composer.display and composer.text == "x" * 495
        assert services.store.get_draft(PRIYA) == "x" * 495
        assert services.inbox.outbox.items() == []
        assert any("502 characters" in n.message for n in app._notifications)
        await pilot.press("backspace", "backspace")
        assert status_text(app).startswith("0 left")
        await pilot.press("ctrl+s", "y")
        [item] = services.inbox.outbox.items()
        assert item.payload["text"] == "x" * 493
        assert services.store.get_draft(PRIYA) == ""


@pytest.mark.parametrize("n", [299, 300])
def test_bluesky_counts_graphemes(n: int) -> None:
    out = registry.load_channel("bluesky").outgoing_reply(make_message(1), "👍🏽" * n, None)
    assert (out.text, out.length, out.unit) == ("👍🏽" * n, n, "graphemes")
    assert not out.too_long
