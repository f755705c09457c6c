"""Guideline follow-ups, without a backend: the config's checks, how each channel tells the
author (DM, reply, none and why), the length check before queueing, refusing to tell twice,
Mastodon's direct status, and the counts on a person's profile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import respx

from cminbox.core import config, guideline_ops, registry
from cminbox.core.channel import ChannelTraits, direct_message_of, outgoing_direct_of
from cminbox.core.clock import FrozenClock
from cminbox.core.guidelines import GuidelineError, Via, notices, notices_text, plan, route_for
from cminbox.core.inbox import Inbox, InboxError
from cminbox.core.outbox_types import OutboxKind, OutboxStatus
from cminbox.core.store import Store
from cminbox.demo.session import demo_config_text
from tests.factories import make_message
from tests.guideline_fakes import Server, guideline_config
from tests.guideline_fakes import fake_channels as fake_channels  # the fixture
from tests.mastodon_fixtures import status

BASE = '[[channels]]\nname = "masto"\ntype = "mastodon"\nurl = "https://masto.example"\n'


def _error(text: str) -> config.ConfigError:
    with pytest.raises(config.ConfigError) as info:
        config.parse(BASE + text, Path("cm.toml"))
    return info.value


def test_config_errors_name_the_file_line_and_key() -> None:
    unknown = _error('[[guidelines]]\nname = "kind"\ntext = "Be kind."\nfollow_up = "Hi {author.nam}"\n')
    assert (unknown.line, unknown.key) == (8, "guidelines[0].follow_up")
    assert 'unknown variable "{author.nam}"' in str(unknown) and '"{author.name}"' in str(unknown)
    twice = _error('[[guidelines]]\nname = "a"\ntext = "x"\n[[guidelines]]\nname = "a"\ntext = "y"\n')
    assert twice.key == "guidelines[1].name" and "two guidelines" in str(twice)
    url = _error('[[guidelines]]\nname = "a"\ntext = "x"\nurl = "example.org/rules"\n')
    assert url.key == "guidelines[0].url"
    bad = _error('[[guidelines]]\nname = "Be Kind"\ntext = "x"\n')
    assert bad.key == "guidelines[0].name"
    empty = _error('[[guidelines]]\nname = "a"\ntext = " "\n')
    assert empty.key == "guidelines[0].text"
    ok = config.parse(BASE + '[[guidelines]]\nname = "a"\ntext = "x"\nfollow_up = "{action}: {guideline.url}"\n')
    assert ok.guidelines[0].follow_up == "{action}: {guideline.url}"


def test_the_demo_has_guidelines() -> None:
    cfg = config.parse(demo_config_text("http://127.0.0.1:1"))
    assert [g.name for g in cfg.guidelines] == ["be-kind", "no-spam", "on-topic"]


def test_each_channel_type_declares_how_an_author_is_told() -> None:
    routes = {name: route_for(registry.load_channel(name)) for name in registry.channel_types()}
    assert routes["mastodon"].via == Via.DM and routes["mastodon"].how == "a direct message on mastodon"
    assert routes["github"].via == Via.REPLY
    assert routes["github"].how == "a public reply on github (github has no private messages)"
    assert routes["feed"].via == Via.NONE and "feed has no private messages and cannot reply" in routes["feed"].how
    for name in registry.channel_types():
        cls = registry.load_channel(name)
        assert set(cls.traits.guideline_actions) <= set(cls.capabilities.moderation), name
        if cls.traits.direct_messages:  # the flag promises both methods
            assert "direct_message" in vars(cls) and "outgoing_direct" in vars(cls), name


def test_an_undeclared_direct_message_is_never_used(fake_channels: Server) -> None:
    reply_only = registry.load_channel("replyfake")
    assert reply_only.traits == ChannelTraits(guideline_actions=("remove",))
    assert outgoing_direct_of(reply_only) is None
    assert direct_message_of(registry.load_channel("dmfake")(None)) is not None  # type: ignore[arg-type]


@pytest.fixture
def inbox(tmp_path: Path, clock: FrozenClock, fake_channels: Server) -> Inbox:
    store = Store(tmp_path, clock=clock)
    store.upsert_messages([make_message(n, channel=ch) for n, ch in ((1, "dm"), (2, "rep"), (3, "mute"))])
    return Inbox(guideline_config(), store, store.outbox, clock)


def test_dm_reply_or_nothing_per_channel(inbox: Inbox) -> None:
    dm = guideline_ops.moderate(inbox, ["dm:1"], "remove", "", "be-kind")
    rep = guideline_ops.moderate(inbox, ["rep:2"], "remove", "", "be-kind")
    none = guideline_ops.moderate(inbox, ["mute:3"], "remove", "", "be-kind")
    assert [f.payload["via"] for f in dm.follow_ups + rep.follow_ups] == ["dm", "reply"]
    assert none.follow_ups == [] and len(none.actions) == 1  # moderated all the same
    assert none.skipped == [("mute:3", "mutefake has no private messages and cannot reply: no follow-up sent")]
    assert inbox.store.triage("mute:3").history[-1].action.startswith("guideline be-kind: remove; no follow-up:")


def test_no_follow_up_after_an_action_that_takes_nothing_away(inbox: Inbox) -> None:
    queued = guideline_ops.moderate(inbox, ["dm:1"], "lock", "", "be-kind")
    assert queued.follow_ups == [] and queued.skipped == [
        ("dm:1", "no follow-up after 'lock': dmfake offers one after remove")
    ]
    assert queued.actions[0].payload == {"action": "lock", "reason": "guideline: be-kind", "guideline": "be-kind"}


def test_too_long_is_refused_before_anything_is_queued(inbox: Inbox) -> None:
    with pytest.raises(InboxError, match=r"the follow-up is 2\d\d characters as sent \(with the mention\); dmfake"):
        guideline_ops.moderate(inbox, ["dm:1"], "remove", "", "long")
    assert inbox.outbox.items() == []
    assert inbox.store.triage("dm:1").history == ()


def test_no_follow_up_asked_and_unknown_guideline(inbox: Inbox) -> None:
    queued = guideline_ops.moderate(inbox, ["dm:1"], "remove", "spam!", "no-spam", follow_up=False)
    assert queued.follow_ups == [] and queued.actions[0].payload["reason"] == "spam!"
    # One sentence each ("named 'nope' Guidelines: ..." had no full stop: new-user trial of 2026-12-01).
    with pytest.raises(GuidelineError, match=r"no guideline named 'be-kin'\. Did you mean 'be-kind'"):
        guideline_ops.moderate(inbox, ["dm:1"], "remove", "", "be-kin")


def test_an_author_is_told_once_per_item_and_guideline(inbox: Inbox) -> None:
    guideline_ops.follow_up(inbox, ["rep:2"], "be-kind")
    with pytest.raises(InboxError, match="its author was told of 'be-kind' already"):
        guideline_ops.follow_up(inbox, ["rep:2"], "be-kind")
    again = guideline_ops.moderate(inbox, ["rep:2"], "remove", "", "be-kind")
    assert again.follow_ups == [] and "already told" in again.skipped[0][1]
    assert len(guideline_ops.follow_up(inbox, ["rep:2"], "no-spam").follow_ups) == 1  # another guideline
    with pytest.raises(InboxError, match="mutefake has no private messages"):
        guideline_ops.follow_up(inbox, ["mute:3"], "be-kind")


def test_the_follow_up_names_the_earlier_moderation(inbox: Inbox) -> None:
    [action] = inbox.moderate(["dm:1"], "remove")
    inbox.outbox.mark_sent(inbox.outbox.claim_due()[0], {"action": "remove"})
    [fu] = guideline_ops.follow_up(inbox, ["dm:1"], "no-spam").follow_ups
    assert fu.payload["text"] == "User 1: removed (removed) per no-spam." and fu.payload["after"] == ""
    assert action.id != fu.id


def test_notices_count_sent_follow_ups_per_guideline(inbox: Inbox) -> None:
    guideline_ops.moderate(inbox, ["dm:1"], "remove", "", "be-kind")
    guideline_ops.follow_up(inbox, ["rep:2"], "no-spam")
    for item in inbox.outbox.claim_due():
        inbox.outbox.mark_sent(item, {})
    counted = notices(inbox.outbox.items(), ["dm:user1@example.social"], ["dm:1"])
    assert counted.sent == {"be-kind": 1} and counted.moderated == {"be-kind": 1} and counted.total == 1
    assert notices_text(counted) == "be-kind 1"
    assert notices(inbox.outbox.items(), ["rep:user2@example.social"]).sent == {"no-spam": 1}
    assert [i.kind for i in inbox.outbox.items(OutboxStatus.SENT)].count(OutboxKind.FOLLOW_UP) == 2


async def test_mastodon_sends_a_direct_status_mentioning_the_author(tmp_path: Path, clock: FrozenClock) -> None:
    from cminbox.core.engine import Engine
    from cminbox.core.secrets import Secrets

    cfg = config.parse(BASE + '[[guidelines]]\nname = "be-kind"\ntext = "Be kind."\n')
    store = Store(tmp_path, clock=clock)
    store.upsert_messages([make_message(1)])
    inbox = Inbox(cfg, store, store.outbox, clock)
    preview = guideline_ops.preview(inbox, make_message(1), "be-kind", "report")
    assert preview.ok and preview.outgoing is not None and preview.outgoing.visibility == "direct"
    assert preview.outgoing.text.startswith("@user1@example.social Hi User 1, your post was reported")
    engine = Engine(cfg, store, store.outbox, Secrets({"masto": "tok-abcdef"}), clock)
    with respx.mock(base_url="https://masto.example") as api:
        api.post("/api/v1/reports").respond(json={"id": "1"})
        posted = api.post("/api/v1/statuses").respond(json=status(9))
        queued = guideline_ops.moderate(inbox, ["masto:1"], "report", "", "be-kind")
        done = await engine.dispatcher.deliver_due()
        await engine.aclose()
    assert [d.ok for d in done] == [True, True]
    [call] = posted.calls
    body = json.loads(call.request.content)
    assert body == {"status": preview.outgoing.text, "visibility": "direct"}  # not threaded under the post
    assert call.request.headers["Idempotency-Key"] == queued.follow_ups[0].idempotency_key


def test_mastodon_counts_the_direct_message_like_a_status() -> None:
    cfg = config.parse(BASE + '[[guidelines]]\nname = "x"\ntext = "' + "y" * 480 + '"\n')
    message = make_message(1)
    p = plan(cfg, message, cfg.guidelines[0], "report", after_action=True)
    assert p.too_long and "mastodon allows 500 characters" in p.problem
