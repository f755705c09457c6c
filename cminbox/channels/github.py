"""GitHub (github.com or GitHub Enterprise Server) through the REST API, plus one GraphQL mutation.

Sources, each with its own part of the cursor:
- notifications (``GET /notifications``): conditional on ``Last-Modified`` so an unchanged
  list is a 304 that costs no rate limit; ``X-Poll-Interval`` is honoured. Each new or
  updated thread is resolved to the comment or issue that caused it, so the inbox shows
  what was said, not just "someone commented";
- new issue comments in configured repositories (``GET /repos/{o}/{r}/issues/comments``,
  ``since=`` the newest ``updated_at`` seen, oldest first, every ``Link`` page), with an ETag;
- optionally new issues and pull requests in those repositories.
The same comment reached through both sources is one message (ids by comment id).

Rate limits: a successful response with ``X-RateLimit-Remaining: 0`` pauses the channel
until ``X-RateLimit-Reset``; a 403/429 with ``Retry-After`` or an exhausted quota is a
``RateLimited`` for this channel only. ``Link`` pages are followed only on our own host
(the token never goes anywhere else).

A reply is an issue comment carrying an invisible ``<!-- cminbox:KEY -->`` marker; before
posting, the comments since the replied-to item are searched for that marker, so an outbox
retry after a crash finds the comment that was already posted instead of posting again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx
import msgspec

from cminbox.channels import github_convert as conv
from cminbox.channels import github_discussions as discussions
from cminbox.channels.auth import bearer_client
from cminbox.channels.declared.github import DECLARATION
from cminbox.channels.github_options import GitHubOptions, option_problems
from cminbox.channels.markers import marked_reply, marker, with_marker
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
from cminbox.core.models import Kind, Message
from cminbox.core.text import one_line, sanitize

ACCEPT = "application/vnd.github+json, application/json;q=0.9"
API_VERSION = "2022-11-28"
MAX_PAGES = 10
MAX_RESOLVE = 30  # notification threads resolved to their comment per poll; the rest wait
THREADS_KEEP = 500
LOCK_REASONS = ("off-topic", "too heated", "resolved", "spam")
HIDE_CLASSIFIERS = {"spam": "SPAM", "abuse": "ABUSE", "off-topic": "OFF_TOPIC", "outdated": "OUTDATED",
                    "duplicate": "DUPLICATE", "resolved": "RESOLVED"}  # fmt: skip
MINIMIZE = """mutation($id: ID!, $classifier: ReportedContentClassifiers!) {
  minimizeComment(input: {subjectId: $id, classifier: $classifier}) { minimizedComment { isMinimized } }
}"""


def _merge(messages: list[Message]) -> list[Message]:
    """One message per id: the first (a notification, which knows why we were told) keeps its
    kind and text; facts only a later source had (a thread id to mark read) are added."""
    by_id: dict[str, Message] = {}
    for msg in messages:
        if msg.id in by_id:
            kept = by_id[msg.id]
            by_id[msg.id] = msgspec.structs.replace(kept, extra={**msg.extra, **kept.extra})
        else:
            by_id[msg.id] = msg
    return list(by_id.values())


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def issue_path(repo: str, number: str) -> str:
    """The API path of an issue from an item's stored repository and number, each part one
    path segment (http.segment): they came from a server."""
    owner, _, name = repo.partition("/")
    if not owner or not name or "/" in name:
        raise Rejected(f"this GitHub item's repository “{one_line(repo)[:80]}” is not owner/name")
    return f"/repos/{http.segment(owner)}/{http.segment(name)}/issues/{http.segment(number)}"


class GitHubChannel:
    type_name: ClassVar[str] = DECLARATION.type_name
    capabilities: ClassVar[Capabilities] = DECLARATION.capabilities
    Options: ClassVar[type[msgspec.Struct]] = GitHubOptions
    # needs_url: https://api.github.com unless `url` names an Enterprise Server
    traits: ClassVar[ChannelTraits] = DECLARATION.traits

    @classmethod
    def check_options(cls, options: GitHubOptions) -> list[tuple[str, str, str]]:
        return option_problems(options)

    def __init__(self, ctx: ChannelContext) -> None:
        self.ctx = ctx if ctx.url else msgspec.structs.replace(ctx, url="https://api.github.com")
        self.options = ctx.options if isinstance(ctx.options, GitHubOptions) else GitHubOptions()
        self._client: httpx.AsyncClient | None = None
        self._me: Identity | None = None
        self._titles: dict[str, str] = {}  # "owner/repo#n" → title, learnt from notifications and issues
        self._pause: float = 0.0  # seconds the quota asks us to wait before the next poll
        self._problem = ""  # why a poll stopped early (a foreign or repeating next-page link)

    # ------------------------------------------------------------------ plumbing
    async def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = await bearer_client(self.ctx)
            self._client.headers.update({"Accept": ACCEPT, "X-GitHub-Api-Version": API_VERSION})
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _send(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        client = await self._http()
        response = await http.request(client, method, url, self.ctx.clock, what, **kwargs)
        wait = http.quota_wait(response, self.ctx.clock)
        if wait is not None:
            self._pause = max(self._pause, wait)
        return response

    async def _get_json(self, url: str, what: str, **kwargs: Any) -> tuple[Any, httpx.Response]:
        response = await self._send("GET", url, what, **kwargs)
        if response.status_code == 304:
            return None, response
        return http.json_body(response, what), response

    async def _pages(
        self, url: str, what: str, params: dict[str, Any], headers: dict[str, str] | None = None
    ) -> AsyncIterator[tuple[list[Any] | None, httpx.Response]]:
        """Yield (page, response) following ``Link: rel="next"`` on our own host."""
        client = await self._http()
        links = http.Pages(client.base_url, what)
        next_url: str | None = url
        for index in range(MAX_PAGES):
            if next_url is None:
                return
            body, response = await self._get_json(
                next_url, what, params=params if index == 0 else None, headers=headers if index == 0 else None
            )
            if body is None:  # 304 on the first page: nothing changed
                yield None, response
                return
            if not isinstance(body, list):
                raise BadResponse(f"{what}: expected a JSON array")
            yield body, response
            next_url = links.next(response)
            if links.problem:
                self._problem = links.problem
            if self._pause:
                return  # the quota is spent: stop here, the cursor keeps what we got

    async def whoami(self) -> Identity:
        if self._me is None:
            body, _ = await self._get_json("/user", "who am I")
            if not isinstance(body, dict) or not body.get("login"):
                raise BadResponse("who am I: the answer has no login")
            self._me = Identity(id=str(body.get("id") or body["login"]), handle="@" + str(body["login"]))
        return self._me

    def _mine(self, obj: Any, me: Identity) -> bool:
        user = obj.get("user") if isinstance(obj, dict) else None
        return isinstance(user, dict) and "@" + str(user.get("login") or "") == me.handle

    # ------------------------------------------------------------------ polling
    async def poll(self, cursor: dict[str, Any] | None) -> PollResult:
        me = await self.whoami()
        self._pause = 0.0
        self._problem = ""
        cursor = dict(cursor or {})
        messages: list[Message] = []
        skipped = 0
        interval: float | None = None
        if self.options.notifications:
            got, bad, cursor["notifications"], interval = await self._poll_notifications(
                cursor.get("notifications") or {}, me
            )
            messages += got
            skipped += bad
        repos = dict(cursor.get("repos") or {})
        for repo in self.options.repos:
            if self._pause:
                break
            got, bad, repos[repo] = await self._poll_comments(repo, repos.get(repo) or {}, me)
            messages += got
            skipped += bad
            if self.options.new_issues and not self._pause:
                key = f"issues:{repo}"
                got, bad, repos[key] = await self._poll_issues(repo, repos.get(key) or {}, me)
                messages += got
                skipped += bad
            if self.options.discussions and not self._pause:
                key = f"discussions:{repo}"
                state = repos.get(key) or {}
                got, bad, repos[key] = await discussions.poll(
                    self._graphql, self.ctx.name, repo, state, self._since(state), me.handle.lstrip("@")
                )
                messages += got
                skipped += bad
        cursor["repos"] = repos
        wait = max(interval or 0.0, self._pause) or None
        return PollResult(
            messages=_merge(messages), cursor=cursor, next_poll_in=wait, skipped=skipped, error=self._problem
        )

    async def _poll_notifications(
        self, state: dict[str, Any], me: Identity
    ) -> tuple[list[Message], int, dict[str, Any], float | None]:
        params: dict[str, Any] = {"per_page": max(1, min(50, self.options.page_size))}
        if self.options.participating:
            params["participating"] = "true"
        threads: dict[str, str] = dict(state.get("threads") or {})
        headers = http.conditional({"last_modified": state.get("last_modified") or ""}) or None
        fresh: list[dict[str, Any]] = []
        interval: float | None = None
        last_modified = state.get("last_modified")
        first_page, more_pages = True, False
        async for page, response in self._pages("/notifications", "notifications", params, headers):
            if response.headers.get("X-Poll-Interval", "").isdecimal():  # not isdigit: "²"
                interval = min(float(response.headers["X-Poll-Interval"]), http.MAX_WAIT)
            if page is None:
                return [], 0, state, interval
            if first_page:
                last_modified, first_page = response.headers.get("Last-Modified") or last_modified, False
            fresh += [t for t in page if isinstance(t, dict) and t.get("id") and t.get("updated_at")]
            more_pages = "next" in response.links
        messages: list[Message] = []
        skipped = 0
        resolved = 0
        deferred = more_pages  # pages left unread (page budget or quota): read the list again next time
        for thread in sorted(fresh, key=lambda t: str(t["updated_at"])):
            tid, updated = str(thread["id"]), str(thread["updated_at"])
            if threads.get(tid, "") >= updated:
                continue  # already delivered this update of the thread
            if resolved >= MAX_RESOLVE or self._pause:
                deferred = True  # left for the next poll: the cursor does not record it
                continue
            resolved += 1
            try:
                message = await self._resolve(thread, me)
            except MALFORMED:
                skipped += 1
                message = None
            threads[tid] = updated
            if message is not None:
                messages.append(message)
        kept = dict(sorted(threads.items(), key=lambda kv: kv[1])[-THREADS_KEEP:])
        # A deferred thread or an unread page must be seen again: do not let If-Modified-Since hide it.
        new_state = {"threads": kept, "last_modified": None if deferred else last_modified}
        return messages, skipped, new_state, interval

    async def _resolve(self, thread: dict[str, Any], me: Identity) -> Message | None:
        """The comment or issue a notification thread points at, as a message (None for our own)."""
        subject = thread.get("subject") or {}
        reason = str(thread.get("reason") or "")
        kind = Kind.MENTION if reason in conv.MENTION_REASONS else Kind.COMMENT
        target = str(subject.get("latest_comment_url") or subject.get("url") or "")
        try:
            path = httpx.URL(target).path if target else ""
        except httpx.InvalidURL as exc:  # a link no URL parser takes: the thread is skipped, as malformed
            raise ValueError("unreadable subject url") from exc
        client = await self._http()
        base_path = client.base_url.path.rstrip("/")
        if path.startswith(base_path):
            path = path[len(base_path) :]
        title = sanitize(str(subject.get("title") or ""), single_line=True)
        ref = conv.issue_ref(str(subject.get("url") or ""))
        if ref is not None and title:
            self._titles[f"{ref[0]}#{ref[1]}"] = title
        extra = {"thread_id": str(thread["id"])}
        if conv.COMMENT_URL.search(path):
            body, _ = await self._get_json(path, "notification comment")
            if not isinstance(body, dict) or self._mine(body, me):
                return None
            msg = conv.comment_message(self.ctx.name, body, title=title, kind=kind, reason=reason)
        elif conv.ISSUE_URL.search(path) and ref is not None:
            body, _ = await self._get_json(path.replace("/pulls/", "/issues/"), "notification issue")
            if not isinstance(body, dict) or self._mine(body, me):
                return None
            msg = conv.issue_message(self.ctx.name, ref[0], body, kind=kind, reason=reason)
        else:
            msg = conv.notification_message(self.ctx.name, thread)
        return msgspec.structs.replace(msg, extra={**msg.extra, **extra})

    def _since(self, state: dict[str, Any]) -> str:
        if state.get("since"):
            return str(state["since"])
        return _iso(self.ctx.clock() - timedelta(hours=max(0, self.options.backfill_hours)))

    async def _poll_comments(
        self, repo: str, state: dict[str, Any], me: Identity
    ) -> tuple[list[Message], int, dict[str, Any]]:
        since = self._since(state)
        params = {"sort": "updated", "direction": "asc", "since": since, "per_page": 100}
        headers = http.conditional({"etag": state.get("etag") or ""}) if state.get("since") else None
        at_since = set(state.get("at") or [])
        newest, at_newest = since, set(at_since)
        messages: list[Message] = []
        skipped = 0
        etag = state.get("etag")
        first = True
        pages = self._pages(f"/repos/{repo}/issues/comments", f"comments of {repo}", params, headers)
        async for page, response in pages:
            if page is None:
                return [], 0, state
            if first:
                etag, first = response.headers.get("ETag"), False
            for comment in page:
                if not isinstance(comment, dict) or not comment.get("id"):
                    skipped += 1
                    continue
                updated = str(comment.get("updated_at") or comment.get("created_at") or "")
                cid = str(comment["id"])
                if updated < since or (updated == since and cid in at_since):
                    continue  # seen at the boundary last time (`since` is inclusive)
                if updated > newest:
                    newest, at_newest = updated, set()
                if updated == newest:
                    at_newest.add(cid)
                if self._mine(comment, me):
                    continue
                try:
                    title = self._title_for(str(comment.get("issue_url") or ""))
                    messages.append(conv.comment_message(self.ctx.name, comment, title=title))
                except MALFORMED:
                    skipped += 1
        return messages, skipped, {"since": newest, "at": sorted(at_newest), "etag": etag}

    def _title_for(self, issue_url: str) -> str:
        ref = conv.issue_ref(issue_url)
        return self._titles.get(f"{ref[0]}#{ref[1]}", "") if ref else ""

    async def _poll_issues(
        self, repo: str, state: dict[str, Any], me: Identity
    ) -> tuple[list[Message], int, dict[str, Any]]:
        since = self._since(state)
        params = {"state": "all", "sort": "created", "direction": "asc", "since": since, "per_page": 100}
        seen = set(state.get("seen") or [])
        newest = since
        messages: list[Message] = []
        skipped = 0
        async for page, _response in self._pages(f"/repos/{repo}/issues", f"issues of {repo}", params):
            if page is None:
                break
            for issue in page:
                try:
                    created = str(issue["created_at"])
                    number = str(issue["number"])
                    self._titles[f"{repo}#{number}"] = sanitize(str(issue.get("title") or ""), single_line=True)
                    # `since` filters on updated_at: an old issue with a new comment is not new.
                    if created < since or number in seen:
                        continue
                    seen.add(number)
                    newest = max(newest, created)
                    if not self._mine(issue, me):
                        messages.append(conv.issue_message(self.ctx.name, repo, issue))
                except MALFORMED:
                    skipped += 1
        recent = sorted(seen, key=int)[-THREADS_KEEP:]
        return messages, skipped, {"since": newest, "seen": recent}

    # ------------------------------------------------------------------ thread, reply, moderation
    def _ref(self, message: Message) -> tuple[str, str]:
        repo, number = message.extra.get("repo", ""), message.extra.get("number", "")
        if not repo or not number:
            raise Rejected("this GitHub item is not an issue or a comment (a release or check run): open it on GitHub")
        return repo, number

    async def thread(self, message: Message) -> list[Message]:
        me = await self.whoami()
        if message.extra.get("discussion_id"):
            found = await discussions.comments(self._graphql, message.extra["discussion_id"])
            replies = [message]
            for node in found:
                try:
                    replies.append(discussions.comment_message(self.ctx.name, message, node))
                except MALFORMED:
                    continue
            return sorted(replies, key=lambda m: m.created_at)
        repo, number = self._ref(message)
        issue, _ = await self._get_json(issue_path(repo, number), "thread")
        out: dict[str, Message] = {message.id: message}
        if isinstance(issue, dict):
            try:
                root = conv.issue_message(self.ctx.name, repo, issue)
                out.setdefault(root.id, root)
            except MALFORMED:
                pass
        async for page, _ in self._pages(f"{issue_path(repo, number)}/comments", "thread", {"per_page": 100}):
            for comment in page or []:
                try:
                    msg = conv.comment_message(self.ctx.name, comment, kind=Kind.POST)
                except MALFORMED:
                    continue
                if self._mine(comment, me):
                    msg = msgspec.structs.replace(msg, extra={**msg.extra, "mine": "1"})
                out.setdefault(msg.id, msg)
        return sorted(out.values(), key=lambda m: m.created_at)

    async def _already_posted(self, repo: str, number: str, since: datetime, key: str) -> dict[str, Any] | None:
        me = await self.whoami()
        params = {"since": _iso(since - timedelta(minutes=5)), "per_page": 100}
        async for page, _ in self._pages(f"{issue_path(repo, number)}/comments", "check earlier reply", params):
            for comment in page or []:
                if isinstance(comment, dict) and self._mine(comment, me) and marker(key) in str(comment.get("body")):
                    return comment
        return None

    @classmethod
    def outgoing_reply(cls, message: Message, text: str, options: msgspec.Struct | None) -> OutgoingReply:
        """Posted as typed, with its hidden retry marker."""
        return marked_reply(text, cls.capabilities.reply_limit)

    async def reply(self, message: Message, text: str, idempotency_key: str) -> ReplyReceipt:
        out = self.outgoing_reply(message, text, self.options)
        if out.too_long:
            raise Rejected(out.refusal(self.type_name))
        if message.extra.get("discussion_id"):
            return await self._reply_discussion(message, text, idempotency_key)
        repo, number = self._ref(message)
        earlier = await self._already_posted(repo, number, message.created_at, idempotency_key)
        if earlier is not None:
            return ReplyReceipt(native_id=f"comment-{earlier.get('id')}", url=str(earlier.get("html_url") or ""))
        body = with_marker(text, idempotency_key)
        response = await self._send("POST", f"{issue_path(repo, number)}/comments", "post comment", json={"body": body})
        made = http.json_body(response, "post comment")
        if not isinstance(made, dict) or not made.get("id"):
            raise BadResponse("post comment: the answer has no comment id")
        return ReplyReceipt(native_id=f"comment-{made['id']}", url=str(made.get("html_url") or ""))

    async def _reply_discussion(self, message: Message, text: str, key: str) -> ReplyReceipt:
        me = (await self.whoami()).handle.lstrip("@")
        for node in await discussions.comments(self._graphql, message.extra["discussion_id"]):
            if (node.get("author") or {}).get("login") == me and marker(key) in str(node.get("body")):
                return ReplyReceipt(native_id=f"discussion-comment-{node['id']}", url=str(node.get("url") or ""))
        try:
            made = await discussions.add_comment(self._graphql, message.extra["discussion_id"], with_marker(text, key))
        except ValueError:
            raise BadResponse("post discussion comment: the answer has no comment") from None
        return ReplyReceipt(native_id=f"discussion-comment-{made['id']}", url=str(made.get("url") or ""))

    async def mark_read(self, message: Message) -> None:
        thread_id = message.extra.get("thread_id")
        if thread_id:
            await self._send("PATCH", f"/notifications/threads/{http.segment(thread_id)}", "mark read")

    async def moderate(self, message: Message, action: str, reason: str) -> None:
        if action in ("lock", "unlock"):
            repo, number = self._ref(message)
            if action == "unlock":
                await self._send("DELETE", f"{issue_path(repo, number)}/lock", "unlock")
                return
            lock_reason = reason.strip().lower()
            body = {"lock_reason": lock_reason} if lock_reason in LOCK_REASONS else {}
            await self._send("PUT", f"{issue_path(repo, number)}/lock", "lock", json=body)
        elif action == "hide":
            node = message.extra.get("node_id")
            if not node:
                raise Rejected("this item has no GraphQL node id to hide")
            classifier = HIDE_CLASSIFIERS.get(reason.strip().lower(), "OFF_TOPIC")
            await self._graphql(MINIMIZE, {"id": node, "classifier": classifier}, "hide comment")
        else:
            raise Rejected(f"github cannot {action!r}; it can {', '.join(self.capabilities.moderation)}")

    def _graphql_url(self, base: httpx.URL) -> str:
        path = base.path.rstrip("/")
        # github.com: api.github.com/graphql; Enterprise Server: HOST/api/v3 → HOST/api/graphql
        path = path[: -len("/v3")] + "/graphql" if path.endswith("/api/v3") else path + "/graphql"
        return str(base.copy_with(path=path))

    async def _graphql(self, query: str, variables: dict[str, Any], what: str) -> Any:
        """POST a GraphQL query; GraphQL reports failures as 200 with ``errors``."""
        client = await self._http()
        response = await self._send(
            "POST", self._graphql_url(client.base_url), what, json={"query": query, "variables": variables}
        )
        body = http.json_body(response, what)
        if not isinstance(body, dict):
            raise BadResponse(f"{what}: expected a JSON object")
        errors = body.get("errors")
        if errors:
            first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
            raise Rejected(f"{what}: {http.server_text(first.get('message') or errors, 200)}")
        return body.get("data")
