"""RSS and Atom feeds as a read-only channel: status pages, blogs, review or keyword-search feeds.

Each poll is one conditional GET (``If-None-Match`` / ``If-Modified-Since`` from the last
answer), so an unchanged feed costs a 304 and nothing else; a server that ignores the
validators but sends the same bytes is recognised by a digest and not parsed again.
Entries are de-duplicated by their id (``<guid>`` / ``<id>``, else the link, else a hash
of title and date); the ids already seen travel in the cursor, so an entry that stays in
the feed for weeks is delivered once. Parsing is feedparser's (RSS 0.9x-2.0, Atom 0.3/1.0,
RDF, broken-but-common variants); its output is treated as untrusted text like any other.
"""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import time
from datetime import UTC, datetime
from typing import Any, ClassVar

import feedparser
import httpx
import msgspec

from cminbox.channels.declared.feed import DECLARATION
from cminbox.channels.declared.feed import FeedOptions as FeedOptions
from cminbox.core import http
from cminbox.core.channel import (
    BadResponse,
    Capabilities,
    ChannelContext,
    ChannelTraits,
    Identity,
    OutgoingReply,
    PollResult,
    Rejected,
    ReplyReceipt,
    plain_reply,
)
from cminbox.core.html_text import html_to_text
from cminbox.core.internal_hosts import LookupFailed, inside_address, is_internal_host
from cminbox.core.models import Author, Kind, Message, message_id
from cminbox.core.text import one_line, sanitize

SEEN_KEEP = 2000  # entry ids remembered; far more than any feed carries at once
MAX_REDIRECTS = 3
MAX_TAGS = 100_000  # what a feed may hold, escaped ones included (see FeedChannel._parse)


def entry_key(entry: Any) -> str:
    key = entry.get("id") or entry.get("guid") or entry.get("link")
    if key:
        return str(key)
    basis = f"{entry.get('title', '')}\x00{entry.get('published', '') or entry.get('updated', '')}"
    return "sha256:" + hashlib.sha256(basis.encode("utf-8", "replace")).hexdigest()[:32]


def plain(value: Any) -> str:
    """A title or name as plain, inert, one-line text. Feeds put HTML in titles in every way
    there is (escaped or double-escaped entities, CDATA with tags, Atom type="html"/"xhtml"),
    and feedparser hands it back as it came: read it as HTML whatever its declared type, so
    tags go and entities (one level of double escaping included) become characters."""
    return one_line(html_to_text(str(value or "")))


def _when(entry: Any, fallback: datetime) -> datetime:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if isinstance(parsed, time.struct_time):
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return fallback


class FeedChannel:
    type_name: ClassVar[str] = DECLARATION.type_name
    capabilities: ClassVar[Capabilities] = DECLARATION.capabilities
    Options: ClassVar[type[msgspec.Struct]] = FeedOptions
    # No secret: `cminbox login` and the keyring are not needed, and since nothing secret
    # travels, a plain-http feed is allowed.
    traits: ClassVar[ChannelTraits] = DECLARATION.traits

    def __init__(self, ctx: ChannelContext) -> None:
        self.ctx = ctx
        self.options: FeedOptions = ctx.options if isinstance(ctx.options, FeedOptions) else FeedOptions()
        self._client: httpx.AsyncClient | None = None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _fetch(self, saved: dict[str, str] | None) -> httpx.Response:
        if self._client is None:
            # No token is ever sent to a feed, so its redirects (http→https, moved feeds) are
            # followed, but not from the internet into the local network (_redirect_target);
            # make_client refuses redirects for the token-carrying channels.
            self._client = http.make_client("", transport=self.ctx.transport)
        url = self.ctx.url
        for _ in range(MAX_REDIRECTS + 1):
            response = await http.send(
                self._client,
                "GET",
                url,
                "fetch feed",
                headers={
                    "Accept": "application/atom+xml, application/rss+xml, application/xml;q=0.9, */*;q=0.5",
                    **http.conditional(saved),
                },
            )
            if response.status_code in (301, 302, 303, 307, 308) and response.headers.get("Location"):
                url = self._redirect_target(response)
                await self._refuse_a_name_inside(url)
                continue
            if response.status_code in (401, 403):  # no token is sent: http.check's words are about one
                raise Rejected(
                    f"fetch feed: the server refused to serve it ({response.status_code}) at {http.safe_host(url)}"
                )
            http.check(response, self.ctx.clock, "fetch feed")
            return response
        raise BadResponse(f"fetch feed: more than {MAX_REDIRECTS} redirects")

    def _redirect_target(self, response: httpx.Response) -> str:
        """Where a redirect leads, if it may be followed: http(s) only, and into the machine or
        its local network only from a feed configured there (core/internal_hosts.py)."""
        try:
            target = response.url.join(response.headers["Location"])
        except httpx.InvalidURL:
            raise BadResponse("fetch feed: the server redirected to an invalid address") from None
        if target.scheme not in ("http", "https"):
            raise BadResponse("fetch feed: the server redirected to an address that is not http(s); not followed")
        host = target.host
        if is_internal_host(host) and not is_internal_host(httpx.URL(self.ctx.url).host):
            raise BadResponse(
                f"fetch feed: the server redirected to {http.safe_host(target)}, inside the local network;"
                " not followed (configure that address as `url` if it is really the feed)"
            )
        return str(target)

    async def _refuse_a_name_inside(self, url: str) -> None:
        """A redirect to a public-looking name whose address is inside the machine or its
        network (``127.0.0.1.nip.io``) is refused like one to the address itself, unless the
        feed is configured there (core/internal_hosts.py: what this does not cover)."""
        target = httpx.URL(url)
        if is_internal_host(httpx.URL(self.ctx.url).host):
            return
        port = target.port or (443 if target.scheme == "https" else 80)
        try:
            # The name as the connection sends it (``xn--`` for an international one): ``host``
            # is decoded, and the resolver's older IDNA rules can make another name of it.
            found = await inside_address(target.raw_host.decode("ascii"), port)
        except LookupFailed as exc:
            raise BadResponse(
                f"fetch feed: the server redirected to {http.safe_host(target)}; {exc}, so whether it is"
                " inside the local network is not known: not followed this time"
            ) from None
        if found is not None:
            raise BadResponse(
                f"fetch feed: the server redirected to {http.safe_host(target)}, whose address {found} is inside"
                " the local network; not followed (configure that address as `url` if it is really the feed)"
            )

    def _parse(self, response: httpx.Response) -> Any:
        if len(response.content) > http.MAX_BODY:
            raise BadResponse(f"fetch feed: response of {len(response.content)} bytes is too large")
        # feedparser runs in a thread the poll's timeout cannot stop, holding the interpreter:
        # 1.1 million nested tags in 7.7 MB took 98 s and 650 MB (hostile-server review of
        # 2026-12-02). Tags, escaped ones too, are counted at C speed first; 100,000 parse in
        # ~3 s here even nested, and a feed of 100 full-text items has ~20,000.
        content = response.content
        tags = content.count(b"<") + content.count(b"&lt;") + content.count(b"&#60;") + content.count(b"&#x3c;")
        if tags > MAX_TAGS:
            raise BadResponse(f"fetch feed: {tags:,} tags, more than a feed has ({MAX_TAGS:,}); not read")
        # The URL the feed was read from is the base its relative links resolve against
        # (feedparser takes it from Content-Location; Atom's xml:base still wins inside).
        parsed = feedparser.parse(
            response.content,
            response_headers={
                "content-type": response.headers.get("content-type", ""),
                "content-location": str(response.url),
            },
        )
        if not parsed.get("version") and not parsed.entries:
            head = response.text[:200].lstrip().lower()
            what = "an HTML page" if head.startswith(("<!doctype html", "<html")) else "something that is not a feed"
            raise BadResponse(f"fetch feed: expected RSS or Atom, got {what}")
        return parsed

    async def whoami(self) -> Identity:
        parsed = self._parse(await self._fetch(None))
        title = plain(parsed.feed.get("title")) or sanitize(self.ctx.url, single_line=True)
        return Identity(id=self.ctx.url, handle=title, extra={"format": str(parsed.get("version") or "")})

    def _message(self, entry: Any, feed_title: str, now: datetime) -> Message:
        key = entry_key(entry)
        native = hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:16]
        title = plain(entry.get("title"))
        body = ""
        if entry.get("content"):
            body = str(entry["content"][0].get("value") or "")
        body = html_to_text(body or str(entry.get("summary") or ""))
        text = f"{title}\n\n{body}".strip() if body and body != title else title or body
        author_name = plain(entry.get("author"))
        link = str(entry.get("link") or "")
        return Message(
            id=message_id(self.ctx.name, native),
            channel=self.ctx.name,
            channel_type=self.type_name,
            native_id=native,
            kind=Kind.POST,
            author=Author(
                id=author_name or feed_title,
                handle=author_name or feed_title,
                display_name=feed_title if author_name else "",
            ),
            text=text,
            created_at=_when(entry, now),
            url=link if link.startswith(("https://", "http://")) else "",
            thread_id=message_id(self.ctx.name, native),
            extra={"entry_id": key[:500], "feed": feed_title},
        )

    def _wanted(self, message: Message) -> bool:
        if not self.options.keywords:
            return True
        folded = message.text.casefold()
        return any(k.casefold() in folded for k in self.options.keywords)

    async def poll(self, cursor: dict[str, Any] | None) -> PollResult:
        cursor = dict(cursor or {})
        response = await self._fetch(cursor.get("validators"))
        if response.status_code == 304:
            return PollResult(messages=[], cursor=cursor or None)
        if response.status_code >= 300:
            raise BadResponse(f"fetch feed: unexpected status {response.status_code}")
        digest = hashlib.sha256(response.content).hexdigest()
        validators = http.validators(response)
        if digest == cursor.get("digest"):
            return PollResult(messages=[], cursor={**cursor, "validators": validators})
        # Parsing is CPU work (~0.2 ms an entry): off the event loop, which also draws the TUI.
        return await asyncio.to_thread(self._read, response, cursor, digest, validators)

    def _read(
        self, response: httpx.Response, cursor: dict[str, Any], digest: str, validators: dict[str, str]
    ) -> PollResult:
        parsed = self._parse(response)
        feed_title = plain(parsed.feed.get("title")) or sanitize(self.ctx.name, single_line=True)
        now = self.ctx.clock()
        first_use = "seen" not in cursor
        seen: list[str] = list(cursor.get("seen") or [])
        known = set(seen)
        entries = list(parsed.entries)
        if first_use:
            entries = entries[: max(0, self.options.max_entries)]
        messages: list[Message] = []
        skipped = 0
        fresh: list[str] = []
        for entry in entries:
            key = entry_key(entry)
            if key in known:
                continue
            known.add(key)
            fresh.append(key)
            try:
                message = self._message(entry, feed_title, now)
            except (TypeError, ValueError, AttributeError):
                skipped += 1
                continue
            if self._wanted(message):
                messages.append(message)
        # Entries skipped on first use (beyond max_entries) count as seen: they are history.
        if first_use:
            fresh += [entry_key(e) for e in parsed.entries[len(entries) :]]
        seen = (fresh + seen)[:SEEN_KEEP]
        new_cursor = {"seen": seen, "digest": digest, "validators": validators}
        return PollResult(messages=messages, cursor=new_cursor, skipped=skipped)

    async def thread(self, message: Message) -> list[Message]:
        return [message]

    @classmethod
    def outgoing_reply(cls, message: Message, text: str, options: msgspec.Struct | None) -> OutgoingReply:
        """Feeds are read-only (capabilities say so); the text is what would be sent."""
        return plain_reply(text, None)

    async def reply(self, message: Message, text: str, idempotency_key: str) -> ReplyReceipt:
        raise Rejected("feeds are read-only: there is nothing to reply to")

    async def moderate(self, message: Message, action: str, reason: str) -> None:
        raise Rejected("feeds have no moderation")
