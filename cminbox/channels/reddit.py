"""Reddit through its OAuth API, as a "script" app acting for one account.

Credentials: the app's ``client_id`` is in the config (Reddit shows it publicly under the
app's name); the client secret and the account password are one keyring entry, stored by
``cminbox login NAME --password``. An access token is fetched with the password grant
when needed and again before it expires or after a 401; it is never written anywhere.
Every request carries the ``User-Agent`` Reddit's API rules ask for:
``<platform>:<app id>:<version> (by /u/<account>)``.

Sources are listings read newest first and walked back (``after=<fullname>``) until the
newest item seen last time: the inbox (comment replies, username mentions, private
messages) and, per configured subreddit, new posts and new comments. Walking back rather
than asking for ``before=<fullname>`` is deliberate: ``before`` a deleted item returns an
empty listing forever. ``X-Ratelimit-Remaining``/``Reset`` pause only this channel.

Reddit has no idempotency key, so before ``POST /api/comment`` the account's own recent
comments (or sent messages) are searched for the same reply to the same parent; a retry
after a crash finds it instead of posting twice.
"""

from __future__ import annotations

import json
import math
import re
import time
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
import msgspec

from cminbox import __version__
from cminbox.channels.declared.reddit import DECLARATION, option_problems
from cminbox.channels.declared.reddit import RedditOptions as RedditOptions
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

MAX_PAGES = 10
PAGE = 100
KEEP = 1100  # names remembered per listing: a whole walk of 10 pages of 100, and more
WEB = "https://www.reddit.com"
RATELIMIT_WAIT = re.compile(r"(\d+)\s*(second|minute)", re.IGNORECASE)


def _fullname_kind(name: str) -> str:
    return name.split("_", 1)[0]


class RedditChannel:
    type_name: ClassVar[str] = DECLARATION.type_name
    capabilities: ClassVar[Capabilities] = DECLARATION.capabilities
    Options: ClassVar[type[msgspec.Struct]] = RedditOptions
    traits: ClassVar[ChannelTraits] = DECLARATION.traits

    def __init__(self, ctx: ChannelContext) -> None:
        self.ctx = ctx
        self.options: RedditOptions = ctx.options if isinstance(ctx.options, RedditOptions) else RedditOptions()
        self._client: httpx.AsyncClient | None = None
        self._token: str | None = None
        self._expires = 0.0
        self._pause = 0.0

    @classmethod
    def check_options(cls, options: RedditOptions) -> list[tuple[str, str, str]]:
        return option_problems(options)

    # ------------------------------------------------------------------ auth and plumbing
    @property
    def user_agent(self) -> str:
        return self.options.user_agent or f"python:cminbox:{__version__} (by /u/{self.ctx.account or 'unknown'})"

    async def _credentials(self) -> dict[str, str]:
        secret = await self.ctx.token()
        try:
            creds = json.loads(secret or "")
            assert isinstance(creds, dict) and creds.get("client_secret") and creds.get("password")
        except (ValueError, AssertionError):
            raise AuthFailed(
                f"no Reddit credentials for {self.ctx.name!r}: run `cminbox login {self.ctx.name} --password`"
            ) from None
        redactor.add(str(creds["client_secret"]))
        redactor.add(str(creds["password"]))
        return {k: str(v) for k, v in creds.items()}

    async def _grant(self, client_secret: str, password: str) -> None:
        redactor.add_basic(self.options.client_id, client_secret)  # the Basic auth form a server could echo
        redactor.add(password)
        async with http.make_client(
            "", headers={"User-Agent": self.user_agent}, transport=self.ctx.transport
        ) as client:
            response = await http.request(
                client,
                "POST",
                self.options.auth_url,
                self.ctx.clock,
                "get access token",
                auth=(self.options.client_id, client_secret),
                data={"grant_type": "password", "username": self.ctx.account, "password": password},
            )
        body = http.json_body(response, "get access token")
        if not isinstance(body, dict) or not body.get("access_token"):
            error = http.server_text(body.get("error"), 80) if isinstance(body, dict) and body.get("error") else None
            raise AuthFailed(f"Reddit refused the login ({error or 'no access_token'}): check the app and password")
        if not http.is_token(body["access_token"]):
            raise BadResponse("get access token: the access token in the answer is not a valid token")
        self._token = str(body["access_token"])
        redactor.add(self._token)
        self._expires = time.monotonic() + _seconds(body.get("expires_in"), 3600) - 60

    async def password_login(self, user: str, password: str, client_secret: str = "") -> str:
        """Check the credentials once; what is stored is the secret and password (the grant
        needs both every time; a script app gets no refresh token)."""
        await self._grant(client_secret, password)
        return json.dumps({"client_secret": client_secret, "password": password})

    async def _http(self) -> httpx.AsyncClient:
        if self._token is None or time.monotonic() >= self._expires:
            creds = await self._credentials()
            await self._grant(creds["client_secret"], creds["password"])
            if self._client is not None:
                await self._client.aclose()
            self._client = None
        if self._client is None:
            self._client = http.make_client(
                self.ctx.url or "https://oauth.reddit.com",
                headers={"Authorization": f"Bearer {self._token}", "User-Agent": self.user_agent},
                transport=self.ctx.transport,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _call(self, method: str, url: str, what: str, **kwargs: Any) -> Any:
        for attempt in range(2):
            client = await self._http()
            try:
                response = await http.request(client, method, url, self.ctx.clock, what, **kwargs)
            except AuthFailed:
                if attempt:
                    raise
                self._token = None  # expired early or revoked: one fresh grant, then give up
                continue
            wait = http.quota_wait(response, self.ctx.clock, reserve=1.0)
            if wait is not None:
                self._pause = max(self._pause, wait)
            return http.json_body(response, what)
        raise AssertionError("unreachable")

    async def whoami(self) -> Identity:
        body = await self._call("GET", "/api/v1/me", "who am I")
        if not isinstance(body, dict) or not body.get("name"):
            raise BadResponse("who am I: the answer has no name")
        return Identity(id=str(body.get("id") or body["name"]), handle=f"u/{body['name']}")

    # ------------------------------------------------------------------ conversion
    def _message(self, thing: dict[str, Any], source: str) -> Message:
        kind_code, data = thing["kind"], thing["data"]
        name = str(data["name"])
        author = sanitize(str(data.get("author") or "[deleted]"), single_line=True)
        subreddit = sanitize(str(data.get("subreddit") or ""), single_line=True)
        if kind_code == "t3":
            title = sanitize(str(data.get("title") or ""), single_line=True)
            text = f"{title}\n\n{sanitize(str(data.get('selftext') or ''))}".strip()
            kind, link = Kind.POST, name
        elif kind_code == "t4":
            subject = sanitize(str(data.get("subject") or ""), single_line=True)
            text = f"{subject}\n\n{sanitize(str(data.get('body') or ''))}".strip()
            kind, link = Kind.DIRECT, ""
        else:
            text = sanitize(str(data.get("body") or ""))
            link = str(data.get("link_id") or "")
            subject = str(data.get("subject") or "")
            kind = Kind.COMMENT
            if source == "inbox":
                kind = Kind.MENTION if "mention" in subject else Kind.REPLY
            if data.get("link_title"):
                text = f"Re: {sanitize(str(data['link_title']), single_line=True)}\n\n{text}"
        permalink = str(data.get("permalink") or data.get("context") or "")
        extra = {"fullname": name, "author": author, "source": source}
        if subreddit:
            extra["subreddit"] = subreddit
        if link:
            extra["link_id"] = link
        if data.get("parent_id"):
            extra["parent_id"] = str(data["parent_id"])
        thread_native = link or str(data.get("first_message_name") or name)
        return Message(
            id=message_id(self.ctx.name, name),
            channel=self.ctx.name,
            channel_type=self.type_name,
            native_id=name,
            kind=kind,
            author=Author(id=author, handle=f"u/{author}", url=f"{WEB}/user/{author}"),
            text=text,
            created_at=datetime.fromtimestamp(float(data["created_utc"]), tz=UTC),
            url=WEB + permalink if permalink.startswith("/") else "",
            thread_id=message_id(self.ctx.name, thread_native),
            parent_id=message_id(self.ctx.name, str(data["parent_id"])) if data.get("parent_id") else "",
            visibility="private" if kind_code == "t4" else "",
            extra=extra,
        )

    # ------------------------------------------------------------------ polling
    async def _walk(
        self, url: str, source: str, after: str | None, floor: float, seen: set[str], pages: int
    ) -> tuple[list[dict[str, Any]], int, str | None, int]:
        """Items newer than ``floor`` from ``after`` on (None: the newest), at most ``pages`` pages.
        Returns them, how many were malformed, where to go on if the walk was cut short (else
        None), and the pages used."""
        things: list[dict[str, Any]] = []
        skipped = 0
        for used in range(1, pages + 1):
            params: dict[str, Any] = {"limit": PAGE, "raw_json": 1}
            if after:
                params["after"] = after
            body = await self._call("GET", url, source, params=params)
            data = body.get("data") if isinstance(body, dict) else None
            children = data.get("children") if isinstance(data, dict) else None
            if not isinstance(children, list) or not isinstance(data, dict):
                raise BadResponse(f"{source}: expected a Listing")
            reached = False
            for child in children:
                item = child.get("data") if isinstance(child, dict) else None
                created = _created(item) if isinstance(item, dict) and isinstance(item.get("name"), str) else None
                if created is None or not isinstance(item, dict):  # not a thing Reddit describes: skipped
                    skipped += 1
                elif created < floor:
                    reached = True
                elif item["name"] not in seen:
                    things.append(child)
            after = data.get("after")
            if reached or not after:
                return things, skipped, None, used
            if self._pause:
                return things, skipped, str(after), used
        return things, skipped, str(after), pages

    async def _listing(self, url: str, source: str, state: dict[str, Any]) -> tuple[list[Message], int, dict[str, Any]]:
        """New items of a listing, newest first down to the newest item of the last poll. A walk
        cut short (spent quota, page budget) leaves a gap that later polls walk on from where it
        stopped (``after=``), so nothing in between is lost or fetched twice."""
        seen = set(state.get("seen") or [])
        top = float(state.get("top") or 0.0)
        if not state:  # first use: the newest page; older items are history
            things, skipped, _, _ = await self._walk(url, source, None, 0.0, seen, 1)
            gaps: list[list[Any]] = []
        else:
            things, skipped, cut, used = await self._walk(url, source, None, top, seen, MAX_PAGES)
            budget = MAX_PAGES - used
            pending = ([[cut, top]] if cut else []) + list(state.get("gaps") or [])
            gaps = []
            for after, floor in pending:
                if budget <= 0 or self._pause:
                    gaps.append([after, floor])
                    continue
                more, bad, cut, used = await self._walk(url, source, after, float(floor), seen, budget)
                things, skipped, budget = things + more, skipped + bad, budget - used
                if cut:
                    gaps.append([cut, floor])
        messages: list[Message] = []
        me = self.ctx.account.lower()
        for thing in things:
            try:
                if str(thing["data"].get("author") or "").lower() == me:
                    continue
                messages.append(self._message(thing, source))
            except MALFORMED:
                skipped += 1
        newest = [float(t["data"]["created_utc"]) for t in things]
        recent = [str(t["data"]["name"]) for t in things] + list(state.get("seen") or [])
        new_state = {"top": max([top, *newest]) - 1 if newest else top, "seen": recent[:KEEP], "gaps": gaps[:20]}
        return messages, skipped, new_state

    async def poll(self, cursor: dict[str, Any] | None) -> PollResult:
        self._pause = 0.0
        cursor = dict(cursor or {})
        sources: list[tuple[str, str]] = []
        if self.options.inbox:
            sources.append(("inbox", "/message/inbox"))
        for sub in self.options.subreddits:
            sources.append((f"r/{sub}/new", f"/r/{sub}/new"))
            if self.options.subreddit_comments:
                sources.append((f"r/{sub}/comments", f"/r/{sub}/comments"))
        messages: list[Message] = []
        skipped = 0
        for key, url in sources:
            if self._pause:
                break  # quota spent: the other sources wait for the reset, their cursors unchanged
            got, bad, cursor[key] = await self._listing(url, "inbox" if key == "inbox" else key, cursor.get(key) or {})
            messages += got
            skipped += bad
        return PollResult(messages=messages, cursor=cursor, next_poll_in=self._pause or None, skipped=skipped)

    # ------------------------------------------------------------------ thread, reply, moderation
    async def thread(self, message: Message) -> list[Message]:
        link = message.extra.get("link_id")
        if not link:
            return [message]
        body = await self._call(
            "GET", f"/comments/{http.segment(link.split('_', 1)[-1])}", "thread", params={"limit": 100, "raw_json": 1}
        )
        if not isinstance(body, list):
            raise BadResponse("thread: expected two Listings")
        out = {message.id: message}
        stack = [
            c for listing in body if isinstance(listing, dict) for c in (listing.get("data") or {}).get("children", [])
        ]
        while stack:
            thing = stack.pop()
            if not isinstance(thing, dict) or thing.get("kind") not in ("t1", "t3"):
                continue
            try:
                msg = self._message(thing, "thread")
            except MALFORMED:
                continue
            out.setdefault(msg.id, msgspec.structs.replace(msg, kind=Kind.POST))
            replies = thing["data"].get("replies")
            if isinstance(replies, dict):
                stack += (replies.get("data") or {}).get("children") or []
        return sorted(out.values(), key=lambda m: m.created_at)

    async def _already_posted(self, message: Message, text: str) -> dict[str, Any] | None:
        me = self.ctx.account
        url = "/message/sent" if _fullname_kind(message.native_id) == "t4" else f"/user/{me}/comments"
        body = await self._call("GET", url, "check earlier reply", params={"limit": PAGE, "raw_json": 1})
        children = ((body or {}).get("data") or {}).get("children") or [] if isinstance(body, dict) else []
        for child in children:
            data = child.get("data") if isinstance(child, dict) else None
            if not isinstance(data, dict):
                continue
            parent = data.get("parent_id") or data.get("first_message_name")
            if parent == message.native_id and str(data.get("body") or "").strip() == text.strip():
                return data
        return None

    @classmethod
    def outgoing_reply(cls, message: Message, text: str, options: msgspec.Struct | None) -> OutgoingReply:
        """Posted as typed."""
        return plain_reply(text, cls.capabilities.reply_limit)

    async def reply(self, message: Message, text: str, idempotency_key: str) -> ReplyReceipt:
        out = self.outgoing_reply(message, text, self.options)
        if out.too_long:
            raise Rejected(out.refusal(self.type_name))
        earlier = await self._already_posted(message, text)
        if earlier is not None:
            return ReplyReceipt(native_id=str(earlier.get("name")), url=WEB + str(earlier.get("permalink") or ""))
        body = await self._call(
            "POST", "/api/comment", "post reply", data={"api_type": "json", "thing_id": message.native_id, "text": text}
        )
        result = body.get("json") if isinstance(body, dict) else None
        if not isinstance(result, dict):
            raise BadResponse("post reply: the answer has no json object")
        self._raise_errors(result.get("errors") or [], "post reply")
        things = (result.get("data") or {}).get("things") or []
        made = things[0].get("data") if things and isinstance(things[0], dict) else None
        if not isinstance(made, dict) or not made.get("name"):
            raise BadResponse("post reply: the answer has no new comment")
        return ReplyReceipt(native_id=str(made["name"]), url=WEB + str(made.get("permalink") or ""))

    @classmethod
    def outgoing_direct(cls, message: Message, text: str, options: msgspec.Struct | None) -> OutgoingReply:
        """A private message's body, as typed (Reddit allows 10,000 characters)."""
        return plain_reply(text, cls.capabilities.reply_limit)

    async def _already_messaged(self, to: str, text: str) -> dict[str, Any] | None:
        """The private message already sent to ``to`` with this body (Reddit has no idempotency
        key: a retry after a crash looks in the sent folder first, as a reply does)."""
        body = await self._call("GET", "/message/sent", "check earlier message", params={"limit": PAGE, "raw_json": 1})
        children = ((body or {}).get("data") or {}).get("children") or [] if isinstance(body, dict) else []
        for child in children:
            data = child.get("data") if isinstance(child, dict) else None
            if (
                isinstance(data, dict)
                and str(data.get("dest") or "").casefold() == to.casefold()
                and str(data.get("body") or "").strip() == text.strip()
            ):
                return data
        return None

    async def direct_message(self, message: Message, text: str, idempotency_key: str) -> ReplyReceipt:
        """``/api/compose`` to the author (its answer names no message: the sent folder does)."""
        out = self.outgoing_direct(message, text, self.options)
        if out.too_long:
            raise Rejected(out.refusal(self.type_name))
        to = message.author.id
        if (earlier := await self._already_messaged(to, text)) is None:
            where = message.extra.get("subreddit")
            subject = f"About your post in r/{where}" if where else "About your post"
            data = {"api_type": "json", "to": to, "subject": subject, "text": text}
            body = await self._call("POST", "/api/compose", "private message", data=data)
            result = body.get("json") if isinstance(body, dict) else None
            if not isinstance(result, dict):
                raise BadResponse("private message: the answer has no json object")
            self._raise_errors(result.get("errors") or [], "private message")
            earlier = await self._already_messaged(to, text)
        name = str((earlier or {}).get("name") or "")
        return ReplyReceipt(native_id=name, url=f"{WEB}/message/messages/{name.removeprefix('t4_')}" if name else "")

    def _raise_errors(self, errors: list[Any], what: str) -> None:
        """Reddit reports failures as 200 with ``[code, message, field]`` triples."""
        for error in errors:
            code, text = (
                (str(error[0]), str(error[1])) if isinstance(error, list) and len(error) >= 2 else ("", str(error))
            )
            if code == "RATELIMIT":
                found = RATELIMIT_WAIT.search(text)
                seconds = (
                    int(found.group(1)) * (60 if found and found.group(2).lower() == "minute" else 1) if found else 60
                )
                when = http.after(self.ctx.clock(), seconds)  # capped like any server-given wait
                raise RateLimited(f"{what}: Reddit says {http.server_text(text, 120)}", when)
            raise Rejected(f"{what}: {http.server_text(code or 'error', 40)}: {http.server_text(text, 160)}")

    async def mark_read(self, message: Message) -> None:
        if message.extra.get("source") == "inbox":
            await self._call("POST", "/api/read_message", "mark read", data={"id": message.native_id})

    async def moderate(self, message: Message, action: str, reason: str) -> None:
        thing = message.native_id
        if action in ("remove", "spam"):
            await self._call("POST", "/api/remove", action, data={"id": thing, "spam": str(action == "spam").lower()})
            if reason:
                await self._call(
                    "POST",
                    "/api/v1/modactions/removal_reasons",
                    "removal reason",
                    data={"json": json.dumps({"item_ids": [thing], "mod_note": reason[:100], "reason_id": None})},
                )
        elif action == "approve":
            await self._call("POST", "/api/approve", "approve", data={"id": thing})
        else:
            raise Rejected(f"reddit cannot {action!r}; it can {', '.join(self.capabilities.moderation)}")


def _created(item: dict[str, Any]) -> float | None:
    """A listed thing's ``created_utc`` (seconds), or None when it is not a finite number."""
    try:
        created = float(item["created_utc"])
    except MALFORMED:
        return None
    return created if math.isfinite(created) else None


def _seconds(value: object, default: float) -> float:
    """A token answer's ``expires_in``: a positive finite number of seconds, else ``default``."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except MALFORMED:
        return default
    return seconds if math.isfinite(seconds) and seconds > 0 else default
