"""The Mastodon adapter against mastodon-mock, a stateful third-party emulator of the API."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from cminbox.channels.mastodon import MastodonChannel, MastodonOptions
from cminbox.core.channel import ChannelContext
from cminbox.core.clock import system_clock
from cminbox.core.store import Store

pytestmark = pytest.mark.servers


def new_account(base: str, username: str) -> str:
    app = httpx.post(f"{base}/api/v1/apps", data={"client_name": "cminbox-tests", "scopes": "read write"}).json()
    app_token = httpx.post(
        f"{base}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"]},
    ).json()
    created = httpx.post(
        f"{base}/api/v1/accounts",
        headers={"Authorization": f"Bearer {app_token['access_token']}"},
        data={"username": username, "email": f"{username}@example.test", "password": "pw-123456", "agreement": "true"},
    )
    created.raise_for_status()
    return str(created.json()["access_token"])


def post(base: str, token: str, text: str, **extra: str) -> dict[str, object]:
    r = httpx.post(
        f"{base}/api/v1/statuses", headers={"Authorization": f"Bearer {token}"}, json={"status": text, **extra}
    )
    r.raise_for_status()
    return r.json()  # type: ignore[no-any-return]


def channel(base: str, token: str, **options: int) -> MastodonChannel:
    async def provide() -> str:
        return token

    return MastodonChannel(
        ChannelContext(
            name="mm", url=base, account="", options=MastodonOptions(**options), token=provide, clock=system_clock
        )
    )


def test_sixty_mentions_over_pages_are_ingested_exactly_once(mastodon_mock: str, tmp_path: Path) -> None:
    manager = new_account(mastodon_mock, "cmteam1")
    fan = new_account(mastodon_mock, "fan1")
    store = Store(tmp_path)

    async def poll_into_store(ch: MastodonChannel) -> int:
        result = await ch.poll(store.get_cursor("mm"))
        new = store.upsert_messages(result.messages)
        store.set_cursor("mm", result.cursor)
        return len(new)

    async def scenario() -> tuple[int, int, int]:
        ch = channel(mastodon_mock, manager)
        try:
            first = await poll_into_store(ch)  # empty inbox: sets nothing missed
            for i in range(60):
                post(mastodon_mock, fan, f"@cmteam1 question number {i}")
            second = await poll_into_store(ch)  # 60 > one page of 40: walks forward
            third = await poll_into_store(ch)
            return first, second, third
        finally:
            await ch.aclose()

    first, second, third = asyncio.run(scenario())
    assert (first, second, third) == (0, 60, 0)
    texts = sorted(m.text for m in store.all_messages())
    assert texts == sorted(f"question number {i}" for i in range(60))

    # And a fresh data dir with a deep backfill sees the same 60, once each.
    async def backfill() -> int:
        ch = channel(mastodon_mock, manager, backfill_pages=5)
        try:
            return len({m.id for m in (await ch.poll(None)).messages})
        finally:
            await ch.aclose()

    assert asyncio.run(backfill()) == 60


def test_reply_lands_in_context_with_parent_and_visibility(mastodon_mock: str) -> None:
    manager = new_account(mastodon_mock, "cmteam2")
    fan = new_account(mastodon_mock, "fan2")
    original = post(mastodon_mock, fan, "@cmteam2 psst, private question", visibility="private")

    async def scenario() -> tuple[str, str]:
        ch = channel(mastodon_mock, manager)
        try:
            [msg] = (await ch.poll(None)).messages
            receipt = await ch.reply(msg, "answered in private", "cminbox-key-1")
            again = await ch.reply(msg, "answered in private", "cminbox-key-1")  # a retry
            return receipt.native_id, again.native_id
        finally:
            await ch.aclose()

    first, retried = asyncio.run(scenario())
    assert first == retried
    ctx = httpx.get(
        f"{mastodon_mock}/api/v1/statuses/{original['id']}/context", headers={"Authorization": f"Bearer {fan}"}
    ).json()
    [reply] = [s for s in ctx["descendants"] if s["account"]["username"] == "cmteam2"]
    assert reply["in_reply_to_id"] == original["id"]
    assert reply["visibility"] == "private"
    assert "@fan2" in reply["content"]


def test_thread_context_from_the_server(mastodon_mock: str) -> None:
    manager = new_account(mastodon_mock, "cmteam3")
    fan = new_account(mastodon_mock, "fan3")
    root = post(mastodon_mock, fan, "starting a thread")
    post(mastodon_mock, fan, "@cmteam3 see above", in_reply_to_id=str(root["id"]))

    async def scenario() -> list[str]:
        ch = channel(mastodon_mock, manager)
        try:
            [msg] = (await ch.poll(None)).messages
            return [m.text for m in await ch.thread(msg)]
        finally:
            await ch.aclose()

    assert asyncio.run(scenario()) == ["starting a thread", "see above"]


def test_wrong_token_is_reported_as_auth_failure(mastodon_mock: str) -> None:
    from cminbox.core.channel import AuthFailed

    async def scenario() -> None:
        ch = channel(mastodon_mock, "not-a-real-token")
        try:
            await ch.poll(None)
        finally:
            await ch.aclose()

    with pytest.raises(AuthFailed):
        asyncio.run(scenario())
