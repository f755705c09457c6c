"""Matrix rooms (any homeserver: Synapse, Dendrite, Conduit) through the client-server API.

Polls ``/sync`` with a persisted ``since`` token and a filter for the watched rooms, so a
restart resumes without re-ingesting; a room seen for the first time is backfilled with
its last ``backfill`` messages through ``/messages``. Items: every message in a support
room, and elsewhere messages that mention the account or a keyword. Replies are rich
replies (``m.in_reply_to``), inside the thread when the message is in one, sent with
``PUT .../send/m.room.message/{txnId}`` where the txnId is the outbox item's key: the
homeserver answers a retry with the same event instead of posting twice.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
import msgspec

from cminbox.channels.auth import bearer_client
from cminbox.channels.declared.matrix import DECLARATION
from cminbox.channels.declared.matrix import MatrixOptions as MatrixOptions
from cminbox.core import http
from cminbox.core.channel import (
    MALFORMED,
    AuthFailed,
    BadResponse,
    Capabilities,
    ChannelContext,
    ChannelTraits,
    Identity,
    OutgoingReply,
    PollResult,
    RateLimited,
    Rejected,
    ReplyReceipt,
    plain_reply,
)
from cminbox.core.models import Author, Kind, Message, message_id
from cminbox.core.redact import redactor
from cminbox.core.text import sanitize

API = "/_matrix/client/v3"


def _q(value: str) -> str:
    return http.segment(value)


def _obj(value: Any) -> dict[str, Any]:
    """A part of an answer that should be an object: itself, or empty when it is not."""
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list[Any]:
    """A part of an answer that should be a list: itself, or empty when it is not."""
    return value if isinstance(value, list) else []


class MatrixChannel:
    type_name: ClassVar[str] = DECLARATION.type_name
    capabilities: ClassVar[Capabilities] = DECLARATION.capabilities
    Options: ClassVar[type[msgspec.Struct]] = MatrixOptions
    traits: ClassVar[ChannelTraits] = DECLARATION.traits

    def __init__(self, ctx: ChannelContext) -> None:
        self.ctx = ctx
        self.options: MatrixOptions = ctx.options if isinstance(ctx.options, MatrixOptions) else MatrixOptions()
        self._client: httpx.AsyncClient | None = None
        self._me: Identity | None = None
        self._aliases: dict[str, str] = {}
        self._names: dict[str, str] = {}  # user id -> display name, from member events seen

    # ------------------------------------------------------------------ plumbing
    async def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = await bearer_client(self.ctx)
        return self._client

    async def _call(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        client = await self._http()
        response = await http.send(client, method, API + path, what, **kwargs)
        self._check(response, what)
        return http.json_body(response, what)

    def _check(self, response: httpx.Response, what: str) -> None:
        """Matrix errors carry an errcode: map the ones that matter before the generic rules."""
        if response.status_code < 400:
            return
        try:
            body = http.parsed_json(response)
        except ValueError:
            body = {}
        code = body.get("errcode", "") if isinstance(body, dict) else ""
        if code == "M_UNKNOWN_TOKEN" or response.status_code == 401:
            raise AuthFailed(f"{what}: the homeserver rejected the access token ({code or 401}); log in again")
        if code == "M_LIMIT_EXCEEDED" or response.status_code == 429:
            wait_ms = body.get("retry_after_ms") if isinstance(body, dict) else None
            now = self.ctx.clock()
            if isinstance(wait_ms, int | float):
                when = http.after(now, wait_ms / 1000)
            else:
                when = http.retry_at(response, self.ctx.clock)
            raise RateLimited(f"{what}: rate limited (M_LIMIT_EXCEEDED) {http.until(when, now)}", when)
        if code == "M_FORBIDDEN":
            raise Rejected(f"{what}: forbidden (M_FORBIDDEN): {http.server_text(body.get('error', ''), 120)}")
        http.check(response, self.ctx.clock, what)

    async def password_login(self, user: str, password: str) -> str:
        """`cminbox login NAME --password`: exchange the password for an access token (the
        password itself is never stored)."""
        redactor.add(password)
        client = http.make_client(self.ctx.url, transport=self.ctx.transport)
        try:
            body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user}, "password": password}
            response = await http.send(client, "POST", API + "/login", "log in", json=body)
        finally:
            await client.aclose()
        if response.status_code == 403:
            raise AuthFailed("log in: wrong user name or password (M_FORBIDDEN)")
        self._check(response, "log in")
        answer = http.json_body(response, "log in")
        if not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str):
            raise BadResponse("log in: no access_token in the answer")
        if not http.is_token(answer["access_token"]):
            raise BadResponse("log in: the access_token in the answer is not a valid token")
        redactor.add(answer["access_token"])
        return str(answer["access_token"])

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def whoami(self) -> Identity:
        if self._me is None:
            body = await self._call("GET", "/account/whoami", "who am I")
            if not isinstance(body, dict) or not isinstance(body.get("user_id"), str):
                raise BadResponse("who am I: no user_id in the answer")
            self._me = Identity(id=body["user_id"], handle=body["user_id"])
        return self._me

    async def _room_id(self, room: str) -> str:
        if not room.startswith("#"):
            return room
        if room not in self._aliases:
            body = await self._call("GET", f"/directory/room/{_q(room)}", f"resolve {room}")
            if not isinstance(body, dict) or not isinstance(body.get("room_id"), str):
                raise BadResponse(f"resolve {room}: no room_id in the answer")
            self._aliases[room] = body["room_id"]
        return self._aliases[room]

    # ------------------------------------------------------------------ polling
    async def poll(self, cursor: dict[str, Any] | None) -> PollResult:
        me = await self.whoami()
        cursor = dict(cursor or {})
        watched = [await self._room_id(r) for r in self.options.rooms]
        support = {await self._room_id(r) for r in self.options.support_rooms}
        room_filter: dict[str, Any] = {"timeline": {"limit": 50, "types": ["m.room.message", "m.room.member"]}}
        if watched:
            room_filter["rooms"] = watched
        sync_filter = {
            "room": {**room_filter, "state": {"types": ["m.room.member"], "lazy_load_members": True}},
            "presence": {"types": []},
            "account_data": {"types": []},
        }
        params: dict[str, Any] = {"filter": json.dumps(sync_filter), "timeout": 0}
        if cursor.get("since"):
            params["since"] = cursor["since"]
        body = await self._call("GET", "/sync", "sync", params=params)
        if not isinstance(body, dict) or not isinstance(body.get("next_batch"), str):
            raise BadResponse("sync: no next_batch in the answer")
        seen_rooms = set(cursor.get("rooms", []))
        messages: list[Message] = []
        seen_ids: set[str] = set()
        skipped = 0
        # Every level as the spec says it is, or empty: a null timeline or a list where an
        # object goes was an internal error on every poll (hostile-server review of 2026-12-02).
        joined = _obj(_obj(body.get("rooms")).get("join"))
        for room_id, room in joined.items():
            if watched and room_id not in watched:
                continue
            events = list(_items(_obj(_obj(room).get("timeline")).get("events")))
            for state in _items(_obj(_obj(room).get("state")).get("events")):
                self._remember_name(state)
            if room_id not in seen_rooms and self.options.backfill:
                events = await self._backfill(room_id) + events
                seen_rooms.add(room_id)
            for event in events:
                self._remember_name(event)
                try:
                    msg = self._item(event, room_id, me, room_id in support)
                except MALFORMED:
                    skipped += 1
                    continue
                if msg is not None and msg.id not in seen_ids:  # backfill and timeline may overlap
                    seen_ids.add(msg.id)
                    messages.append(msg)
        new_cursor = {"since": body["next_batch"], "rooms": sorted(seen_rooms)}
        return PollResult(messages=messages, cursor=new_cursor, skipped=skipped)

    async def _backfill(self, room_id: str) -> list[dict[str, Any]]:
        params = {"dir": "b", "limit": self.options.backfill, "filter": json.dumps({"types": ["m.room.message"]})}
        body = await self._call("GET", f"/rooms/{_q(room_id)}/messages", "backfill", params=params)
        chunk = _items(_obj(body).get("chunk"))
        return list(reversed([e for e in chunk if isinstance(e, dict)]))

    def _remember_name(self, event: Any) -> None:
        if isinstance(event, dict) and event.get("type") == "m.room.member":
            name = _obj(event.get("content")).get("displayname")
            if isinstance(name, str) and isinstance(event.get("state_key"), str):
                self._names[event["state_key"]] = sanitize(name, single_line=True)

    def _item(self, event: dict[str, Any], room_id: str, me: Identity, support: bool) -> Message | None:
        if event.get("type") != "m.room.message" or event.get("sender") == me.id:
            return None
        content = event.get("content") or {}
        body = content.get("body")
        if not isinstance(body, str) or "m.new_content" in content:  # edits are not new items
            return None
        mentions = (content.get("m.mentions") or {}).get("user_ids") or []
        local = me.id.lstrip("@").split(":")[0].lower()
        lower = body.lower()
        mentioned = me.id in mentions or me.id.lower() in lower or f"@{local}" in lower
        keyword = any(k.lower() in lower for k in self.options.keywords)
        if not (support or mentioned or keyword):
            return None
        relates = content.get("m.relates_to") or {}
        # Event ids are strings; anything else a sender put there (Synapse stores what it is
        # sent) is no relation, not a message that stops the channel (review of 2026-12-01).
        reply_to = _event_id((relates.get("m.in_reply_to") or {}).get("event_id"))
        thread_root = _event_id(relates.get("event_id")) if relates.get("rel_type") == "m.thread" else ""
        event_id = str(event["event_id"])
        sender = str(event["sender"])
        text = "\n".join(line for line in body.splitlines() if not line.startswith("> ")) if reply_to else body
        return Message(
            id=message_id(self.ctx.name, event_id),
            channel=self.ctx.name,
            channel_type="matrix",
            native_id=event_id,
            kind=Kind.MENTION if mentioned else Kind.COMMENT,
            author=Author(id=sender, handle=sender, display_name=self._names.get(sender, ""), url=""),
            text=sanitize(text.strip()),
            created_at=datetime.fromtimestamp(int(event["origin_server_ts"]) / 1000, tz=UTC),
            url=f"https://matrix.to/#/{_q(room_id)}/{_q(event_id)}",
            thread_id=message_id(self.ctx.name, thread_root or reply_to or event_id),
            parent_id=message_id(self.ctx.name, reply_to) if reply_to else "",
            visibility="public",
            extra={"room_id": room_id, "event_id": event_id, "thread_root": thread_root or ""},
        )

    async def thread(self, message: Message) -> list[Message]:
        room_id, event_id = message.extra["room_id"], message.extra["event_id"]
        body = await self._call("GET", f"/rooms/{_q(room_id)}/context/{_q(event_id)}", "thread", params={"limit": 10})
        me = await self.whoami()
        body = _obj(body)  # an object, unless the server is broken (a list was an internal error)
        events = [*reversed(_items(body.get("events_before"))), body.get("event"), *_items(body.get("events_after"))]
        found = []
        for event in events:
            if isinstance(event, dict) and event.get("type") == "m.room.message":
                try:
                    item = self._item(event, room_id, me, True)
                except MALFORMED:
                    continue
                if item is not None:
                    found.append(item)
        return found or [message]

    # ------------------------------------------------------------------ replying, moderation
    @classmethod
    def outgoing_reply(cls, message: Message, text: str, options: msgspec.Struct | None) -> OutgoingReply:
        """Sent as typed (the mention is metadata, not text); no length limit."""
        return plain_reply(text, None)

    async def reply(self, message: Message, text: str, idempotency_key: str) -> ReplyReceipt:
        room_id, event_id = message.extra["room_id"], message.extra["event_id"]
        relates: dict[str, Any] = {"m.in_reply_to": {"event_id": event_id}}
        if message.extra.get("thread_root"):
            relates = {
                "rel_type": "m.thread",
                "event_id": message.extra["thread_root"],
                "is_falling_back": False,
                **relates,
            }
        content = {
            "msgtype": "m.text",
            "body": text,
            "m.relates_to": relates,
            "m.mentions": {"user_ids": [message.author.id]},
        }
        path = f"/rooms/{_q(room_id)}/send/m.room.message/{_q(idempotency_key)}"
        body = await self._call("PUT", path, "reply", json=content)
        if not isinstance(body, dict) or not isinstance(body.get("event_id"), str):
            raise BadResponse("reply: no event_id in the answer")
        return ReplyReceipt(native_id=body["event_id"], url=f"https://matrix.to/#/{_q(room_id)}/{_q(body['event_id'])}")

    async def moderate(self, message: Message, action: str, reason: str) -> None:
        if action != "redact":
            raise Rejected(f"matrix has no moderation action {action!r} (only redact)")
        room_id, event_id = message.extra["room_id"], message.extra["event_id"]
        txn = f"cminbox-redact-{event_id}".replace("$", "")
        await self._call(
            "PUT", f"/rooms/{_q(room_id)}/redact/{_q(event_id)}/{_q(txn)}", "redact", json={"reason": reason}
        )


def _event_id(value: object) -> str:
    """A relation's event id: a Matrix event id (``$...``), else none."""
    return value if isinstance(value, str) and value.startswith("$") and value.isprintable() else ""
