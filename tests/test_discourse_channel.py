"""Discourse: requests checked by Prism on Discourse's official description; behaviour on a stateful fake."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from cminbox.channels.discourse import DiscourseChannel, DiscourseOptions
from cminbox.channels.markers import marker
from cminbox.core.channel import AuthFailed, BadResponse, ChannelContext, RateLimited, Rejected
from cminbox.core.clock import FrozenClock, system_clock
from cminbox.core.models import Author, Kind, Message
from tests.forge_fakes import FakeDiscourse
from tests.servers.prism import PrismRecorder

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
POST = Message(
    id="dc:post-7",
    channel="dc",
    channel_type="discourse",
    native_id="post-7",
    kind=Kind.POST,
    author=Author(id="5", handle="@alice"),
    text="How do I export?",
    created_at=datetime(2026, 1, 1, tzinfo=UTC),
    extra={"topic_id": "12", "post_number": "3", "post_id": "7", "notification_id": "99"},
)


def make(
    url: str, transport: httpx.AsyncBaseTransport, clock: Any = None, key: str = "k-123", **options: Any
) -> DiscourseChannel:
    async def token() -> str:
        return key

    return DiscourseChannel(
        ChannelContext(
            name="dc",
            url=url,
            account="cm",
            options=DiscourseOptions(**options),
            token=token,
            clock=clock or FrozenClock(NOW),
            transport=transport,
        )
    )


@pytest.mark.servers
async def test_every_request_validates_against_discourses_description(prism_discourse: str) -> None:
    rec = PrismRecorder(prefer="dynamic=true")  # the description has no examples: schema-shaped data
    ch = make(prism_discourse, rec, system_clock, tags=["help"], categories=[])
    try:
        await ch.whoami()
        first = await ch.poll(None)
        await ch.poll(first.cursor)
        await ch.poll({"last_post_id": 1, "last_notification_id": 1})  # walks back with before=
        await ch.thread(POST)
        await ch.reply(POST, "See Settings → Export.", "cminbox-prism-2")
        await ch.mark_read(POST)
        await ch.moderate(POST, "flag", "spam")
        await ch.moderate(POST, "close", "")
        await ch.moderate(POST, "reopen", "")
    finally:
        await ch.aclose()
    seen = {s[0] for s in rec.seen}
    assert {"GET /posts.json", "GET /notifications.json", "POST /posts.json", "GET /user_actions.json"} <= seen
    assert {"POST /post_actions.json", "PUT /t/12/status.json", "PUT /notifications/mark-read.json"} <= seen
    assert rec.rejected() == []


@pytest.mark.servers
async def test_prism_rejects_a_reply_the_description_forbids(prism_discourse: str) -> None:
    rec = PrismRecorder()
    async with httpx.AsyncClient(base_url=prism_discourse, transport=rec) as client:
        await client.post("/posts.json", json={"raw": "x", "topic_id": "twelve"})
    assert rec.rejected() and rec.rejected()[0][1] == 422


async def test_new_posts_over_pages_exactly_once_and_own_posts_left_out() -> None:
    fake = FakeDiscourse()
    for i in range(15):
        fake.add_post(topic_id=1 + i % 3, username="alice", raw=f"old {i}")
    ch = make("https://forum.test", httpx.MockTransport(fake), notifications=False)
    first = await ch.poll(None)
    assert len(first.messages) == 15
    for i in range(55):  # nearly three pages arrive while we were away
        fake.add_post(topic_id=4, username="bob" if i != 7 else "cm", raw=f"new {i}")
    second = await ch.poll(first.cursor)
    texts = [m.text.split("\n\n")[-1] for m in second.messages]
    assert texts == [f"new {i}" for i in range(55) if i != 7]
    assert [p for p in fake.paths() if p == "/posts.json"].__len__() == 1 + 3
    assert (await ch.poll(second.cursor)).messages == []
    await ch.aclose()


async def test_categories_narrow_the_posts() -> None:
    fake = FakeDiscourse()
    ch = make("https://forum.test", httpx.MockTransport(fake), notifications=False, categories=[5])
    cursor = (await ch.poll(None)).cursor
    fake.add_post(1, "alice", "in support", category_id=5)
    fake.add_post(2, "alice", "in off-topic", category_id=9)
    assert [m.text.split("\n\n")[-1] for m in (await ch.poll(cursor)).messages] == ["in support"]
    await ch.aclose()


async def test_notifications_become_mentions_replies_and_direct_messages() -> None:
    fake = FakeDiscourse()
    ch = make("https://forum.test", httpx.MockTransport(fake), posts=False)
    cursor = (await ch.poll(None)).cursor  # first use: earlier notifications are history
    mention = fake.add_post(3, "alice", "@cm is this a bug?")
    pm = fake.add_post(8, "bob", "private question")
    fake.notifications = [
        {
            "id": 501,
            "notification_type": 1,
            "topic_id": 3,
            "post_number": 1,
            "data": {"original_post_id": mention["id"]},
        },
        {"id": 502, "notification_type": 6, "topic_id": 8, "post_number": 1, "data": {"topic_title": "Help"}},
        {"id": 503, "notification_type": 5, "topic_id": 3, "post_number": 1, "data": {}},  # a like: not an inbox item
    ]
    got = (await ch.poll(cursor)).messages
    assert [(m.kind, m.extra["notification_id"]) for m in got] == [(Kind.MENTION, "501"), (Kind.DIRECT, "502")]
    assert got[1].native_id == f"post-{pm['id']}"
    await ch.mark_read(got[0])
    assert fake.read == [501]
    await ch.aclose()


async def test_a_retried_reply_is_found_by_its_marker_not_posted_again() -> None:
    fake = FakeDiscourse()
    ch = make("https://forum.test", httpx.MockTransport(fake), notifications=False)
    cursor = (await ch.poll(None)).cursor
    fake.add_post(12, "alice", "How do I export?")
    [item] = (await ch.poll(cursor)).messages
    first = await ch.reply(item, "Settings → Export.", "cminbox-k9")
    again = await ch.reply(item, "Settings → Export.", "cminbox-k9")
    ours = [p for p in fake.posts if p["username"] == "cm"]
    assert len(ours) == 1 and first == again and ours[0]["raw"].endswith(marker("cminbox-k9"))
    body = json.loads(next(r for r in fake.requests if r.method == "POST").content)
    assert body["topic_id"] == 12 and body["reply_to_post_number"] == 1
    await ch.aclose()


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (
            httpx.Response(200, text="<html><body>Maintenance</body></html>", headers={"content-type": "text/html"}),
            BadResponse,
        ),
        (
            httpx.Response(200, text='{"latest_posts": [{"id": 3', headers={"content-type": "application/json"}),
            BadResponse,
        ),
        (httpx.Response(200, json={"posts": []}), BadResponse),
        (httpx.Response(429, headers={"Retry-After": "30"}, json={"errors": ["slow down"]}), RateLimited),
        (httpx.Response(403, json={"errors": ["You are not permitted to view the requested resource."]}), Exception),
    ],
)
async def test_bad_answers_degrade_with_a_reason(response: httpx.Response, error: type[Exception]) -> None:
    fake = FakeDiscourse()
    fake.script = [response]
    ch = make("https://forum.test", httpx.MockTransport(fake), notifications=False)
    with pytest.raises(error) as caught:
        await ch.poll(None)
    assert getattr(caught.value, "reason", "")
    await ch.aclose()


async def test_missing_key_is_an_auth_failure_naming_the_fix() -> None:
    ch = make("https://forum.test", httpx.MockTransport(FakeDiscourse()), key="")
    with pytest.raises(AuthFailed, match="cminbox login dc"):
        await ch.poll(None)


# The shape of GET /review.json, after Discourse's ReviewableSerializer / ReviewableFlaggedPostSerializer.
REVIEW = {
    "reviewables": [
        {
            "id": 31,
            "type": "ReviewableFlaggedPost",
            "topic_id": 12,
            "topic_url": "https://forum.test/t/export/12",
            "target_type": "Post",
            "target_id": 140,
            "target_url": "https://forum.test/t/export/12/4",
            "target_created_by_id": 9,
            "created_at": "2026-11-02T11:00:00.000Z",
            "status": 0,
            "version": 2,
            "score": 9.0,
            "reviewable_score_ids": [501, 502],
            "cooked": "<p>Buy cheap watches at <a href='https://spam.example'>spam.example</a></p>",
            "raw": "Buy cheap watches",
            "reply_to_post_number": 3,
        },
        {
            "id": 32,
            "type": "ReviewableQueuedPost",
            "topic_id": None,
            "created_by_id": 10,
            "created_at": "2026-11-02T11:05:00.000Z",
            "version": 0,
            "payload": {"raw": "My first post!", "title": "Hello all"},
        },
    ],
    "users": [{"id": 9, "username": "spammer", "name": "S"}, {"id": 10, "username": "newbie", "name": "N"}],
    "reviewable_scores": [{"id": 501, "reviewable_score_type": 8}, {"id": 502, "reviewable_score_type": 3}],
}


async def test_review_queue_items_once_and_agree_or_disagree() -> None:
    fake = FakeDiscourse()
    fake.review = REVIEW
    ch = make("https://forum.test", httpx.MockTransport(fake), posts=False, notifications=False, review_queue=True)
    first = await ch.poll(None)
    flagged, queued = first.messages
    assert (
        flagged.kind == Kind.REVIEW and flagged.text == "Flagged (off-topic, spam)\n\nBuy cheap watches at spam.example"
    )
    assert flagged.author.handle == "@spammer" and flagged.url == "https://forum.test/t/export/12/4"
    assert queued.text == "Waiting for approval: Hello all\n\nMy first post!" and queued.author.handle == "@newbie"
    assert (await ch.poll(first.cursor)).messages == []
    await ch.moderate(flagged, "agree", "")
    assert fake.performed == [(31, "agree_and_hide", "2")]
    with pytest.raises(Rejected, match="review-queue items"):
        await ch.moderate(POST, "disagree", "")
    await ch.aclose()


async def test_a_key_without_moderator_rights_keeps_the_rest_of_the_channel_working() -> None:
    fake = FakeDiscourse()
    fake.moderator = False
    fake.add_post(3, "alice", "hello")
    ch = make("https://forum.test", httpx.MockTransport(fake), notifications=False, review_queue=True)
    result = await ch.poll(None)
    assert len(result.messages) == 1 and "moderator" in result.warning
    await ch.aclose()


async def test_a_burst_larger_than_one_poll_is_filled_in_by_the_next_polls_exactly_once() -> None:
    fake = FakeDiscourse()
    fake.add_post(1, "alice", "before")
    ch = make("https://forum.test", httpx.MockTransport(fake), notifications=False)
    cursor = (await ch.poll(None)).cursor
    for i in range(450):  # a poll reads at most 10 pages of 20
        fake.add_post(2, "bob", f"burst {i}")
    seen: list[str] = []
    for poll in range(4):
        result = await ch.poll(cursor)
        seen += [m.text.split("\n\n")[-1] for m in result.messages]
        cursor = result.cursor
        if poll == 0:
            assert cursor is not None and cursor["post_gaps"]  # the rest is remembered as a gap
            fake.add_post(3, "carol", "while catching up")
    assert sorted(seen) == sorted([f"burst {i}" for i in range(450)] + ["while catching up"])
    assert len(seen) == len(set(seen)) and cursor is not None and cursor["post_gaps"] == []
    await ch.aclose()


async def test_more_notifications_than_one_page_are_all_delivered_once() -> None:
    fake = FakeDiscourse()
    ch = make("https://forum.test", httpx.MockTransport(fake), posts=False)
    cursor = (await ch.poll(None)).cursor
    for i in range(150):  # Discourse lists 60 a page
        pm = fake.add_post(1000 + i, "bob", f"private {i}")
        fake.notifications.append(
            {
                "id": 700 + i,
                "notification_type": 6,
                "topic_id": 1000 + i,
                "post_number": 1,
                "data": {"original_post_id": pm["id"]},
            }
        )
    result = await ch.poll(cursor)
    assert sorted(m.text.split("\n\n")[-1] for m in result.messages) == sorted(f"private {i}" for i in range(150))
    assert {m.kind for m in result.messages} == {Kind.DIRECT}
    assert (await ch.poll(result.cursor)).messages == []
    await ch.aclose()
