"""One broken channel never delays or breaks the others."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import respx

from cminbox.core import config
from cminbox.core.clock import FrozenClock
from cminbox.core.engine import Engine
from cminbox.core.errors import CminboxError
from cminbox.core.health import HealthState
from cminbox.core.outbox import Outbox
from cminbox.core.secrets import Secrets
from cminbox.core.store import Store
from tests.mastodon_fixtures import ME, notification

CFG = """
[[channels]]
name = "good"
type = "mastodon"
url = "https://good.example"
interval = 30
[[channels]]
name = "limited"
type = "mastodon"
url = "https://limited.example"
interval = 30
[[channels]]
name = "garbage"
type = "mastodon"
url = "https://garbage.example"
interval = 30
"""


def engine(tmp_path: Path, clock: FrozenClock) -> Engine:
    cfg = config.parse(CFG)
    store = Store(tmp_path, clock=clock)
    secrets = Secrets({"good": "t1-secret", "limited": "t2-secret", "garbage": "t3-secret"})
    return Engine(cfg, store, Outbox(tmp_path, store.lock, clock=clock), secrets, clock)


async def test_rate_limit_and_garbage_degrade_only_their_channel(tmp_path: Path, clock: FrozenClock) -> None:
    with respx.mock(assert_all_called=False) as api:
        for host in ("good", "limited", "garbage"):
            api.get(f"https://{host}.example/api/v1/accounts/verify_credentials").respond(json=ME)
        api.get("https://good.example/api/v1/notifications").respond(json=[notification(1), notification(2)])
        api.get("https://limited.example/api/v1/notifications").respond(
            429, headers={"X-RateLimit-Reset": (clock.now + timedelta(minutes=10)).isoformat()}
        )
        api.get("https://garbage.example/api/v1/notifications").respond(
            200, content=b"<html>oops</html>", headers={"Content-Type": "text/html"}
        )
        eng = engine(tmp_path, clock)
        reports = {r.channel: r for r in await eng.poll_once()}
        await eng.aclose()
    assert reports["good"].health.state == HealthState.OK and len(reports["good"].new_ids) == 2
    assert reports["good"].health.next_attempt == clock.now + timedelta(seconds=30)
    limited = reports["limited"].health
    assert limited.state == HealthState.RATE_LIMITED
    assert limited.next_attempt == clock.now + timedelta(minutes=10)  # only this channel waits
    garbage = reports["garbage"].health
    assert garbage.state == HealthState.DEGRADED and "HTML page" in garbage.reason
    assert garbage.next_attempt is not None and garbage.next_attempt > clock.now
    stored = eng.store.all_health()
    assert {k: v["state"] for k, v in stored.items()} == {
        "good": "ok",
        "limited": "rate-limited",
        "garbage": "degraded",
    }


async def test_a_hanging_channel_does_not_delay_the_others(tmp_path: Path, clock: FrozenClock) -> None:
    done: list[str] = []

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200, json=[])

    with respx.mock(assert_all_called=False) as api:
        for host in ("good", "limited", "garbage"):
            api.get(f"https://{host}.example/api/v1/accounts/verify_credentials").respond(json=ME)
        api.get("https://good.example/api/v1/notifications").respond(json=[notification(1)])
        api.get("https://limited.example/api/v1/notifications").mock(side_effect=slow)
        api.get("https://garbage.example/api/v1/notifications").mock(side_effect=slow)
        eng = engine(tmp_path, clock)
        eng.poller.on_report = lambda r: done.append(r.channel)
        stop = asyncio.Event()
        task = asyncio.create_task(eng.run(stop))
        for _ in range(200):
            if done:
                break
            await asyncio.sleep(0.01)
        stop.set()
        task.cancel()
        await eng.aclose()
    assert done[:1] == ["good"]
    assert eng.store.message_ids() == ["good:1001"]


async def test_auth_failure_is_reported_and_that_channel_stops(tmp_path: Path, clock: FrozenClock) -> None:
    with respx.mock(assert_all_called=False) as api:
        api.get("https://good.example/api/v1/accounts/verify_credentials").respond(401)
        for host in ("limited", "garbage"):
            api.get(f"https://{host}.example/api/v1/accounts/verify_credentials").respond(json=ME)
            api.get(f"https://{host}.example/api/v1/notifications").respond(json=[])
        eng = engine(tmp_path, clock)
        reports = {r.channel: r for r in await eng.poll_once()}
        await eng.aclose()
    assert reports["good"].health.state == HealthState.AUTH_FAILED
    assert "cminbox login" in reports["good"].health.reason
    assert reports["good"].health.next_attempt is None
    assert reports["limited"].health.state == HealthState.OK
    assert "t1-secret" not in (tmp_path / "state" / "health.json").read_text()


async def test_a_spent_github_quota_delays_only_github(tmp_path: Path, clock: FrozenClock) -> None:
    """A *successful* answer saying the quota is spent pauses that channel until the reset;
    a feed polled in the same round keeps its own interval."""
    cfg = config.parse("""
[[channels]]
name = "gh"
type = "github"
interval = 60
repos = ["acme/app"]
notifications = false
[[channels]]
name = "status"
type = "feed"
url = "https://status.example/feed.xml"
interval = 60
""")
    reset = int(clock.now.timestamp()) + 1800
    with respx.mock(assert_all_called=False) as api:
        quota = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
        api.get("https://api.github.com/user").respond(json={"login": "cm-bot", "id": 1}, headers=quota)
        api.get("https://api.github.com/repos/acme/app/issues/comments").respond(json=[], headers=quota)
        feed = (
            '<rss version="2.0"><channel><title>S</title><item><guid>1</guid><title>Up</title></item></channel></rss>'
        )
        api.get("https://status.example/feed.xml").respond(text=feed)
        store = Store(tmp_path, clock=clock)
        eng = Engine(cfg, store, Outbox(tmp_path, store.lock, clock=clock), Secrets({"gh": "ghp_x"}), clock)
        reports = {r.channel: r for r in await eng.poll_once()}
        await eng.aclose()
    assert reports["gh"].health.state == HealthState.OK
    assert reports["gh"].health.next_attempt == clock.now + timedelta(seconds=1800)
    assert reports["status"].health.next_attempt == clock.now + timedelta(seconds=60)
    assert len(reports["status"].new_ids) == 1


async def test_a_part_the_key_may_not_read_is_named_in_health_while_the_rest_works(
    tmp_path: Path, clock: FrozenClock
) -> None:
    cfg = config.parse("""
[[channels]]
name = "forum"
type = "discourse"
url = "https://forum.example"
account = "cm"
notifications = false
review_queue = true
""")
    with respx.mock(assert_all_called=False) as api:
        api.get("https://forum.example/posts.json").respond(json={"latest_posts": []})
        api.get("https://forum.example/review.json").respond(403, json={"errors": ["not permitted"]})
        store = Store(tmp_path, clock=clock)
        eng = Engine(cfg, store, Outbox(tmp_path, store.lock, clock=clock), Secrets({"forum": "key"}), clock)
        [report] = await eng.poll_once()
        await eng.aclose()
    assert report.health.state == HealthState.OK and "moderator" in report.health.reason


async def test_a_store_down_at_poll_time_degrades_the_channel_and_the_poller_goes_on(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A team store unreachable when a poll is due (its health and cursor cannot be read): the
    channel shows why and is polled again later, rather than the error ending the poller's loop."""
    eng = engine(tmp_path, clock)

    def down(*_: object) -> None:
        raise CminboxError("the PostgreSQL store is unreachable (connection refused); nothing was changed.")

    monkeypatch.setattr(eng.store, "get_health", down)
    monkeypatch.setattr(eng.store, "get_cursor", down)
    report = await eng.poller.poll_channel("good")
    await eng.aclose()
    assert report.health.state == HealthState.DEGRADED and "unreachable" in report.health.reason
    assert report.health.next_attempt is not None and report.health.next_attempt > clock.now


async def test_a_store_down_when_the_poller_starts_does_not_stop_it(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = config.parse('[[channels]]\nname = "off"\ntype = "mastodon"\nurl = "https://off.example"\nenabled = false\n')
    store = Store(tmp_path, clock=clock)
    eng = Engine(cfg, store, store.outbox, Secrets({}), clock)

    def down(*_: object) -> None:
        raise CminboxError("the PostgreSQL store is unreachable (connection refused); nothing was changed.")

    monkeypatch.setattr(store, "set_health", down)
    stop = asyncio.Event()
    stop.set()
    await eng.poller.run(stop)  # the disabled channel's health is not saved; nothing is raised
    await eng.aclose()


RULED = """
[[channels]]
name = "good"
type = "mastodon"
url = "https://good.example"
interval = 30

[[rules]]
name = "broken"
when = "kind:mention"
tag = ["never"]

[[rules]]
name = "everything"
when = "status:new"
tag = ["seen"]
"""


async def test_the_poller_stores_new_items_with_their_rules_and_a_raising_rule_is_a_health_warning(
    tmp_path: Path, clock: FrozenClock
) -> None:
    from tests.rules_fixtures import raising

    with respx.mock(assert_all_called=False) as api:
        api.get("https://good.example/api/v1/accounts/verify_credentials").respond(json=ME)
        api.get("https://good.example/api/v1/notifications").respond(json=[notification(1), notification(2)])
        store = Store(tmp_path, clock=clock)
        eng = Engine(config.parse(RULED), store, store.outbox, Secrets({"good": "t1-secret"}), clock)
        assert eng.rules is not None and eng.poller.rules is eng.rules
        eng.rules.rules[0] = raising(eng.rules.rules[0])
        [report] = await eng.poll_once()
        await eng.aclose()
    health = report.health
    assert health.state == HealthState.OK and len(report.new_ids) == 2  # ingest went on
    assert "rule broken failed on 2 item(s) and was skipped for them (RuntimeError: boom)" in health.reason
    assert [store.triage(mid).tags for mid in report.new_ids] == [("seen",), ("seen",)]
    assert store.all_health()["good"]["reason"] == health.reason
