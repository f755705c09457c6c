"""The Matrix channel against a real Synapse homeserver (started by the test setup)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from cminbox.channels.matrix import MatrixChannel, MatrixOptions
from cminbox.core.channel import AuthFailed, ChannelContext, RateLimited, Rejected
from cminbox.core.clock import FrozenClock
from cminbox.core.models import Kind
from tests.conftest import cli_env, run_cli
from tests.servers.fixtures import matrix_register

pytestmark = pytest.mark.servers
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
_txn = itertools.count()
_names = itertools.count()


def api(base: str, token: str, method: str, path: str, body: Any = None) -> Any:
    r = httpx.request(
        method, f"{base}/_matrix/client/v3{path}", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 200, r.text
    return r.json()


def say(base: str, token: str, room: str, text: str, relates: dict[str, Any] | None = None) -> str:
    content: dict[str, Any] = {"msgtype": "m.text", "body": text}
    if relates:
        content["m.relates_to"] = relates
    return str(api(base, token, "PUT", f"/rooms/{room}/send/m.room.message/t{next(_txn)}", content)["event_id"])


def channel(base: str, token: str, **options: Any) -> MatrixChannel:
    async def tok() -> str | None:
        return token

    return MatrixChannel(
        ChannelContext(
            name="matrix", url=base, account="", options=MatrixOptions(**options), token=tok, clock=FrozenClock(T0)
        )
    )


@pytest.fixture
def people(synapse: str) -> dict[str, tuple[str, str]]:
    n = next(_names)
    return {who: matrix_register(synapse, f"{who}{n}") for who in ("community", "alice")}


def room(base: str, owner: str, members: list[str], alias: str) -> str:
    room_id = str(
        api(base, owner, "POST", "/createRoom", {"preset": "public_chat", "room_alias_name": alias})["room_id"]
    )
    for token in members:
        api(base, token, "POST", f"/join/{room_id}", {})
    return room_id


async def test_support_room_backfill_then_exactly_once_and_resume(synapse: str, people: dict[str, Any]) -> None:
    (_, me_tok), (_, alice) = people["community"], people["alice"]
    alias = f"support{next(_names)}"
    rid = room(synapse, alice, [me_tok], alias)
    for text in ("my notes vanished", "also sync is slow", "and export fails"):
        say(synapse, alice, rid, text)
    ch = channel(synapse, me_tok, rooms=[f"#{alias}:cminbox.test"], support_rooms=[f"#{alias}:cminbox.test"])
    first = await ch.poll(None)
    assert [m.text for m in first.messages] == ["my notes vanished", "also sync is slow", "and export fails"]
    m = first.messages[0]
    assert m.kind == Kind.COMMENT and m.url.startswith("https://matrix.to/#/") and m.extra["room_id"] == rid
    assert (await ch.poll(first.cursor)).messages == []
    say(synapse, alice, rid, "hello again")
    restarted = channel(synapse, me_tok, rooms=[rid], support_rooms=[rid])  # a restart resumes from `since`
    again = await restarted.poll(first.cursor)
    assert [m.text for m in again.messages] == ["hello again"]
    await ch.aclose()
    await restarted.aclose()


async def test_mentions_and_keywords_elsewhere(synapse: str, people: dict[str, Any]) -> None:
    (me, me_tok), (_, alice) = people["community"], people["alice"]
    rid = room(synapse, alice, [me_tok], f"general{next(_names)}")
    ch = channel(synapse, me_tok, rooms=[rid], keywords=["lumen"], backfill=0)
    cursor = (await ch.poll(None)).cursor
    say(synapse, alice, rid, "good morning all")
    say(synapse, alice, rid, f"hey {me} can you help?")
    say(synapse, alice, rid, "Lumen crashed on start")
    found = (await ch.poll(cursor)).messages
    assert [(m.text, m.kind) for m in found] == [
        (f"hey {me} can you help?", Kind.MENTION),
        ("Lumen crashed on start", Kind.COMMENT),
    ]
    await ch.aclose()


async def test_reply_in_thread_is_idempotent_by_transaction_id(synapse: str, people: dict[str, Any]) -> None:
    (_, me_tok), (_, alice) = people["community"], people["alice"]
    rid = room(synapse, alice, [me_tok], f"threads{next(_names)}")
    ch = channel(synapse, me_tok, rooms=[rid], support_rooms=[rid], backfill=0)
    cursor = (await ch.poll(None)).cursor
    root = say(synapse, alice, rid, "the iOS app freezes")
    say(synapse, alice, rid, "on 17.2 only", {"rel_type": "m.thread", "event_id": root})
    found = {m.text: m for m in (await ch.poll(cursor)).messages}
    in_thread = found["on 17.2 only"]
    assert in_thread.thread_id == found["the iOS app freezes"].id == f"matrix:{root}"
    first = await ch.reply(in_thread, "Thanks, looking into it", "cminbox-item-42")
    retry = await ch.reply(in_thread, "Thanks, looking into it", "cminbox-item-42")
    assert retry.native_id == first.native_id  # the homeserver dedups the transaction id
    event = api(synapse, me_tok, "GET", f"/rooms/{rid}/event/{first.native_id}")
    relates = event["content"]["m.relates_to"]
    assert relates["rel_type"] == "m.thread" and relates["event_id"] == root
    assert relates["m.in_reply_to"]["event_id"] == in_thread.native_id
    history = api(synapse, me_tok, "GET", f"/rooms/{rid}/messages?dir=b&limit=20")["chunk"]
    assert sum(1 for e in history if e.get("content", {}).get("body") == "Thanks, looking into it") == 1
    await ch.aclose()


async def test_unknown_token_forbidden_redaction_and_allowed_redaction(synapse: str, people: dict[str, Any]) -> None:
    (_, me_tok), (_, alice) = people["community"], people["alice"]
    with pytest.raises(AuthFailed, match="M_UNKNOWN_TOKEN"):
        await channel(synapse, "syt_bogus").poll(None)
    theirs = room(synapse, alice, [me_tok], f"theirs{next(_names)}")  # alice's room: we have no power
    ours = room(synapse, me_tok, [alice], f"ours{next(_names)}")  # our room: we moderate
    for rid in (theirs, ours):
        say(synapse, alice, rid, "buy cheap watches")
    ch = channel(synapse, me_tok, rooms=[theirs, ours], support_rooms=[theirs, ours])
    spam = {m.extra["room_id"]: m for m in (await ch.poll(None)).messages}
    with pytest.raises(Rejected, match="M_FORBIDDEN"):
        await ch.moderate(spam[theirs], "redact", "spam")
    await ch.moderate(spam[ours], "redact", "spam")
    event = api(synapse, me_tok, "GET", f"/rooms/{ours}/event/{spam[ours].native_id}")
    assert event["content"] == {} and event["unsigned"]["redacted_because"]["content"]["reason"] == "spam"
    await ch.aclose()


@respx.mock
async def test_limit_exceeded_uses_retry_after_ms() -> None:
    respx.get("https://hs.example/_matrix/client/v3/account/whoami").mock(
        return_value=httpx.Response(429, json={"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 1500})
    )
    with pytest.raises(RateLimited) as info:
        await channel("https://hs.example", "t").poll(None)
    assert (info.value.retry_at - T0).total_seconds() == 1.5


@respx.mock
async def test_garbage_sync_degrades_with_a_reason() -> None:
    respx.get("https://hs.example/_matrix/client/v3/account/whoami").mock(
        return_value=httpx.Response(200, json={"user_id": "@c:hs.example"})
    )
    respx.get("https://hs.example/_matrix/client/v3/sync").mock(
        return_value=httpx.Response(502, text="<html>Bad gateway</html>")
    )
    with pytest.raises(Exception, match="server error 502"):
        await channel("https://hs.example", "t").poll(None)


def test_cli_password_login_keeps_only_the_token_then_poll_and_reply(synapse: str, tmp_path: Any) -> None:
    """As a user would: `cminbox login --password` (token into the keyring), poll, list, reply."""
    n = next(_names)
    me, _ = matrix_register(synapse, f"desk{n}", "desk-password")
    _, alice = matrix_register(synapse, f"visitor{n}")
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[[channels]]\nname = "matrix"\ntype = "matrix"\nurl = "{synapse}"\naccount = "{me}"\nsupport_rooms = []\n'
    )
    keyring_file = tmp_path / "keyring.json"
    env = cli_env(
        CMINBOX_CONFIG=str(cfg),
        CMINBOX_DATA_DIR=str(tmp_path / "data"),
        CMINBOX_PASSWORD="desk-password",
        PYTHON_KEYRING_BACKEND="tests.memkeyring.SharedTestKeyring",
        CMINBOX_TEST_KEYRING=str(keyring_file),
    )
    login = run_cli("login", "matrix", "--password", "--from-env", env=env)
    assert login.returncode == 0, login.stdout + login.stderr
    assert f"authorised as {me}" in login.stdout and "desk-password" not in keyring_file.read_text()
    rid = room(synapse, alice, [], f"desk{n}")
    api(synapse, alice, "POST", f"/rooms/{rid}/invite", {"user_id": me})
    token = json.loads(keyring_file.read_text())["cminbox"]["matrix"]
    api(synapse, token, "POST", f"/join/{rid}", {})
    say(synapse, alice, rid, f"{me}: the export button does nothing")
    assert run_cli("poll", "--once", env=env).returncode == 0
    [item] = json.loads(run_cli("list", "--json", env=env).stdout)
    assert item["text"].endswith("the export button does nothing")
    replied = run_cli("reply", item["id"], "--text", "Fixed in 4.2.2", env=env)
    assert replied.returncode == 0, replied.stdout + replied.stderr
    history = api(synapse, alice, "GET", f"/rooms/{rid}/messages?dir=b&limit=10")["chunk"]
    mine = [e["content"]["body"] for e in history if e["sender"] == me and e["type"] == "m.room.message"]
    assert mine == ["Fixed in 4.2.2"]
