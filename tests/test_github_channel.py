"""GitHub: requests checked by Prism on GitHub's official description; behaviour on a stateful fake."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from cminbox.channels.github import GitHubChannel, GitHubOptions
from cminbox.channels.markers import marker
from cminbox.core.channel import BadResponse, ChannelContext, RateLimited, Rejected
from cminbox.core.clock import FrozenClock, system_clock
from cminbox.core.models import Author, Kind, Message
from tests.forge_fakes import T0, FakeGitHub
from tests.servers.prism import PrismRecorder

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def make(url: str, transport: httpx.AsyncBaseTransport, clock: Any = None, **options: Any) -> GitHubChannel:
    async def token() -> str:
        return "ghp_secret_token"

    return GitHubChannel(
        ChannelContext(
            name="gh",
            url=url,
            account="",
            options=GitHubOptions(**options),
            token=token,
            clock=clock or FrozenClock(NOW),
            transport=transport,
        )
    )


def fake_channel(fake: FakeGitHub, clock: Any = None, **options: Any) -> GitHubChannel:
    return make("https://api.github.test", httpx.MockTransport(fake), clock, **options)


ISSUE = Message(
    id="gh:comment-1",
    channel="gh",
    channel_type="github",
    native_id="comment-1",
    kind=Kind.COMMENT,
    author=Author(id="1", handle="@octocat"),
    text="octocat/Hello-World#1347\n\nMe too",
    created_at=datetime(2026, 1, 1, tzinfo=UTC),
    extra={"repo": "octocat/Hello-World", "number": "1347", "node_id": "IC_1", "thread_id": "1"},
)


@pytest.mark.servers
async def test_every_request_validates_against_githubs_description(prism_github: str) -> None:
    # /user dynamic: the description's example user wrote every example comment, and our own
    # comments are (rightly) never shown as new.
    rec = PrismRecorder(prefer_for={"/user": "dynamic=true"})
    ch = make(prism_github, rec, system_clock, repos=["octocat/Hello-World"], new_issues=True, participating=True)
    try:
        first = await ch.poll(None)
        await ch.poll(first.cursor)
        assert first.messages and first.messages[0].text.startswith("octocat/Hello-World#1347")
        await ch.thread(ISSUE)
        await ch.reply(ISSUE, "Thanks, fixed in 2.1", "cminbox-prism-1")
        await ch.mark_read(ISSUE)
        await ch.moderate(ISSUE, "lock", "too heated")
        await ch.moderate(ISSUE, "unlock", "")
    finally:
        await ch.aclose()
    seen = {s[0] for s in rec.seen}
    assert {
        "GET /notifications",
        "GET /repos/octocat/Hello-World/issues/comments",
        "GET /repos/octocat/Hello-World/issues",
    } <= seen
    assert {"POST /repos/octocat/Hello-World/issues/1347/comments", "PATCH /notifications/threads/1"} <= seen
    assert {
        "PUT /repos/octocat/Hello-World/issues/1347/lock",
        "DELETE /repos/octocat/Hello-World/issues/1347/lock",
    } <= seen
    assert rec.rejected() == []


@pytest.mark.servers
async def test_prism_rejects_a_request_the_description_forbids(prism_github: str) -> None:
    """The check has teeth: a lock reason outside the documented enum is refused by Prism."""
    rec = PrismRecorder()
    async with httpx.AsyncClient(base_url=prism_github, transport=rec) as client:
        await client.put(
            "/repos/o/r/issues/1/lock", json={"lock_reason": "boring"}, headers={"Accept": "application/json"}
        )
    assert rec.rejected() and rec.rejected()[0][1] == 422


async def test_repository_comments_over_pages_are_fetched_exactly_once() -> None:
    fake = FakeGitHub()
    for i in range(250):
        fake.add_comment("acme/app", 1 + i % 7, f"user{i % 5}", f"comment {i}", minute=i)
    fake.add_comment("acme/app", 3, "cm-bot", "our own answer", minute=251)
    ch = fake_channel(fake, notifications=False, repos=["acme/app"], backfill_hours=48)
    first = await ch.poll(None)
    assert len(first.messages) == 250  # three pages of 100, our own comment left out
    assert len({m.id for m in first.messages}) == 250
    for i in range(30):
        fake.add_comment("acme/app", 2, "late", f"late {i}", minute=300 + i)
    second = await ch.poll(first.cursor)
    assert [m.text.split("\n\n")[1] for m in second.messages] == [f"late {i}" for i in range(30)]
    before = len(fake.requests)
    third = await ch.poll(second.cursor)
    assert third.messages == [] and len(fake.requests) == before + 1  # one conditional request...
    assert fake.requests[-1].headers["If-None-Match"]  # ...answered 304, which costs no rate limit
    await ch.aclose()


async def test_comments_at_the_same_second_as_the_cursor_are_not_lost_or_repeated() -> None:
    fake = FakeGitHub()
    fake.add_comment("acme/app", 1, "a", "one", minute=10)
    ch = fake_channel(fake, notifications=False, repos=["acme/app"], backfill_hours=48)
    first = await ch.poll(None)
    fake.add_comment("acme/app", 1, "b", "two, same second", minute=10)
    second = await ch.poll(first.cursor)
    assert [m.text.endswith("two, same second") for m in second.messages] == [True]
    await ch.aclose()


async def test_notifications_are_conditional_resolved_and_honour_poll_interval() -> None:
    fake = FakeGitHub()
    comment = fake.add_comment("acme/app", 9, "alice", "@cm-bot can you look?", minute=5)
    fake.threads = [
        {
            "id": "42",
            "reason": "mention",
            "updated_at": comment["updated_at"],
            "subject": {
                "title": "Crash on start",
                "type": "Issue",
                "url": "https://api.github.test/repos/acme/app/issues/9",
                "latest_comment_url": f"https://api.github.test/repos/acme/app/issues/comments/{comment['id']}",
            },
            "repository": {"full_name": "acme/app"},
        },
        {
            "id": "43",
            "reason": "subscribed",
            "updated_at": "2026-11-01T13:00:00Z",
            "subject": {"title": "v2.0", "type": "Release", "url": None, "latest_comment_url": None},
            "repository": {"full_name": "acme/app", "owner": {"login": "acme"}},
        },
    ]
    ch = fake_channel(fake)
    first = await ch.poll(None)
    by_kind = {m.kind: m for m in first.messages}
    mention = by_kind[Kind.MENTION]
    assert mention.text == "acme/app#9 Crash on start\n\n@cm-bot can you look?"
    assert mention.extra["thread_id"] == "42" and mention.author.handle == "@alice"
    assert "Release in acme/app: v2.0" in by_kind[Kind.POST].text
    assert first.next_poll_in == 60.0  # X-Poll-Interval
    again = await ch.poll(first.cursor)
    assert again.messages == [] and fake.requests[-1].headers["If-Modified-Since"] == fake.last_modified
    await ch.mark_read(mention)
    assert fake.read == ["42"]
    await ch.aclose()


async def test_spent_quota_pauses_the_channel_and_403_retry_after_is_a_rate_limit() -> None:
    fake = FakeGitHub()
    reset = int(NOW.timestamp()) + 900
    fake.extra_headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
    ch = fake_channel(fake, notifications=False, repos=["acme/app", "acme/other"])
    result = await ch.poll(None)
    assert result.next_poll_in == 900.0
    assert [r.url.path for r in fake.requests] == ["/user", "/repos/acme/app/issues/comments"]  # stopped there
    fake.script = [httpx.Response(403, headers={"Retry-After": "120"}, json={"message": "secondary rate limit"})]
    with pytest.raises(RateLimited) as caught:
        await ch.poll(result.cursor)
    assert caught.value.retry_at == NOW.replace(minute=2)
    await ch.aclose()


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (
            httpx.Response(200, text="<!DOCTYPE html><html>Unicorn!</html>", headers={"content-type": "text/html"}),
            "HTML",
        ),
        (
            httpx.Response(200, text='[{"id": 1, "body": "cut', headers={"content-type": "application/json"}),
            "invalid JSON",
        ),
        (httpx.Response(200, json={"message": "not a list"}), "expected a JSON array"),
    ],
)
async def test_garbage_is_a_clear_bad_response(response: httpx.Response, reason: str) -> None:
    fake = FakeGitHub()
    ch = fake_channel(fake, notifications=False, repos=["acme/app"])
    await ch.whoami()
    fake.script = [response]
    with pytest.raises(BadResponse, match=reason):
        await ch.poll(None)
    await ch.aclose()


async def test_a_retried_reply_finds_the_first_instead_of_posting_twice() -> None:
    fake = FakeGitHub()
    comment = fake.add_comment("acme/app", 4, "alice", "Is there an ARM build?", minute=1)
    ch = fake_channel(fake, notifications=False, repos=["acme/app"], backfill_hours=48)
    [item] = (await ch.poll(None)).messages
    first = await ch.reply(item, "Yes, since 1.4.", "cminbox-abc")
    again = await ch.reply(item, "Yes, since 1.4.", "cminbox-abc")  # the outbox retrying after a crash
    ours = [c for c in fake.comments if c["user"]["login"] == "cm-bot"]
    assert len(ours) == 1 and first == again
    assert ours[0]["body"] == "Yes, since 1.4.\n\n" + marker("cminbox-abc")
    assert fake.paths("POST") == ["/repos/acme/app/issues/4/comments"]
    assert comment["id"] != int(first.native_id.removeprefix("comment-"))
    await ch.aclose()


async def test_pagination_never_follows_a_link_to_another_host() -> None:
    fake = FakeGitHub()
    fake.add_comment("acme/app", 1, "a", "x", minute=1)
    ch = fake_channel(fake, notifications=False, repos=["acme/app"], backfill_hours=48)
    await ch.whoami()
    evil = httpx.Response(200, json=[], headers={"Link": '<https://evil.example/steal?page=2>; rel="next"'})
    fake.script = [evil]
    await ch.poll(None)
    assert all(r.url.host == "api.github.test" for r in fake.requests)
    await ch.aclose()


async def test_hide_uses_graphql_minimize_and_reports_its_errors() -> None:
    sent: list[dict[str, Any]] = []

    def graphql(request: httpx.Request) -> httpx.Response:
        sent.append({"url": str(request.url), **json.loads(request.content)})
        if len(sent) == 1:
            data = {"minimizeComment": {"minimizedComment": {"isMinimized": True}}}
            return httpx.Response(200, json={"data": data})
        return httpx.Response(
            200, json={"data": None, "errors": [{"message": "Resource not accessible by integration"}]}
        )

    ch = make("https://ghe.example/api/v3", httpx.MockTransport(graphql))
    await ch.moderate(ISSUE, "hide", "spam")
    assert sent[0]["url"] == "https://ghe.example/api/graphql"
    assert sent[0]["variables"] == {"id": "IC_1", "classifier": "SPAM"}
    with pytest.raises(Rejected, match="not accessible"):
        await ch.moderate(ISSUE, "hide", "")
    await ch.aclose()


def test_default_url_is_api_github_com() -> None:
    async def token() -> str:
        return "t"

    ch = GitHubChannel(ChannelContext(name="g", url="", account="", options=None, token=token, clock=system_clock))
    assert ch.ctx.url == "https://api.github.com"
    assert T0 < NOW


def discussion(n: int, login: str, minute: int) -> dict[str, Any]:
    """A GraphQL Discussion node as GitHub's schema describes it."""
    return {
        "id": f"D_kw{n}",
        "number": n,
        "title": f"Idea {n}",
        "body": f"What about {n}?",
        "createdAt": f"2026-11-01T{12 + minute // 60:02d}:{minute % 60:02d}:00Z",
        "url": f"https://github.com/acme/app/discussions/{n}",
        "author": {"login": login, "url": f"https://github.com/{login}"},
        "category": {"name": "Ideas"},
    }


async def test_new_discussions_once_and_replies_found_by_marker() -> None:
    fake = FakeGitHub()
    fake.discussions = [discussion(1, "alice", 1), discussion(2, "cm-bot", 2)]
    ch = fake_channel(fake, notifications=False, repos=["acme/app"], discussions=True, backfill_hours=48)
    first = await ch.poll(None)
    [item] = [m for m in first.messages if m.native_id.startswith("discussion-")]
    assert item.text == "Discussion acme/app#1 Idea 1 (Ideas)\n\nWhat about 1?"
    fake.discussions.append(discussion(3, "bob", 30))
    second = await ch.poll(first.cursor)
    assert [m.extra["number"] for m in second.messages] == ["3"]
    one = await ch.reply(item, "Planned for 3.0", "cminbox-d1")
    two = await ch.reply(item, "Planned for 3.0", "cminbox-d1")
    assert one == two and len(fake.discussion_comments["D_kw1"]) == 1
    thread = await ch.thread(item)
    assert [m.text for m in thread][-1].startswith("Planned for 3.0")
    await ch.aclose()


def test_repository_names_are_checked_with_file_line_and_key(tmp_path: Any) -> None:
    from cminbox.core import config
    from cminbox.core.config import ConfigError

    path = tmp_path / "config.toml"
    with pytest.raises(ConfigError) as caught:
        config.parse('[[channels]]\nname = "gh"\ntype = "github"\nrepos = ["acme/app", "just-a-name"]\n', path)
    assert caught.value.key == "channels[0].repos" and "just-a-name" in str(caught.value) and caught.value.line == 4


async def test_notification_pages_and_the_per_poll_budget_deliver_every_thread_once() -> None:
    fake = FakeGitHub()
    ch = fake_channel(fake, page_size=20)
    cursor = (await ch.poll(None)).cursor
    for n in range(70):  # 70 threads: 4 pages of 20, more than the 30 resolved per poll
        fake.notify(fake.add_comment("acme/app", n, f"user{n}", f"ping {n}", minute=10 + n))
    seen: list[str] = []
    for _ in range(4):
        result = await ch.poll(cursor)
        seen += [m.text.split("\n\n")[1] for m in result.messages]
        cursor = result.cursor
    assert sorted(seen) == sorted(f"ping {n}" for n in range(70)) and len(seen) == 70
    quiet = await ch.poll(cursor)
    assert quiet.messages == [] and fake.requests[-1].headers.get("If-Modified-Since") == fake.last_modified
    await ch.aclose()
