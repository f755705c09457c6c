"""Bluesky (the AT Protocol) through a PDS: notifications in, posts as replies out.

Login is an app password exchanged once for session tokens (``cminbox login NAME
--password``); the keyring keeps the session (access and refresh JWTs, DID), never the
password, and an expired access token is refreshed with ``refreshSession`` and saved back.
Polls ``app.bsky.notification.listNotifications`` (mentions, replies, quotes) newest
first down to the last one seen, then marks them seen with ``updateSeen``. A reply is a
``com.atproto.repo.createRecord`` of an ``app.bsky.feed.post`` with ``reply.root`` and
``reply.parent`` strong refs and mention facets (UTF-8 byte offsets); its record key is
derived from the outbox item, so a retry finds the record already there and posts nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from datetime import UTC
from typing import Any, ClassVar

import httpx
import msgspec
from dateutil import parser as dateparser

from cminbox.channels.declared.bluesky import DECLARATION
from cminbox.channels.declared.bluesky import LIMIT as LIMIT
from cminbox.channels.declared.bluesky import BlueskyOptions as BlueskyOptions
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
    Rejected,
    ReplyReceipt,
)
from cminbox.core.models import Author, Kind, Message, message_id, utc
from cminbox.core.redact import redactor
from cminbox.core.text import graphemes as graphemes
from cminbox.core.text import sanitize

REASONS = {"mention": Kind.MENTION, "reply": Kind.REPLY, "quote": Kind.MENTION}
MAX_PAGES = 10
_TID_CHARS = "234567abcdefghijklmnopqrstuvwxyz"
_MENTION = re.compile(rb"(?:^|\W)(@([a-zA-Z0-9.-]+\.[a-zA-Z]{2,}))")


def tid_for(key: str) -> str:
    """A record key in the TID format, derived from ``key`` (the same outbox item → the same
    key). 13 base32-sortable characters: a 53-bit microsecond time and a 10-bit clock id."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    # A plausible time (2023-2033) keeps it a valid TID; the low bits keep it unique per key.
    micros = 1_672_531_200_000_000 + digest % 315_360_000_000_000
    value = (micros << 10) | (digest >> 54)
    return "".join(_TID_CHARS[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def mention_facets(text: str, resolve: dict[str, str]) -> list[dict[str, Any]]:
    """Facets for @handles in ``text`` that resolved to a DID, with UTF-8 byte offsets."""
    data = text.encode()
    facets = []
    for match in _MENTION.finditer(data):
        handle = match.group(2).decode()
        did = resolve.get(handle.lower())
        if did:
            facets.append(
                {
                    "index": {"byteStart": match.start(1), "byteEnd": match.end(1)},
                    "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}],
                }
            )
    return facets


class BlueskyChannel:
    type_name: ClassVar[str] = DECLARATION.type_name
    capabilities: ClassVar[Capabilities] = DECLARATION.capabilities
    Options: ClassVar[type[msgspec.Struct]] = BlueskyOptions
    traits: ClassVar[ChannelTraits] = DECLARATION.traits

    def __init__(self, ctx: ChannelContext) -> None:
        self.ctx = ctx
        self.options: BlueskyOptions = ctx.options if isinstance(ctx.options, BlueskyOptions) else BlueskyOptions()
        self._client = http.make_client(ctx.url, transport=ctx.transport)
        self._session: dict[str, str] | None = None

    # ------------------------------------------------------------------ session
    async def _load_session(self) -> dict[str, str]:
        if self._session is None:
            secret = await self.ctx.token()
            if not secret:
                raise AuthFailed(f"no session for {self.ctx.name!r}: run `cminbox login {self.ctx.name} --password`")
            try:
                session = json.loads(secret)
                assert isinstance(session, dict) and session.get("accessJwt") and session.get("did")
            except (ValueError, AssertionError):
                raise AuthFailed(
                    f"the stored secret for {self.ctx.name!r} is not a Bluesky session: "
                    f"run `cminbox login {self.ctx.name} --password` (an app password, exchanged once)"
                ) from None
            self._remember(session)
            self._session = session
        return self._session

    @staticmethod
    def _remember(session: dict[str, Any]) -> None:
        """The JWTs inside the session are secrets on their own: a server may echo either."""
        for key in ("accessJwt", "refreshJwt"):
            if isinstance(session.get(key), str):
                redactor.add(session[key])

    async def password_login(self, user: str, password: str) -> str:
        redactor.add(password)
        body = await self._xrpc(
            "POST", "com.atproto.server.createSession", "log in", json={"identifier": user, "password": password}
        )
        return self._keep(body)

    def _keep(self, body: Any) -> str:
        if not isinstance(body, dict) or not all(
            isinstance(body.get(k), str) for k in ("accessJwt", "refreshJwt", "did")
        ):
            raise BadResponse("session: the answer lacks accessJwt, refreshJwt or did")
        if not (http.is_token(body["accessJwt"]) and http.is_token(body["refreshJwt"])):
            raise BadResponse("session: the tokens in the answer are not valid tokens")
        self._remember(body)
        self._session = {
            k: body[k] for k in ("accessJwt", "refreshJwt", "did", "handle") if isinstance(body.get(k), str)
        }
        return json.dumps(self._session)

    async def _refresh(self) -> None:
        session = await self._load_session()
        body = await self._xrpc(
            "POST", "com.atproto.server.refreshSession", "refresh session", token=session["refreshJwt"]
        )
        secret = self._keep(body)
        if self.ctx.save_token is not None:
            await self.ctx.save_token(secret)

    async def _xrpc(
        self, method: str, nsid: str, what: str, *, token: str | None = None, auth: bool = False, **kwargs: Any
    ) -> Any:
        for attempt in range(2):
            headers = {}
            if auth:
                token = (await self._load_session())["accessJwt"]
            if token:
                headers["Authorization"] = f"Bearer {token}"
            response = await http.send(self._client, method, f"/xrpc/{nsid}", what, headers=headers, **kwargs)
            error = _error_name(response)
            if auth and attempt == 0 and error == "ExpiredToken":
                await self._refresh()
                continue
            if error in ("ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthFactorTokenRequired"):
                raise AuthFailed(f"{what}: {error}; run `cminbox login {self.ctx.name} --password`")
            error = http.server_text(error, 80)
            if response.status_code == 400 and error:
                raise Rejected(f"{what}: {error}: {http.short_error(response)}")
            http.check(response, self.ctx.clock, what)
            return http.json_body(response, what) if response.content else {}
        raise AuthFailed(f"{what}: the session could not be refreshed")

    async def aclose(self) -> None:
        await self._client.aclose()

    async def whoami(self) -> Identity:
        # The PDS's own session call: the AppView may not have indexed a new account yet.
        body = await self._xrpc("GET", "com.atproto.server.getSession", "who am I", auth=True)
        if not isinstance(body, dict) or not isinstance(body.get("did"), str):
            raise BadResponse("who am I: no did in the answer")
        return Identity(id=body["did"], handle="@" + str(body.get("handle", "")))

    # ------------------------------------------------------------------ polling
    async def poll(self, cursor: dict[str, Any] | None) -> PollResult:
        newest_seen = (cursor or {}).get("newest", "")
        items: list[dict[str, Any]] = []
        page_cursor = None
        cursors_read: set[str] = set()
        problem = ""
        newest = newest_seen
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"limit": self.options.page_size}
            if page_cursor:
                params["cursor"] = page_cursor
            body = await self._xrpc("GET", "app.bsky.notification.listNotifications", "poll", auth=True, params=params)
            page = body.get("notifications") if isinstance(body, dict) else None
            if not isinstance(page, list):
                raise BadResponse("poll: no notifications list in the answer")
            fresh = [n for n in page if isinstance(n, dict) and str(n.get("indexedAt", "")) > newest_seen]
            taken = {str(n.get("uri")) for n in items}
            items += [n for n in fresh if str(n.get("uri")) not in taken]  # a page served twice adds nothing
            newest = max([newest, *(str(n.get("indexedAt", "")) for n in fresh)])
            page_cursor = body.get("cursor")
            if len(fresh) < len(page) or not page_cursor:
                break  # reached what the last poll saw
            if not isinstance(page_cursor, str) or page_cursor in cursors_read:
                problem = "poll: the server's next-page cursor repeats a page already read; stopped there"
                break
            cursors_read.add(page_cursor)
        messages, skipped = [], 0
        for note in items:
            reason = note.get("reason")
            if not isinstance(reason, str) or reason not in REASONS:  # a list here was a TypeError
                continue
            try:
                messages.append(self._message(note["record"], note, REASONS[note["reason"]]))
            except MALFORMED:
                skipped += 1
        if self.options.mark_seen and items:
            await self._xrpc(
                "POST", "app.bsky.notification.updateSeen", "mark seen", auth=True, json={"seenAt": newest}
            )
        return PollResult(messages=messages, cursor={"newest": newest}, skipped=skipped, error=problem)

    def _message(self, record: dict[str, Any], post: dict[str, Any], kind: Kind) -> Message:
        uri, author = str(post["uri"]), post["author"]
        reply = record.get("reply") or {}
        root = (reply.get("root") or {}).get("uri", "")
        parent = reply.get("parent") or {}
        handle = sanitize(str(author.get("handle", "")), single_line=True)
        rkey = uri.rsplit("/", 1)[-1]
        return Message(
            id=message_id(self.ctx.name, uri),
            channel=self.ctx.name,
            channel_type="bluesky",
            native_id=uri,
            kind=kind,
            author=Author(
                id=str(author["did"]),
                handle="@" + handle,
                display_name=sanitize(str(author.get("displayName") or ""), single_line=True),
                url=f"https://bsky.app/profile/{handle}",
            ),
            text=sanitize(str(record.get("text", ""))),
            created_at=utc(dateparser.isoparse(str(record.get("createdAt") or post.get("indexedAt")))),
            url=f"https://bsky.app/profile/{handle}/post/{rkey}",
            thread_id=message_id(self.ctx.name, root or uri),
            parent_id=message_id(self.ctx.name, parent["uri"]) if parent.get("uri") else "",
            visibility="public",
            extra={
                "cid": str(post["cid"]),
                "root_uri": root or uri,
                "root_cid": str((reply.get("root") or {}).get("cid") or post["cid"]),
            },
        )

    async def thread(self, message: Message) -> list[Message]:
        body = await self._xrpc(
            "GET", "app.bsky.feed.getPostThread", "thread", auth=True, params={"uri": message.native_id, "depth": 6}
        )
        found: list[Message] = []

        def walk(node: Any, up: bool) -> None:
            if not isinstance(node, dict) or not isinstance(node.get("post"), dict):
                return
            post = node["post"]
            with contextlib.suppress(*MALFORMED):  # a null author or record was an AttributeError
                found.append(self._message(post["record"], post, Kind.REPLY))
            if up:  # ancestors only: their other replies are side branches
                walk(node.get("parent"), True)
                return
            replies = node.get("replies")
            for child in replies if isinstance(replies, list) else []:
                walk(child, False)

        thread = body.get("thread") if isinstance(body, dict) else None
        thread = thread if isinstance(thread, dict) else {}  # (-1 here was an AttributeError)
        walk(thread, False)
        walk(thread.get("parent"), True)
        unique = {m.id: m for m in found}
        return sorted(unique.values(), key=lambda m: m.created_at) or [message]

    # ------------------------------------------------------------------ replying
    @classmethod
    def outgoing_reply(cls, message: Message, text: str, options: msgspec.Struct | None) -> OutgoingReply:
        """Posted as typed; Bluesky counts graphemes (an emoji sequence is one)."""
        return OutgoingReply(text=text, length=graphemes(text), limit=LIMIT, unit="graphemes")

    async def reply(self, message: Message, text: str, idempotency_key: str) -> ReplyReceipt:
        out = self.outgoing_reply(message, text, self.options)
        if out.too_long:
            raise Rejected(out.refusal(self.type_name))
        session = await self._load_session()
        rkey = tid_for(idempotency_key)
        collection = "app.bsky.feed.post"
        existing = await self._existing(session["did"], collection, rkey)
        if existing is not None:
            return existing  # the same outbox item already posted it (a retry after a crash)
        handles = {h.decode().lower() for _, h in _MENTION.findall(text.encode())}
        resolved: dict[str, str] = {}
        for handle in handles:
            try:
                body = await self._xrpc(
                    "GET", "com.atproto.identity.resolveHandle", "resolve", auth=True, params={"handle": handle}
                )
                resolved[handle] = str(body["did"])
            except (Rejected, KeyError, TypeError):
                continue  # not a known handle: left as plain text
        record: dict[str, Any] = {
            "$type": collection,
            "text": text,
            "createdAt": self.ctx.clock().astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "reply": {
                "root": {"uri": message.extra.get("root_uri", message.native_id), "cid": message.extra.get("root_cid")},
                "parent": {"uri": message.native_id, "cid": message.extra.get("cid")},
            },
        }
        facets = mention_facets(text, resolved)
        if facets:
            record["facets"] = facets
        body = await self._xrpc(
            "POST",
            "com.atproto.repo.createRecord",
            "reply",
            auth=True,
            json={"repo": session["did"], "collection": collection, "rkey": rkey, "record": record},
        )
        return self._receipt(body, session)

    async def _existing(self, did: str, collection: str, rkey: str) -> ReplyReceipt | None:
        try:
            body = await self._xrpc(
                "GET",
                "com.atproto.repo.getRecord",
                "check for an earlier attempt",
                auth=True,
                params={"repo": did, "collection": collection, "rkey": rkey},
            )
        except Rejected:
            return None  # RecordNotFound: never posted
        return self._receipt(body, await self._load_session())

    def _receipt(self, body: Any, session: dict[str, str]) -> ReplyReceipt:
        if not isinstance(body, dict) or not isinstance(body.get("uri"), str):
            raise BadResponse("reply: no uri in the answer")
        rkey = body["uri"].rsplit("/", 1)[-1]
        return ReplyReceipt(
            native_id=body["uri"], url=f"https://bsky.app/profile/{session.get('handle', '')}/post/{rkey}"
        )

    async def moderate(self, message: Message, action: str, reason: str) -> None:
        raise Rejected("Bluesky moderation (reports, mutes) is not supported yet")


def _error_name(response: httpx.Response) -> str:
    if response.status_code < 400:
        return ""
    try:
        body = http.parsed_json(response)
    except ValueError:
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""
