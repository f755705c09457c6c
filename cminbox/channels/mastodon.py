"""Mastodon (and API-compatible servers: GoToSocial, Akkoma, the cminbox demo server).

Polls ``GET /api/v1/notifications?types[]=mention``: replies to the account and direct
messages arrive as mentions too. The cursor is the newest notification id seen; each
poll walks forward with ``min_id`` until it has caught up, so a poll after downtime
fetches everything missed exactly once. Replies use an ``Idempotency-Key`` so a retry
after a crash can never post twice.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx
import msgspec
from dateutil import parser as dateparser

from cminbox.channels.auth import bearer_client
from cminbox.channels.declared.mastodon import DECLARATION
from cminbox.channels.declared.mastodon import MastodonOptions as MastodonOptions
from cminbox.core import http
from cminbox.core.channel import (
    MALFORMED,
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
from cminbox.core.html_text import html_to_text
from cminbox.core.models import Author, Kind, Message, message_id, utc
from cminbox.core.text import graphemes, sanitize

VISIBILITY_ORDER = ("public", "unlisted", "private", "direct")  # widest first
MAX_PAGES_PER_POLL = 25
URL_LENGTH = 23  # what Mastodon counts for any link, whatever its length
# A link as Mastodon's extractor (twitter-text) finds one: a scheme, a host with a dotted name
# and a top-level domain of letters, then anything up to a space; punctuation that ends a
# sentence is not the link's.
_URL = re.compile(r"https?://(?:[\w-]+\.)+[^\W\d_]{2,}(?::\d+)?(?:[/?#]\S*)?", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\"…"
# Account::MENTION_RE: "@user" or "@user@domain", not inside a word or a link's path.
_MENTION = re.compile(r"(?<![=/\w])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@[\w.-]+\w)?", re.IGNORECASE)


def _id_key(native: str) -> tuple[int, str]:
    """Mastodon ids are numeric strings of varying length: compare by length, then text."""
    return (len(native), native)


def narrower(a: str, b: str) -> str:
    ia = VISIBILITY_ORDER.index(a) if a in VISIBILITY_ORDER else len(VISIBILITY_ORDER) - 1
    ib = VISIBILITY_ORDER.index(b) if b in VISIBILITY_ORDER else len(VISIBILITY_ORDER) - 1
    return VISIBILITY_ORDER[max(ia, ib)]


def status_length(body: str) -> int:
    """A status's length as Mastodon counts it (its StatusLengthValidator): in graphemes, every
    link as 23 characters whatever its length, and a mention of another server's account as
    "@user" (the domain is free). A long link or a typed remote mention was counted in full,
    which refused replies Mastodon takes (new-user trial of 2026-12-01)."""

    def link(match: re.Match[str]) -> str:
        url = match.group(0)
        kept = url.rstrip(_TRAILING)
        return "x" * URL_LENGTH + url[len(kept) :]

    countable = _MENTION.sub(lambda m: "@" + m.group(1), _URL.sub(link, body))
    return graphemes(countable)


class MastodonChannel:
    type_name: ClassVar[str] = DECLARATION.type_name
    capabilities: ClassVar[Capabilities] = DECLARATION.capabilities
    Options: ClassVar[type[msgspec.Struct]] = MastodonOptions
    traits: ClassVar[ChannelTraits] = DECLARATION.traits

    def __init__(self, ctx: ChannelContext) -> None:
        self.ctx = ctx
        self.options: MastodonOptions = ctx.options if isinstance(ctx.options, MastodonOptions) else MastodonOptions()
        self._client: httpx.AsyncClient | None = None
        self._me: Identity | None = None
        self._host = urlsplit(ctx.url).hostname or "local"

    # ------------------------------------------------------------------ plumbing
    async def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = await bearer_client(self.ctx)
        return self._client

    async def _get(self, url: str, what: str, **params: Any) -> tuple[Any, httpx.Response]:
        client = await self._http()
        response = await http.request(client, "GET", url, self.ctx.clock, what, params=params or None)
        return http.json_body(response, what), response

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def whoami(self) -> Identity:
        if self._me is None:
            body, _ = await self._get("/api/v1/accounts/verify_credentials", "verify credentials")
            if not isinstance(body, dict) or not body.get("id"):
                raise BadResponse("verify credentials: response has no account id")
            self._me = Identity(
                id=str(body["id"]), handle=self._handle(str(body.get("acct", "")), str(body.get("url") or ""))
            )
        return self._me

    def _handle(self, acct: str, profile_url: str = "") -> str:
        """A full @user@domain handle; local accounts take the domain of their profile URL."""
        acct = sanitize(acct, single_line=True).lstrip("@")
        if "@" in acct:
            return "@" + acct
        host = urlsplit(profile_url).hostname if profile_url else None
        return f"@{acct}@{host or self._host}"

    def _strip_own_mention(self, text: str, me: Identity) -> str:
        """Drop the leading @-mention of our own account: every item has it, it says nothing."""
        own = me.handle.lstrip("@").split("@")[0].lower()
        words = text.split(" ", 1)
        if words and words[0].lower().lstrip("@").split("@")[0] == own and words[0].startswith("@"):
            return words[1] if len(words) > 1 else ""
        return text

    # ------------------------------------------------------------------ conversion
    def _message(self, status: dict[str, Any], me: Identity, notification_id: str = "") -> Message:
        account = status["account"]
        native = str(status["id"])
        visibility = str(status.get("visibility") or "public")
        reply_to = status.get("in_reply_to_id")
        if visibility == "direct":
            kind = Kind.DIRECT
        elif reply_to and str(status.get("in_reply_to_account_id") or "") == me.id:
            kind = Kind.REPLY
        else:
            kind = Kind.MENTION
        text = self._strip_own_mention(html_to_text(str(status.get("content") or "")), me)
        if status.get("spoiler_text"):
            text = f"CW: {sanitize(str(status['spoiler_text']), single_line=True)}\n\n{text}"
        extra = {"account_id": str(account["id"]), "acct": str(account.get("acct", ""))}
        if notification_id:
            extra["notification_id"] = notification_id
        parent = message_id(self.ctx.name, str(reply_to)) if reply_to else ""
        return Message(
            id=message_id(self.ctx.name, native),
            channel=self.ctx.name,
            channel_type=self.type_name,
            native_id=native,
            kind=kind,
            author=Author(
                id=str(account["id"]),
                handle=self._handle(
                    str(account.get("acct") or account.get("username") or ""), str(account.get("url") or "")
                ),
                display_name=sanitize(str(account.get("display_name") or ""), single_line=True),
                url=str(account.get("url") or ""),
            ),
            text=text,
            created_at=utc(dateparser.isoparse(str(status["created_at"]))),
            url=str(status.get("url") or status.get("uri") or ""),
            thread_id=message_id(self.ctx.name, str(reply_to)) if reply_to else message_id(self.ctx.name, native),
            parent_id=parent,
            visibility=visibility,
            extra=extra,
        )

    def _convert_page(self, page: Any, me: Identity) -> tuple[list[Message], list[str], int]:
        """Messages, all notification ids seen (for the cursor), and how many were malformed."""
        if not isinstance(page, list):
            raise BadResponse("notifications: expected a JSON array")
        messages: list[Message] = []
        ids: list[str] = []
        skipped = 0
        for note in page:
            if not isinstance(note, dict) or not note.get("id"):
                skipped += 1
                continue
            ids.append(str(note["id"]))
            status = note.get("status")
            if note.get("type") != "mention" or not isinstance(status, dict):
                continue
            try:
                messages.append(self._message(status, me, str(note["id"])))
            except MALFORMED:
                skipped += 1
        return messages, ids, skipped

    # ------------------------------------------------------------------ the protocol
    async def poll(self, cursor: dict[str, Any] | None) -> PollResult:
        me = await self.whoami()
        limit = max(1, min(80, self.options.page_size))
        base = {"types[]": "mention", "limit": limit}
        messages: list[Message] = []
        skipped = 0
        problem = ""
        newest = (cursor or {}).get("min_id")
        if newest:
            # Walk forward from the cursor: each page holds the items just after min_id.
            for _ in range(MAX_PAGES_PER_POLL):
                page, _resp = await self._get("/api/v1/notifications", "notifications", **base, min_id=newest)
                got, ids, bad = self._convert_page(page, me)
                messages += got
                skipped += bad
                if not ids:
                    break
                ahead = max(ids, key=_id_key)
                if _id_key(ahead) <= _id_key(newest):
                    break  # the server ignored min_id: asking again would return the same page
                newest = ahead
                if len(page) < limit:
                    break
        else:
            # First use: the newest page, plus older pages as configured, following Link rel="next".
            url: str | None = "/api/v1/notifications"
            params: dict[str, Any] | None = base
            pages = http.Pages((await self._http()).base_url, "notifications")
            for _ in range(max(1, self.options.backfill_pages)):
                if url is None:
                    break
                page, resp = await self._get(url, "notifications", **(params or {}))
                got, ids, bad = self._convert_page(page, me)
                messages += got
                skipped += bad
                if ids and (newest is None or _id_key(max(ids, key=_id_key)) > _id_key(newest)):
                    newest = max(ids, key=_id_key)
                url, params = pages.next(resp), None
            problem = pages.problem
            # An empty inbox on first use: start from the very beginning, so the first mentions
            # that arrive later are all fetched (not just the newest page of them).
            newest = newest or "0"
        return PollResult(messages=messages, cursor={"min_id": newest}, skipped=skipped, error=problem)

    async def thread(self, message: Message) -> list[Message]:
        me = await self.whoami()
        # A server's id, one path segment whatever it holds ("1016/../../x" asked another
        # endpoint with the token: hostile-data trial of 2026-12-01).
        body, _ = await self._get(f"/api/v1/statuses/{http.segment(message.native_id)}/context", "thread context")
        if not isinstance(body, dict):
            raise BadResponse("thread context: expected a JSON object")
        out = [message]
        around = [body.get("ancestors"), body.get("descendants")]
        for status in [status for side in around if isinstance(side, list) for status in side]:
            try:
                msg = self._message(status, me)
            except MALFORMED:
                continue
            kind = msg.kind if me.handle in msg.text or msg.kind == Kind.DIRECT else Kind.POST
            out.append(msgspec.structs.replace(msg, kind=kind))
        return sorted(out, key=lambda m: (m.created_at, _id_key(m.native_id)))

    @classmethod
    def outgoing_reply(cls, message: Message, text: str, options: msgspec.Struct | None) -> OutgoingReply:
        """The exact status a reply posts: the author's @mention first (unless the text already
        has it), with the narrower of the item's and the configured visibility."""
        opts = options if isinstance(options, MastodonOptions) else MastodonOptions()
        acct = message.extra.get("acct") or message.author.handle.lstrip("@")
        mention = "@" + acct.lstrip("@")
        has_mention = mention.lower() in text.lower()
        body = text if has_mention else f"{mention} {text}"
        return OutgoingReply(
            text=body,
            length=status_length(body),
            limit=cls.capabilities.reply_limit,
            visibility=narrower(message.visibility or "public", opts.reply_visibility),
            added="" if has_mention else f"the {mention} mention",
        )

    async def reply(self, message: Message, text: str, idempotency_key: str) -> ReplyReceipt:
        out = self.outgoing_reply(message, text, self.options)
        if out.too_long:
            raise Rejected(out.refusal(self.type_name))
        fields = {"status": out.text, "in_reply_to_id": message.native_id, "visibility": out.visibility}
        return await self._post_status("post reply", fields, idempotency_key)

    async def _post_status(self, what: str, fields: dict[str, str], idempotency_key: str) -> ReplyReceipt:
        """POST a status; the key makes a retry after a crash the same status, never a second."""
        client = await self._http()
        response = await http.request(
            client,
            "POST",
            "/api/v1/statuses",
            self.ctx.clock,
            what,
            json=fields,
            headers={"Idempotency-Key": idempotency_key},
        )
        status = http.json_body(response, what)
        if not isinstance(status, dict) or not status.get("id"):
            raise BadResponse(f"{what}: response has no status id")
        return ReplyReceipt(native_id=str(status["id"]), url=str(status.get("url") or status.get("uri") or ""))

    @classmethod
    def outgoing_direct(cls, message: Message, text: str, options: msgspec.Struct | None) -> OutgoingReply:
        """A direct message is a status of visibility ``direct`` that mentions the author (the
        mention is who receives it): the reply's text and count, never a wider visibility."""
        return msgspec.structs.replace(cls.outgoing_reply(message, text, options), visibility="direct")

    async def direct_message(self, message: Message, text: str, idempotency_key: str) -> ReplyReceipt:
        """Not threaded under the post: the post may be gone, and the message stands alone."""
        out = self.outgoing_direct(message, text, self.options)
        if out.too_long:
            raise Rejected(out.refusal(self.type_name))
        return await self._post_status("direct message", {"status": out.text, "visibility": "direct"}, idempotency_key)

    async def moderate(self, message: Message, action: str, reason: str) -> None:
        client = await self._http()
        account_id = message.extra.get("account_id") or message.author.id
        if action == "report":
            await http.request(
                client,
                "POST",
                "/api/v1/reports",
                self.ctx.clock,
                "report",
                json={
                    "account_id": account_id,
                    "status_ids": [message.native_id],
                    "comment": reason[:1000],
                    "category": "other",
                },
            )
        elif action in ("mute", "block"):
            path = f"/api/v1/accounts/{http.segment(account_id)}/{action}"
            await http.request(client, "POST", path, self.ctx.clock, action)
        else:
            raise Rejected(f"mastodon cannot {action!r}; it can {', '.join(self.capabilities.moderation)}")
