"""The guideline follow-up is delivered exactly once, on every backend: when the dispatcher runs
twice, after a crash between sending and recording it, and with two dispatchers (instances);
and only after the moderation it follows succeeded."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest

from cminbox.core import dispatch, guideline_ops
from cminbox.core.dispatch import Dispatcher
from cminbox.core.inbox import Inbox
from cminbox.core.outbox_types import OutboxKind, OutboxStatus
from cminbox.core.people_ops import PeopleOps
from cminbox.core.store_api import StoreApi
from cminbox.tui.author_card import card_text
from tests.backend.conftest import Backend
from tests.factories import make_message
from tests.guideline_fakes import Rejected, Server, Unavailable, channels, guideline_config
from tests.guideline_fakes import fake_channels as fake_channels  # the fixture

SHORT = timedelta(seconds=0.5)


def _inbox(backend: Backend) -> tuple[Inbox, StoreApi]:
    store = backend.open()
    store.upsert_messages([make_message(1, channel="dm"), make_message(2, channel="rep")])
    return Inbox(guideline_config(), store, store.outbox, backend.clock), store


def _dispatcher(store: StoreApi, backend: Backend) -> Dispatcher:
    return Dispatcher(store, store.outbox, channels(), {}, backend.clock)


def _history(store: StoreApi, mid: str) -> list[str]:
    return [h.action for h in store.triage(mid).history]


async def test_sent_once_after_the_moderation_even_when_run_again(backend: Backend, fake_channels: Server) -> None:
    inbox, store = _inbox(backend)
    queued = guideline_ops.moderate(inbox, ["dm:1"], "remove", "", "be-kind")
    [action], [follow_up] = queued.actions, queued.follow_ups
    assert follow_up.kind == OutboxKind.FOLLOW_UP and follow_up.payload["after"] == action.id
    assert follow_up.payload["via"] == "dm" and follow_up.payload["identity"] == "dm:user1@example.social"
    done = await _dispatcher(store, backend).deliver_due()
    assert [d.ok for d in done] == [True, True]
    assert await _dispatcher(store, backend).deliver_due() == []
    assert await _dispatcher(backend.open(), backend).deliver_due() == []  # another instance
    assert fake_channels.calls == ["moderate:remove", f"dm:{follow_up.idempotency_key}"]
    [(how, mid, text)] = fake_channels.sent()
    assert (how, mid) == ("dm", "dm:1")
    assert text == (
        'Hi User 1, your post was removed under our community guideline "be-kind": '
        "Be kind to each other. https://x.example/rules#kind"
    )
    history = _history(store, "dm:1")
    assert "guideline be-kind: remove; follow-up queued by direct message (sent once it succeeds)" in history
    assert history[-1] == "guideline be-kind: follow-up sent by direct message"
    assert store.triage("dm:1").history[-1].action == history[-1]
    assert action.payload["guideline"] == "be-kind" and action.payload["reason"] == "guideline: be-kind"


async def test_a_crash_between_sending_and_recording_sends_it_once(
    backend: Backend, fake_channels: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, store = _inbox(backend)
    [follow_up] = guideline_ops.follow_up(inbox, ["dm:1"], "be-kind").follow_ups
    store.outbox.lease = SHORT

    class Killed(BaseException):
        """What SIGKILL at the failpoint does to this process: nothing after it runs."""

    def crash(name: str) -> None:
        if name == "outbox.after_send":
            raise Killed

    monkeypatch.setattr(dispatch, "failpoint", crash)
    with pytest.raises(Killed):
        await _dispatcher(store, backend).deliver_due()
    monkeypatch.undo()
    assert store.outbox.get(follow_up.id).status == OutboxStatus.SENDING  # sent, not recorded
    backend.clock.advance(seconds=SHORT.total_seconds() + 1)
    time.sleep(SHORT.total_seconds() + 0.1)
    other = backend.open()
    [again] = await _dispatcher(other, backend).deliver_due()
    assert again.ok
    assert fake_channels.calls == [f"dm:{follow_up.idempotency_key}"] * 2  # the retry carries the same key
    assert len(fake_channels.sent()) == 1  # which the server answers with the first post
    assert other.outbox.get(follow_up.id).status == OutboxStatus.SENT
    assert _history(other, "dm:1").count("guideline be-kind: follow-up sent by direct message") == 1


async def test_two_dispatchers_at_once_send_it_once(backend: Backend, fake_channels: Server) -> None:
    inbox, _ = _inbox(backend)
    guideline_ops.follow_up(inbox, ["dm:1", "rep:2"], "no-spam")
    a, b = backend.open(), backend.open()
    a.outbox.worker_id, b.outbox.worker_id = "h1.example:1:aa", "h2.example:2:bb"
    done = await asyncio.gather(_dispatcher(a, backend).deliver_due(), _dispatcher(b, backend).deliver_due())
    assert sorted(d.item.message_id for batch in done for d in batch if d.ok) == ["dm:1", "rep:2"]
    assert sorted(fake_channels.sent()) == [
        ("dm", "dm:1", "User 1: removed (moderated) per no-spam."),
        ("reply", "rep:2", "User 2: removed (moderated) per no-spam."),
    ]
    assert len(fake_channels.calls) == 2


async def test_not_sent_when_the_moderation_failed(backend: Backend, fake_channels: Server) -> None:
    inbox, store = _inbox(backend)
    fake_channels.moderation_results.append(Rejected("403: not a moderator"))
    queued = guideline_ops.moderate(inbox, ["dm:1"], "remove", "", "be-kind")
    await _dispatcher(store, backend).deliver_due()
    assert store.outbox.get(queued.actions[0].id).status == OutboxStatus.FAILED
    failed = store.outbox.get(queued.follow_ups[0].id)
    assert failed.status == OutboxStatus.FAILED and "the remove it follows failed" in failed.last_error
    assert fake_channels.sent() == []


async def test_it_waits_while_the_moderation_is_retried(backend: Backend, fake_channels: Server) -> None:
    inbox, store = _inbox(backend)
    fake_channels.moderation_results.append(Unavailable("503"))
    queued = guideline_ops.moderate(inbox, ["dm:1"], "remove", "", "be-kind")
    first = await _dispatcher(store, backend).deliver_due()
    assert [d.ok for d in first] == [False, False] and "waiting for the remove" in first[1].detail
    assert fake_channels.sent() == []
    for _ in range(3):  # the action's backoff, then the follow-up's own wait after it
        backend.clock.advance(seconds=8)
        await _dispatcher(store, backend).deliver_due()
    assert store.outbox.get(queued.actions[0].id).status == OutboxStatus.SENT
    assert store.outbox.get(queued.follow_ups[0].id).status == OutboxStatus.SENT
    assert len(fake_channels.sent()) == 1


async def test_the_person_counts_the_notices_sent_to_them(backend: Backend, fake_channels: Server) -> None:
    inbox, store = _inbox(backend)
    guideline_ops.moderate(inbox, ["dm:1"], "remove", "", "be-kind")
    guideline_ops.follow_up(inbox, ["dm:1"], "no-spam")
    await _dispatcher(store, backend).deliver_due()
    card = PeopleOps.of(inbox.config, backend.open(), backend.clock).card("dm:user1@example.social")
    assert card.guideline_notices.sent == {"be-kind": 1, "no-spam": 1}
    assert card.guideline_notices.moderated == {"be-kind": 1}
    text = card_text(card, backend.clock.now).plain
    assert "guideline notices: be-kind 1 · no-spam 1" in text
