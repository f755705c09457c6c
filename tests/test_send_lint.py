"""Mentions of people outside the thread, checked on the text as the channel sends it
(core/send_lint.py): a warning; for a private reply, which a mention would let its person
read, a question (TUI) or a refusal without --force (CLI)."""

from __future__ import annotations

from pathlib import Path

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from cminbox.core import registry
from cminbox.core.clock import FrozenClock
from cminbox.core.models import Author, Message
from cminbox.core.outbox import Outbox
from cminbox.core.send_lint import check_send, mentions
from cminbox.core.store import Store
from cminbox.tui.composer import Composer
from cminbox.tui.dialogs import ConfirmDialog
from tests.conftest import cli_env, run_cli
from tests.factories import make_message
from tests.tui_fixtures import make_app, make_services

MASTODON = registry.load_channel("mastodon")


def _by(n: int, handle: str, text: str, *, thread: str = "masto:1", visibility: str = "public") -> Message:
    return msgspec.structs.replace(
        make_message(n, text=text),
        author=Author(id=handle, handle=handle, display_name=handle),
        thread_id=thread,
        visibility=visibility,
    )


def test_mentions_are_handles_not_addresses_or_words() -> None:
    text = "@Ana@a.social hi @bob, mail ana@example.com or see x.com/@page; @carol:matrix.org and @dee.bsky.social."
    assert mentions(text) == ["ana@a.social", "bob", "carol:matrix.org", "dee.bsky.social"]
    assert mentions("no one here: a@b, @, @@x, email@host.org") == []


@given(st.from_regex(r"[a-z0-9_]{1,12}(@[a-z]{1,8}\.[a-z]{2,4})?", fullmatch=True), st.text(max_size=40))
def test_a_handle_put_in_any_text_is_found(handle: str, around: str) -> None:
    found = mentions(f"{around} @{handle} {around}")
    assert handle in found
    assert all(f"@{m}" in f"{around} @{handle} {around}".casefold() for m in found)


def test_people_in_the_thread_are_not_flagged_and_strangers_are() -> None:
    question = _by(1, "@ana@a.social", "sync is broken, @bob@b.social too?")
    answer = _by(2, "@carol@c.social", "same here")
    thread = [question, answer]
    staff = ["@team@lumen.social"]

    def check(text: str, message: Message = question) -> list[str]:
        out = MASTODON.outgoing_reply(message, text, None)
        return list(check_send(out, message, thread, staff).outside)

    # The author (the mention the channel adds), mentioned people, other authors, the team.
    assert check("thanks @bob@b.social and @carol@c.social, cc @team@lumen.social") == []
    assert check("@carol thanks") == []  # a local mention of someone in the thread
    assert check("cc @dave@d.social and @erin") == ["dave@d.social", "erin"]
    public = check_send(MASTODON.outgoing_reply(question, "cc @dave@d.social", None), question, thread)
    assert not public.holds and public.warnings == ["@dave@d.social is not in this thread and will be notified"]


def test_a_private_reply_that_would_add_someone_holds() -> None:
    dm = _by(1, "@ana@a.social", "my account is locked", visibility="direct")
    out = MASTODON.outgoing_reply(dm, "let me ask @dave@d.social", None)
    assert out.visibility == "direct"
    found = check_send(out, dm, [dm])
    assert found.holds and "not in this private conversation" in found.warnings[0]
    assert not check_send(MASTODON.outgoing_reply(dm, "on it", None), dm, [dm]).holds


def test_email_mentions_notify_nobody() -> None:
    mail = msgspec.structs.replace(make_message(1), channel_type="email")
    out = registry.load_channel("email").outgoing_reply(mail, "ask @dave", None)
    assert check_send(out, mail, [mail]).outside == ()


def _cli(tmp_path: Path, clock: FrozenClock, visibility: str) -> dict[str, str]:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[user]\nname = "ana"\n[[channels]]\nname = "masto"\ntype = "mastodon"\n'
        'url = "https://masto.example"\ntoken_command = "printf x"\n'
    )
    Store(tmp_path / "data", clock=clock).upsert_messages([_by(1, "@ana@a.social", "help", visibility=visibility)])
    return cli_env(CMINBOX_CONFIG=str(cfg), CMINBOX_DATA_DIR=str(tmp_path / "data"))


def test_cli_refuses_widening_a_private_conversation_without_force(tmp_path: Path, clock: FrozenClock) -> None:
    env = _cli(tmp_path, clock, "direct")
    refused = run_cli("reply", "masto:1", "--queue-only", "--text", "asking @dave@d.social", env=env)
    assert refused.returncode != 0 and "@dave@d.social is not in this private conversation" in refused.stderr
    store = Store(tmp_path / "data", clock=clock)
    assert Outbox(store.dir, store.lock, clock=clock).items() == []
    assert store.get_draft("masto:1") == "asking @dave@d.social"  # kept
    forced = run_cli("reply", "masto:1", "--queue-only", "--force", "--text", "asking @dave@d.social", env=env)
    assert forced.returncode == 0 and "queued" in forced.stdout, forced.stderr


def test_cli_warns_on_a_public_mention_outside_and_queues(tmp_path: Path, clock: FrozenClock) -> None:
    env = _cli(tmp_path, clock, "public")
    result = run_cli("reply", "masto:1", "--queue-only", "--text", "cc @dave@d.social", env=env)
    assert result.returncode == 0 and "queued" in result.stdout
    assert "warning: @dave@d.social is not in this thread and will be notified" in result.stderr


async def test_the_composer_warns_and_the_question_says_who(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    async with app.run_test(size=(120, 40)) as pilot:
        lst = app.screen.inbox_list  # type: ignore[attr-defined]
        lst.cursor = lst.index["masto:100"]
        await pilot.pause()
        await pilot.press("r")
        composer = app.screen.query_one(Composer)
        for _ in range(50):  # the preview's read of the thread lands on its worker
            if app.screen.known_thread(composer.target) is not None:  # type: ignore[attr-defined]
                break
            await pilot.pause(0.02)
        composer.set_text("thanks, cc @stranger@far.social")
        await pilot.pause()
        status = str(app.screen.query_one("#composer-status").render())
        assert "⚠ @stranger@far.social is not in this thread" in status
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        assert "Post this reply publicly" in app.screen.question and "@stranger@far.social" in app.screen.question
        await pilot.press("n")
