"""Discourse forums through the official REST API (``Api-Key`` + ``Api-Username`` headers).

Sources:
- new posts (``GET /posts.json``, newest first, walked back with ``before=`` down to the
  newest post id seen, so nothing posted during downtime is missed or repeated), narrowed
  to configured categories and tags;
- the account's notifications (``GET /notifications.json``): mentions, replies, quotes,
  group mentions and private messages, each resolved to the post it is about.
The same post reached both ways is one message (``post-<id>``).

A reply is ``POST /posts.json`` with ``topic_id`` and ``reply_to_post_number``; its raw
text ends with an invisible ``<!-- cminbox:KEY -->`` (Discourse drops HTML comments when
rendering). Before posting, the account's recent replies in that topic are checked for
the marker, so an outbox retry after a crash never posts twice.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
import msgspec
from dateutil import parser as dateparser

from cminbox.channels import discourse_review as review
from cminbox.channels.declared.discourse import DECLARATION
from cminbox.channels.declared.discourse import DiscourseOptions as DiscourseOptions
from cminbox.channels.markers import marked_reply, marker, with_marker
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
from cminbox.core.html_text import html_to_text
from cminbox.core.models import Author, Kind, Message, message_id, utc
from cminbox.core.text import sanitize

MAX_PAGES = 10
NOTIFICATION_KINDS = {1: Kind.MENTION, 2: Kind.REPLY, 3: Kind.MENTION, 6: Kind.DIRECT, 9: Kind.POST, 15: Kind.MENTION,
                      17: Kind.POST}  # fmt: skip
FLAG_TYPES = {"off-topic": 3, "inappropriate": 4, "spam": 8}


class DiscourseChannel:
    type_name: ClassVar[str] = DECLARATION.type_name
    capabilities: ClassVar[Capabilities] = DECLARATION.capabilities
    Options: ClassVar[type[msgspec.Struct]] = DiscourseOptions
    traits: ClassVar[ChannelTraits] = DECLARATION.traits

    def __init__(self, ctx: ChannelContext) -> None:
        self.ctx = ctx
        self.options: DiscourseOptions = (
            ctx.options if isinstance(ctx.options, DiscourseOptions) else DiscourseOptions()
        )
        self._client: httpx.AsyncClient | None = None
        self._topic_tags: dict[int, list[str]] = {}

    # ------------------------------------------------------------------ plumbing
    async def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            key = await self.ctx.token()
            if not key:
                raise AuthFailed(f"no API key for {self.ctx.name!r}: run `cminbox login {self.ctx.name}`")
            if not self.ctx.account:
                raise AuthFailed(f"channel {self.ctx.name!r} needs `account` (the Api-Username) in the config")
            self._client = http.make_client(
                self.ctx.url,
                headers={"Api-Key": key, "Api-Username": self.ctx.account, "Accept": "application/json"},
                transport=self.ctx.transport,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _call(self, method: str, url: str, what: str, **kwargs: Any) -> Any:
        client = await self._http()
        response = await http.request(client, method, url, self.ctx.clock, what, **kwargs)
        return http.json_body(response, what)

    async def _object(self, url: str, what: str, **kwargs: Any) -> dict[str, Any]:
        body = await self._call("GET", url, what, **kwargs)
        if not isinstance(body, dict):
            raise BadResponse(f"{what}: expected a JSON object")
        return body

    async def whoami(self) -> Identity:
        await self._http()
        body = await self._object(f"/u/{self.ctx.account}.json", "who am I")
        user = body.get("user")
        user = user if isinstance(user, dict) else {}
        return Identity(id=str(user.get("id") or self.ctx.account), handle="@" + self.ctx.account)

    # ------------------------------------------------------------------ conversion
    def _message(self, post: dict[str, Any], kind: Kind = Kind.POST, notification: str = "") -> Message:
        topic_id = int(post["topic_id"])
        post_number = int(post.get("post_number") or 1)
        username = sanitize(str(post.get("username") or ""), single_line=True)
        title = sanitize(str(post.get("topic_title") or post.get("topic_html_title") or ""), single_line=True)
        body = html_to_text(str(post.get("cooked") or "")) or sanitize(str(post.get("raw") or ""))
        slug = str(post.get("topic_slug") or "-")
        extra = {
            "topic_id": str(topic_id),
            "post_number": str(post_number),
            "post_id": str(post["id"]),
            "username": username,
        }
        if title:
            extra["topic_title"] = title
        if notification:
            extra["notification_id"] = notification
        first = post_number == 1
        return Message(
            id=message_id(self.ctx.name, f"post-{post['id']}"),
            channel=self.ctx.name,
            channel_type=self.type_name,
            native_id=f"post-{post['id']}",
            kind=kind,
            author=Author(
                id=str(post.get("user_id") or username),
                handle="@" + username,
                display_name=sanitize(str(post.get("name") or ""), single_line=True),
                url=f"{self.ctx.url.rstrip('/')}/u/{username}",
            ),
            text=f"{title}\n\n{body}".strip() if title and first else (f"Re: {title}\n\n{body}" if title else body),
            created_at=utc(dateparser.isoparse(str(post["created_at"]))),
            url=f"{self.ctx.url.rstrip('/')}/t/{slug}/{topic_id}/{post_number}",
            thread_id=message_id(self.ctx.name, f"topic-{topic_id}"),
            parent_id=message_id(self.ctx.name, f"topic-{topic_id}") if not first else "",
            extra=extra,
        )

    # ------------------------------------------------------------------ polling
    async def poll(self, cursor: dict[str, Any] | None) -> PollResult:
        cursor = dict(cursor or {})
        messages: list[Message] = []
        skipped = 0
        if self.options.posts:
            got, bad, posts = await self._poll_posts(
                {"last_post_id": cursor.get("last_post_id"), "gaps": cursor.get("post_gaps")}
            )
            cursor["last_post_id"], cursor["post_gaps"] = posts["last_post_id"], posts["gaps"]
            messages += got
            skipped += bad
        if self.options.notifications:
            got, bad, cursor["last_notification_id"] = await self._poll_notifications(
                cursor.get("last_notification_id")
            )
            by_id = {m.id: m for m in messages}
            for m in got:  # a notification says more (mention, reply, PM) than "new post"
                by_id[m.id] = m
            messages = list(by_id.values())
            skipped += bad
        warning = ""
        if self.options.review_queue:
            got, bad, cursor["review_seen"], warning = await self._poll_review(cursor.get("review_seen"))
            messages += got
            skipped += bad
        return PollResult(messages=messages, cursor=cursor, skipped=skipped, warning=warning)

    async def _poll_review(self, seen: list[int] | None) -> tuple[list[Message], int, list[int] | None, str]:
        """Pending reviewables; a key without moderator rights leaves the rest of the channel working."""
        try:
            body = await self._object("/review.json", "review queue", params={"status": "pending"})
        except Rejected:
            return [], 0, seen, "review queue: this key may not read it (it needs a moderator's key)"
        listed = review.listed(body, "reviewables")
        ids = [r["id"] for r in listed if isinstance(r, dict) and isinstance(r.get("id"), int)]
        messages, skipped = review.review_messages(self.ctx.name, self.ctx.url, body, set(seen or []))
        return messages, skipped, (ids + [i for i in seen or [] if i not in ids])[: review.SEEN_KEEP], ""

    async def _walk(
        self, before: int | None, floor: int | None, pages: int
    ) -> tuple[list[dict[str, Any]], int, int | None, int]:
        """Posts newer than ``floor`` and older than ``before`` (None: from the newest), newest first,
        reading at most ``pages`` pages. Returns them, how many were malformed, the lowest id read if
        the walk stopped before reaching ``floor`` (else None), and the pages used."""
        fetched: list[dict[str, Any]] = []
        skipped = 0
        for used in range(1, pages + 1):
            body = await self._object("/posts.json", "latest posts", params={"before": before} if before else None)
            page = body.get("latest_posts")
            if not isinstance(page, list):
                raise BadResponse("latest posts: the answer has no latest_posts list")
            good = [p for p in page if isinstance(p, dict) and isinstance(p.get("id"), int)]
            ids = [int(p["id"]) for p in good]
            if before is not None and ids and min(ids) >= before:
                return fetched, skipped, None, used  # `before` was ignored: the same page again, not older
            skipped += len(page) - len(good)
            fetched += [p for p in good if floor is None or int(p["id"]) > floor]
            if not ids or (floor is not None and min(ids) <= floor):
                return fetched, skipped, None, used
            before = min(ids)
        return fetched, skipped, before, pages

    async def _poll_posts(self, state: dict[str, Any]) -> tuple[list[Message], int, dict[str, Any]]:
        """New posts since the newest seen. A burst larger than one poll's page budget leaves a
        gap (ids between two known points), which later polls fill before it can be forgotten."""
        last_id: int | None = state.get("last_post_id")
        if last_id is None:
            fetched, skipped, _, _ = await self._walk(None, None, max(1, self.options.backfill_pages))
            gaps: list[list[int]] = []
        else:
            fetched, skipped, low, used = await self._walk(None, last_id, MAX_PAGES)
            budget = MAX_PAGES - used
            pending = ([[last_id, low]] if low is not None else []) + list(state.get("gaps") or [])
            gaps = []
            for after, before in pending:
                if budget <= 0:
                    gaps.append([after, before])
                    continue
                more, bad, low, used = await self._walk(before, after, budget)
                fetched, skipped, budget = fetched + more, skipped + bad, budget - used
                if low is not None:
                    gaps.append([after, low])
        newest = max([last_id or 0, *(int(p["id"]) for p in fetched)]) or None
        messages: list[Message] = []
        for post in sorted(fetched, key=lambda p: int(p["id"])):
            if str(post.get("username") or "") == self.ctx.account:
                continue
            try:
                if not await self._wanted(post):
                    continue
                messages.append(self._message(post))
            except MALFORMED:
                skipped += 1
        return messages, skipped, {"last_post_id": newest, "gaps": gaps[:50]}

    async def _wanted(self, post: dict[str, Any]) -> bool:
        if self.options.categories and post.get("category_id") not in self.options.categories:
            return False
        if not self.options.tags:
            return True
        topic_id = int(post["topic_id"])
        if topic_id not in self._topic_tags:
            topic = await self._object(f"/t/{topic_id}.json", "topic tags")
            tags = topic.get("tags") or []
            self._topic_tags[topic_id] = [str(t.get("name") if isinstance(t, dict) else t) for t in tags]
        return any(t in self._topic_tags[topic_id] for t in self.options.tags)

    async def _poll_notifications(self, last_id: int | None) -> tuple[list[Message], int, int | None]:
        valid: list[dict[str, Any]] = []
        skipped = 0
        for _ in range(MAX_PAGES if last_id is not None else 1):
            params = {"offset": len(valid) + skipped} if valid or skipped else None
            body = await self._object("/notifications.json", "notifications", params=params)
            notes = body.get("notifications")
            if not isinstance(notes, list):
                raise BadResponse("notifications: the answer has no notifications list")
            page = [n for n in notes if isinstance(n, dict) and isinstance(n.get("id"), int)]
            valid, skipped = valid + page, skipped + len(notes) - len(page)
            # Newest first: go on only while the whole page is new and Discourse has more.
            if not page or not body.get("load_more_notifications") or min(int(n["id"]) for n in page) <= (last_id or 0):
                break
        valid = list({int(n["id"]): n for n in valid}.values())  # a page may shift while we read
        newest = max([last_id or 0, *(int(n["id"]) for n in valid)]) or None
        if last_id is None:
            return [], skipped, newest or 0  # first use: start from now; old notifications are history
        messages: list[Message] = []
        for note in sorted(valid, key=lambda n: int(n["id"])):
            kind = NOTIFICATION_KINDS.get(int(note.get("notification_type") or 0))
            if int(note["id"]) <= last_id or kind is None or not note.get("topic_id"):
                continue
            try:
                post = await self._post_for(note)
                if post is None or str(post.get("username") or "") == self.ctx.account:
                    continue
                messages.append(self._message(post, kind, str(note["id"])))
            except MALFORMED:
                skipped += 1
        return messages, skipped, newest

    async def _post_for(self, note: dict[str, Any]) -> dict[str, Any] | None:
        data = note.get("data")
        data = data if isinstance(data, dict) else {}
        post_id = data.get("original_post_id")
        if isinstance(post_id, int | str) and str(post_id).isdecimal():
            post = await self._object(f"/posts/{post_id}.json", "notified post")
        else:
            topic = await self._object(f"/t/{int(note['topic_id'])}.json", "notified topic")
            posts = (topic.get("post_stream") or {}).get("posts") or []
            found = [p for p in posts if isinstance(p, dict) and p.get("post_number") == note.get("post_number")]
            if not found:
                return None
            post = found[0]
        title = data.get("topic_title") or note.get("fancy_title")
        return {**post, "topic_title": post.get("topic_title") or title or ""}

    # ------------------------------------------------------------------ thread, reply, moderation
    async def thread(self, message: Message) -> list[Message]:
        topic = await self._object(f"/t/{http.segment(message.extra['topic_id'])}.json", "topic")
        title = str(topic.get("title") or "")
        out = {message.id: message}
        for post in (topic.get("post_stream") or {}).get("posts") or []:
            try:
                msg = self._message({**post, "topic_title": title})
            except MALFORMED:
                continue
            out.setdefault(msg.id, msg)
        return sorted(out.values(), key=lambda m: m.created_at)

    async def _already_posted(self, topic_id: int, key: str) -> dict[str, Any] | None:
        body = await self._object(
            "/user_actions.json",
            "check earlier reply",
            params={"offset": 0, "username": self.ctx.account, "filter": "5"},
        )
        for action in review.listed(body, "user_actions"):
            if not isinstance(action, dict) or action.get("topic_id") != topic_id or not action.get("post_id"):
                continue
            post = await self._object(f"/posts/{http.segment(action['post_id'])}.json", "check earlier reply")
            if marker(key) in str(post.get("raw") or ""):
                return post
        return None

    @classmethod
    def outgoing_reply(cls, message: Message, text: str, options: msgspec.Struct | None) -> OutgoingReply:
        """Posted as typed, with its hidden retry marker."""
        return marked_reply(text, cls.capabilities.reply_limit)

    async def reply(self, message: Message, text: str, idempotency_key: str) -> ReplyReceipt:
        out = self.outgoing_reply(message, text, self.options)
        if out.too_long:
            raise Rejected(out.refusal(self.type_name))
        topic_id = int(message.extra["topic_id"])
        earlier = await self._already_posted(topic_id, idempotency_key)
        if earlier is None:
            payload = {
                "raw": with_marker(text, idempotency_key),
                "topic_id": topic_id,
                "reply_to_post_number": int(message.extra.get("post_number") or 1),
            }
            earlier = await self._call("POST", "/posts.json", "post reply", json=payload)
        if not isinstance(earlier, dict) or not earlier.get("id"):
            raise BadResponse("post reply: the answer has no post id")
        number = earlier.get("post_number") or ""
        slug = earlier.get("topic_slug") or "-"
        return ReplyReceipt(
            native_id=f"post-{earlier['id']}", url=f"{self.ctx.url.rstrip('/')}/t/{slug}/{topic_id}/{number}"
        )

    async def mark_read(self, message: Message) -> None:
        note = message.extra.get("notification_id")
        if note:
            await self._call("PUT", "/notifications/mark-read.json", "mark read", json={"id": int(note)})

    async def moderate(self, message: Message, action: str, reason: str) -> None:
        if action == "flag":
            kind = FLAG_TYPES.get(reason.strip().lower(), FLAG_TYPES["inappropriate"])
            await self._call(
                "POST",
                "/post_actions.json",
                "flag",
                json={"id": int(message.extra["post_id"]), "post_action_type_id": kind},
            )
        elif action in ("close", "reopen"):
            await self._call(
                "PUT",
                f"/t/{http.segment(message.extra['topic_id'])}/status.json",
                action,
                json={"status": "closed", "enabled": "true" if action == "close" else "false"},
            )
        elif action in review.PERFORM:
            reviewable = message.extra.get("reviewable_id")
            if not reviewable:
                raise Rejected(f"{action} applies to review-queue items; flag or close this post instead")
            await self._call(
                "PUT",
                f"/review/{http.segment(reviewable)}/perform/{review.PERFORM[action]}.json",
                action,
                params={"version": message.extra.get("version") or "0"},
            )
        else:
            raise Rejected(f"discourse cannot {action!r}; it can {', '.join(self.capabilities.moderation)}")
