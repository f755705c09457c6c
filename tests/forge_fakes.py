"""Small stateful stand-ins for GitHub, Discourse and Reddit, shaped after their API docs.

Prism checks that every request the adapters make is allowed by the official
descriptions; it keeps no state. These fakes keep just enough state (comments posted,
pages, validators, quotas) to test what Prism cannot: pagination exactly once, 304s,
rate-limit pauses, a reply retried after a crash. Each is an httpx handler (for
``httpx.MockTransport``) that can also be served on 127.0.0.1 for subprocess tests.
"""

from __future__ import annotations

import json
import re
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import httpx

Route = tuple[str, re.Pattern[str], Callable[..., httpx.Response]]
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def iso(n: int) -> str:
    return (T0 + timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%SZ")


class Fake:
    """Routes, a log of requests, and scripted answers to force the next responses."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.requests: list[httpx.Request] = []
        self.script: list[httpx.Response] = []  # answered first, in order, whatever the request
        self.extra_headers: dict[str, str] = {}
        self.lock = threading.Lock()

    def route(
        self, method: str, pattern: str
    ) -> Callable[[Callable[..., httpx.Response]], Callable[..., httpx.Response]]:
        def add(fn: Callable[..., httpx.Response]) -> Callable[..., httpx.Response]:
            self.routes.append((method, re.compile(pattern + "$"), fn))
            return fn

        return add

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
            if self.script:
                return self.script.pop(0)
            for method, pattern, fn in self.routes:
                found = pattern.match(request.url.path)
                if method == request.method and found:
                    response: httpx.Response = fn(request, *found.groups())
                    response.headers.update(self.extra_headers)
                    return response
            return httpx.Response(404, json={"message": "Not Found"})

    def paths(self, method: str = "") -> list[str]:
        return [r.url.path for r in self.requests if not method or r.method == method]

    @contextmanager
    def serve(self) -> Iterator[str]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = httpx.Request(
                    self.command, f"http://{self.headers['Host']}{self.path}", headers=dict(self.headers), content=body
                )
                response = fake(request)
                self.send_response(response.status_code)
                for key, value in response.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(response.content)))
                self.end_headers()
                self.wfile.write(response.content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()


def query(request: httpx.Request) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(request.url.query.decode()).items()}


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(request.content.decode()).items()}


# ---------------------------------------------------------------------------------------------- GitHub
class FakeGitHub(Fake):
    def __init__(self, me: str = "cm-bot") -> None:
        super().__init__()
        self.me = me
        self.comments: list[dict[str, Any]] = []  # every issue comment, any repo
        self.threads: list[dict[str, Any]] = []
        self.read: list[str] = []
        self.locked: list[tuple[str, str]] = []
        self.discussions: list[dict[str, Any]] = []  # GraphQL Discussion nodes
        self.discussion_comments: dict[str, list[dict[str, Any]]] = {}
        self.last_modified = "Sun, 01 Nov 2026 12:00:00 GMT"
        self.poll_interval = "60"
        self.next_id = 1000

        @self.route("GET", r"/user")
        def user(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, json={"login": self.me, "id": 7})

        @self.route("GET", r"/notifications")
        def notifications(request: httpx.Request) -> httpx.Response:
            headers = {"Last-Modified": self.last_modified, "X-Poll-Interval": self.poll_interval}
            if request.headers.get("If-Modified-Since") == self.last_modified:
                return httpx.Response(304, headers=headers)
            q = query(request)
            per, page = int(q.get("per_page", "50")), int(q.get("page", "1"))
            newest_first = sorted(self.threads, key=lambda t: t["updated_at"], reverse=True)
            chunk = newest_first[(page - 1) * per : page * per]
            if page * per < len(newest_first):
                headers["Link"] = f'<{request.url.copy_merge_params({"page": str(page + 1)})}>; rel="next"'
            return httpx.Response(200, json=chunk, headers=headers)

        @self.route("GET", r"/repos/([^/]+/[^/]+)/issues/comments")
        def repo_comments(request: httpx.Request, repo: str) -> httpx.Response:
            q = query(request)
            rows = sorted(
                (c for c in self.comments if c["repo"] == repo and c["updated_at"] >= q.get("since", "")),
                key=lambda c: (c["updated_at"], c["id"]),
            )
            return self._page(request, rows, int(q.get("per_page", "30")), int(q.get("page", "1")))

        @self.route("GET", r"/repos/([^/]+/[^/]+)/issues/comments/(\d+)")
        def one_comment(request: httpx.Request, repo: str, cid: str) -> httpx.Response:
            found = [c for c in self.comments if c["id"] == int(cid)]
            return httpx.Response(200, json=self._public(found[0])) if found else httpx.Response(404)

        @self.route("GET", r"/repos/([^/]+/[^/]+)/issues/(\d+)/comments")
        def issue_comments(request: httpx.Request, repo: str, number: str) -> httpx.Response:
            q = query(request)
            rows = [
                c
                for c in self.comments
                if c["repo"] == repo and c["number"] == int(number) and c["updated_at"] >= q.get("since", "")
            ]
            return self._page(request, rows, int(q.get("per_page", "30")), int(q.get("page", "1")))

        @self.route("POST", r"/repos/([^/]+/[^/]+)/issues/(\d+)/comments")
        def post_comment(request: httpx.Request, repo: str, number: str) -> httpx.Response:
            body = json.loads(request.content)["body"]
            made = self.add_comment(repo, int(number), self.me, body, minute=600 + len(self.comments))
            return httpx.Response(201, json=self._public(made))

        @self.route("PUT", r"/repos/([^/]+/[^/]+)/issues/(\d+)/lock")
        def lock(request: httpx.Request, repo: str, number: str) -> httpx.Response:
            self.locked.append((f"{repo}#{number}", json.loads(request.content or b"{}").get("lock_reason", "")))
            return httpx.Response(204)

        @self.route("PATCH", r"/notifications/threads/(\d+)")
        def mark(request: httpx.Request, thread: str) -> httpx.Response:
            self.read.append(thread)
            return httpx.Response(205)

        @self.route("POST", r"/graphql")
        def graphql(request: httpx.Request) -> httpx.Response:
            body = json.loads(request.content)
            query_text, variables = body["query"], body["variables"]
            if "discussions(" in query_text:
                nodes = sorted(self.discussions, key=lambda d: d["createdAt"], reverse=True)
                page = {"hasNextPage": False, "endCursor": None}
                return httpx.Response(
                    200, json={"data": {"repository": {"discussions": {"pageInfo": page, "nodes": nodes}}}}
                )
            if "addDiscussionComment" in query_text:
                self.next_id += 1
                comment = {"id": f"DC_{self.next_id}", "body": variables["body"], "createdAt": iso(900),
                           "url": f"https://github.com/d#c{self.next_id}", "author": {"login": self.me}}  # fmt: skip
                self.discussion_comments.setdefault(variables["id"], []).append(comment)
                return httpx.Response(200, json={"data": {"addDiscussionComment": {"comment": comment}}})
            nodes = self.discussion_comments.get(variables["id"], [])
            return httpx.Response(200, json={"data": {"node": {"comments": {"nodes": nodes}}}})

    def notify(self, comment: dict[str, Any], reason: str = "mention", title: str = "") -> dict[str, Any]:
        """The notification thread of ``comment``'s issue, updated to it (GitHub's shape)."""
        repo, number = comment["repo"], comment["number"]
        thread_id = str(zlib.crc32(f"{repo}#{number}".encode()))
        self.threads = [t for t in self.threads if t["id"] != thread_id]
        self.threads.append(
            {
                "id": thread_id,
                "reason": reason,
                "updated_at": comment["updated_at"],
                "subject": {
                    "title": title or f"Issue {number}",
                    "type": "Issue",
                    "url": f"https://api.github.com/repos/{repo}/issues/{number}",
                    "latest_comment_url": f"https://api.github.com/repos/{repo}/issues/comments/{comment['id']}",
                },
                "repository": {"full_name": repo},
            }
        )
        self.last_modified = f"Sun, 01 Nov 2026 12:{len(self.comments) % 60:02d}:00 GMT"
        return self.threads[-1]

    def _public(self, c: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in c.items() if k not in ("repo", "number")}

    def _page(self, request: httpx.Request, rows: list[dict[str, Any]], per: int, page: int) -> httpx.Response:
        chunk = rows[(page - 1) * per : page * per]
        headers = {}
        if page * per < len(rows):
            nxt = request.url.copy_merge_params({"page": str(page + 1)})
            headers["Link"] = f'<{nxt}>; rel="next"'
        etag = f'W/"{hash(json.dumps(chunk, sort_keys=True)) & 0xFFFFFFFF:x}"'
        headers["ETag"] = etag
        if request.headers.get("If-None-Match") == etag:
            return httpx.Response(304, headers=headers)
        return httpx.Response(200, json=[self._public(c) for c in chunk], headers=headers)

    def add_comment(self, repo: str, number: int, login: str, body: str, minute: int) -> dict[str, Any]:
        self.next_id += 1
        comment = {
            "id": self.next_id,
            "node_id": f"IC_{self.next_id}",
            "repo": repo,
            "number": number,
            "body": body,
            "user": {"login": login, "id": hash(login) & 0xFFFF, "html_url": f"https://github.com/{login}"},
            "created_at": iso(minute),
            "updated_at": iso(minute),
            "issue_url": f"https://api.github.com/repos/{repo}/issues/{number}",
            "html_url": f"https://github.com/{repo}/issues/{number}#issuecomment-{self.next_id}",
        }
        self.comments.append(comment)
        return comment


# ---------------------------------------------------------------------------------------------- Discourse
class FakeDiscourse(Fake):
    PAGE = 20

    def __init__(self, me: str = "cm") -> None:
        super().__init__()
        self.me = me
        self.posts: list[dict[str, Any]] = []
        self.notifications: list[dict[str, Any]] = []
        self.read: list[int] = []
        self.next_id = 100
        self.moderator = True
        self.review: dict[str, Any] = {"reviewables": [], "users": [], "reviewable_scores": []}
        self.performed: list[tuple[int, str, str]] = []

        @self.route("GET", r"/u/([^/]+)\.json")
        def user(request: httpx.Request, name: str) -> httpx.Response:
            return httpx.Response(200, json={"user": {"id": 3, "username": name}})

        @self.route("GET", r"/posts\.json")
        def latest(request: httpx.Request) -> httpx.Response:
            before = int(query(request).get("before", "0") or 0)
            rows = sorted((p for p in self.posts if not before or p["id"] < before), key=lambda p: -p["id"])
            return httpx.Response(200, json={"latest_posts": rows[: self.PAGE]})

        @self.route("GET", r"/posts/(\d+)\.json")
        def one(request: httpx.Request, pid: str) -> httpx.Response:
            found = [p for p in self.posts if p["id"] == int(pid)]
            return httpx.Response(200, json=found[0]) if found else httpx.Response(404)

        @self.route("GET", r"/notifications\.json")
        def notes(request: httpx.Request) -> httpx.Response:
            # Discourse pages notifications by offset, 60 at a time, newest first.
            offset = int(query(request).get("offset", "0"))
            rows = sorted(self.notifications, key=lambda n: -n["id"])
            body: dict[str, Any] = {"notifications": rows[offset : offset + 60], "total_rows_notifications": len(rows)}
            if offset + 60 < len(rows):
                body["load_more_notifications"] = f"/notifications?offset={offset + 60}&username={self.me}"
            return httpx.Response(200, json=body)

        @self.route("GET", r"/user_actions\.json")
        def actions(request: httpx.Request) -> httpx.Response:
            mine = sorted((p for p in self.posts if p["username"] == self.me), key=lambda p: -p["id"])
            rows = [{"post_id": p["id"], "topic_id": p["topic_id"], "post_number": p["post_number"]} for p in mine]
            return httpx.Response(200, json={"user_actions": rows})

        @self.route("GET", r"/t/(\d+)\.json")
        def topic(request: httpx.Request, tid: str) -> httpx.Response:
            posts = [p for p in self.posts if p["topic_id"] == int(tid)]
            return httpx.Response(200, json={"id": int(tid), "title": "T", "tags": [], "post_stream": {"posts": posts}})

        @self.route("POST", r"/posts\.json")
        def create(request: httpx.Request) -> httpx.Response:
            body = json.loads(request.content)
            return httpx.Response(200, json=self.add_post(int(body["topic_id"]), self.me, body["raw"]))

        @self.route("PUT", r"/notifications/mark-read\.json")
        def mark(request: httpx.Request) -> httpx.Response:
            self.read.append(json.loads(request.content)["id"])
            return httpx.Response(200, json={"success": "OK"})

        @self.route("GET", r"/review\.json")
        def review(request: httpx.Request) -> httpx.Response:
            if not self.moderator:
                return httpx.Response(403, json={"errors": ["You are not permitted to view the requested resource."]})
            return httpx.Response(200, json=self.review)

        @self.route("PUT", r"/review/(\d+)/perform/([a-z_]+)\.json")
        def perform(request: httpx.Request, rid: str, action: str) -> httpx.Response:
            self.performed.append((int(rid), action, query(request).get("version", "")))
            return httpx.Response(200, json={"reviewable_perform_result": {"success": "OK"}})

    def add_post(self, topic_id: int, username: str, raw: str, category_id: int = 1) -> dict[str, Any]:
        self.next_id += 1
        number = 1 + sum(1 for p in self.posts if p["topic_id"] == topic_id)
        post = {
            "id": self.next_id,
            "username": username,
            "name": username.title(),
            "created_at": iso(self.next_id),
            "cooked": f"<p>{raw}</p>",
            "raw": raw,
            "post_number": number,
            "topic_id": topic_id,
            "topic_slug": f"topic-{topic_id}",
            "topic_title": f"Topic {topic_id}",
            "category_id": category_id,
        }
        self.posts.append(post)
        return post


# ---------------------------------------------------------------------------------------------- Reddit
class FakeReddit(Fake):
    def __init__(
        self, me: str = "cm_bot", client: tuple[str, str] = ("app-id", "app-secret"), password: str = "pw"
    ) -> None:
        super().__init__()
        self.me = me
        self.grants = 0
        self.inbox: list[dict[str, Any]] = []  # newest first, as Reddit lists them
        self.mine: list[dict[str, Any]] = []
        self.read: list[str] = []
        self.moderated: list[tuple[str, dict[str, str]]] = []
        self.next_id = 5000

        @self.route("POST", r"/api/v1/access_token")
        def token(request: httpx.Request) -> httpx.Response:
            auth = httpx.BasicAuth(*client)._auth_header
            data = form(request)
            if request.headers.get("Authorization") != auth or data.get("password") != password:
                return httpx.Response(200, json={"error": "invalid_grant"})
            self.grants += 1
            return httpx.Response(
                200, json={"access_token": f"tok{self.grants}", "token_type": "bearer", "expires_in": 86400}
            )

        @self.route("GET", r"/api/v1/me")
        def me_(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, json={"name": self.me, "id": "abc"})

        @self.route("GET", r"/message/inbox")
        def inbox(request: httpx.Request) -> httpx.Response:
            return self._listing(request, self.inbox)

        @self.route("GET", r"/user/([^/]+)/comments")
        def own(request: httpx.Request, name: str) -> httpx.Response:
            return self._listing(request, self.mine)

        @self.route("POST", r"/api/comment")
        def comment(request: httpx.Request) -> httpx.Response:
            data = form(request)
            made = self.thing("t1", self.me, data["text"], parent=data["thing_id"])
            self.mine.insert(0, made)
            return httpx.Response(200, json={"json": {"errors": [], "data": {"things": [made]}}})

        @self.route("POST", r"/api/(read_message|remove|approve)")
        def act(request: httpx.Request, verb: str) -> httpx.Response:
            (
                self.read.append(form(request)["id"])
                if verb == "read_message"
                else self.moderated.append((verb, form(request)))
            )
            return httpx.Response(200, json={})

        @self.route("POST", r"/api/v1/modactions/removal_reasons")
        def reason(request: httpx.Request) -> httpx.Response:
            self.moderated.append(("reason", form(request)))
            return httpx.Response(200, json={})

    def _listing(self, request: httpx.Request, rows: list[dict[str, Any]]) -> httpx.Response:
        q = query(request)
        start = 0
        if q.get("after"):
            start = next((i + 1 for i, r in enumerate(rows) if r["data"]["name"] == q["after"]), len(rows))
        chunk = rows[start : start + int(q.get("limit", "25"))]
        after = chunk[-1]["data"]["name"] if start + len(chunk) < len(rows) else None
        return httpx.Response(
            200, json={"kind": "Listing", "data": {"after": after, "before": None, "children": chunk}}
        )

    def thing(self, kind: str, author: str, body: str, parent: str = "t3_root") -> dict[str, Any]:
        self.next_id += 1
        name = f"{kind}_{self.next_id:x}"
        data = {
            "name": name,
            "id": f"{self.next_id:x}",
            "author": author,
            "body": body,
            "created_utc": (T0 + timedelta(minutes=self.next_id - 5000)).timestamp(),
            "subreddit": "cminbox",
            "parent_id": parent,
            "link_id": "t3_root",
            "link_title": "Release 2.0",
            "subject": "comment reply",
            "context": f"/r/cminbox/comments/root/_/{self.next_id:x}/?context=3",
            "permalink": f"/r/cminbox/comments/root/_/{self.next_id:x}/",
            "was_comment": True,
            "new": True,
        }
        return {"kind": kind, "data": data}

    def receive(self, author: str, body: str) -> dict[str, Any]:
        made = self.thing("t1", author, body)
        self.inbox.insert(0, made)
        return made
