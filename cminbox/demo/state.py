"""The demo server's world: accounts, statuses, mention notifications, replies.

Live traffic is *scheduled*, not timed by a thread: every request first materialises
the posts whose time has come. The same seed and clock give the same world.
"""

from __future__ import annotations

import html
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cminbox.demo import community
from cminbox.demo.community import OWN, PEOPLE, Post

HOST = "demo.lumen.community"
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class DemoState:
    seed: int = 7
    rate: float = 6.0  # live messages per minute
    backlog_size: int = 300
    burst_after: float = 60.0  # seconds after start; negative disables the incident
    burst_size: int = 45
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    token: str = "demo-token"  # noqa: S105 - the demo server's public, fake token
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.start = self.clock()
        self.accounts: dict[str, dict[str, Any]] = {}
        self.by_username: dict[str, dict[str, Any]] = {}
        self.statuses: dict[str, dict[str, Any]] = {}
        self.children: dict[str, list[str]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.idempotency: dict[str, str] = {}
        self._seq = 0
        self._note_seq = 1000
        self._posts: list[Post] = []
        self._post_status: list[str] = []
        self._make_account(*OWN, "own")
        for username, display, role in PEOPLE:
            self._make_account(username, display, role)
        rng = random.Random(self.seed)
        posts = community.backlog(rng, self.backlog_size)
        span = timedelta(hours=72)
        times: list[datetime] = []
        for i, post in enumerate(posts):
            at = self.start - span + span * (i + 1) / (len(posts) + 1) - timedelta(seconds=rng.randint(0, 120))
            times.append(at)
            self._publish(post, at)
        self._staff_backlog(posts, times)
        self._stream_rng = random.Random(self.seed + 1)
        self._next_live = self.start + self._gap()
        burst_rng = random.Random(self.seed + 2)
        self._burst: list[tuple[datetime, Post]] = []
        if self.burst_after >= 0:
            t0 = self.start + timedelta(seconds=self.burst_after)
            for _ in range(self.burst_size):
                self._burst.append((t0 + timedelta(seconds=burst_rng.uniform(0, 50)), community.outage_post(burst_rng)))
            self._burst.sort(key=lambda pair: pair[0])

    # ------------------------------------------------------------------ building blocks
    def _next_id(self, at: datetime) -> str:
        # Mastodon-style snowflake: milliseconds since an epoch, then a sequence.
        self._seq += 1
        ms = int((at - EPOCH).total_seconds() * 1000)
        return str((ms << 16) | (self._seq & 0xFFFF))

    def _make_account(self, username: str, display: str, role: str) -> None:
        acct_id = str(100 + len(self.accounts))
        account = {
            "id": acct_id,
            "username": username,
            "acct": username,
            "display_name": display,
            "url": f"https://{HOST}/@{username}",
            "avatar": "",
            "bot": role == "bot",
            "note": "",
            "created_at": _iso(EPOCH),
            "followers_count": 0,
            "following_count": 0,
            "statuses_count": 0,
            "locked": False,
        }
        self.accounts[acct_id] = account
        self.by_username[username] = account

    def _gap(self) -> timedelta:
        if self.rate <= 0:
            return timedelta(days=36500)
        return timedelta(seconds=self._stream_rng.expovariate(self.rate / 60.0))

    @staticmethod
    def _mention_html(username: str) -> str:
        return (
            f'<span class="h-card"><a href="https://{HOST}/@{username}" class="u-url mention">'
            f"@<span>{username}</span></a></span>"
        )

    def _publish(self, post: Post, at: datetime) -> dict[str, Any]:
        author = self.by_username[post.username]
        parent = self.statuses.get(self._post_status[post.reply_to_index]) if post.reply_to_index is not None else None
        if post.kind == "dm" and any(p.kind == "dm" for p in self._posts):
            # Each DM continues the same private conversation.
            last_dm = max(i for i, p in enumerate(self._posts) if p.kind == "dm")
            parent = self.statuses[self._post_status[last_dm]]
        mentions = [OWN[0]]
        if parent is not None and parent["account"]["username"] not in (*mentions, post.username):
            mentions.append(parent["account"]["username"])
        body = " ".join(self._mention_html(u) for u in mentions) + " " + html.escape(post.text, quote=False)
        status = self._status(author, f"<p>{body}</p>", at, post.visibility, parent, mentions)
        self._posts.append(post)
        self._post_status.append(status["id"])
        self._notify(status, at)
        return status

    def _status(
        self,
        author: dict[str, Any],
        content: str,
        at: datetime,
        visibility: str,
        parent: dict[str, Any] | None,
        mentions: list[str],
    ) -> dict[str, Any]:
        sid = self._next_id(at)
        status = {
            "id": sid,
            "uri": f"https://{HOST}/users/{author['username']}/statuses/{sid}",
            "url": f"https://{HOST}/@{author['username']}/{sid}",
            "created_at": _iso(at),
            "account": author,
            "content": content,
            "visibility": visibility,
            "sensitive": False,
            "spoiler_text": "",
            "media_attachments": [],
            "emojis": [],
            "tags": [],
            "language": "en",
            "in_reply_to_id": parent["id"] if parent else None,
            "in_reply_to_account_id": parent["account"]["id"] if parent else None,
            "mentions": [
                {"id": self.by_username[u]["id"], "username": u, "acct": u, "url": self.by_username[u]["url"]}
                for u in mentions
                if u in self.by_username
            ],
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "reblog": None,
        }
        self.statuses[sid] = status
        author["statuses_count"] += 1
        if parent is not None:
            self.children.setdefault(parent["id"], []).append(sid)
            parent["replies_count"] += 1
        return status

    def _notify(self, status: dict[str, Any], at: datetime) -> None:
        if not any(m["username"] == OWN[0] for m in status["mentions"]):
            return
        if status["account"]["username"] == OWN[0]:
            return
        self._note_seq += 1
        self.notifications.append(
            {
                "id": str(self._note_seq),
                "type": "mention",
                "created_at": _iso(at),
                "account": status["account"],
                "status": status,
            }
        )

    def _staff_backlog(self, posts: list[Post], times: list[datetime]) -> None:
        """The team's replies in the backlog threads (community.staff_answers): written after
        the question and, where Mira answered too, before her answer (staff first)."""
        for question, post, where in community.staff_answers(random.Random(self.seed + 3), posts):
            hers = [times[i] for i, p in enumerate(posts) if p.kind == "advocate" and p.reply_to_index == question]
            until = min(hers) if hers else times[question] + timedelta(minutes=40)
            self._publish(post, times[question] + (until - times[question]) * where)

    # ------------------------------------------------------------------ time passes
    def advance(self) -> None:
        now = self.clock()
        with self.lock:
            while self._burst and self._burst[0][0] <= now:
                at, post = self._burst.pop(0)
                self._publish(post, at)
            while self._next_live <= now:
                self._publish(community.everyday_post(self._stream_rng, self._posts), self._next_live)
                self._next_live += self._gap()

    # ------------------------------------------------------------------ the API's verbs
    def own_account(self) -> dict[str, Any]:
        return self.by_username[OWN[0]]

    def notifications_page(
        self, *, types: list[str], limit: int, max_id: str | None, min_id: str | None, since_id: str | None
    ) -> list[dict[str, Any]]:
        self.advance()
        with self.lock:
            rows = [n for n in self.notifications if not types or n["type"] in types]
            key = int
            if max_id:
                rows = [n for n in rows if key(n["id"]) < key(max_id)]
            if since_id:
                rows = [n for n in rows if key(n["id"]) > key(since_id)]
            if min_id:
                rows = [n for n in rows if key(n["id"]) > key(min_id)][:limit]  # oldest just above min_id
                return list(reversed(rows))
            return list(reversed(rows))[:limit]

    def context(self, sid: str) -> dict[str, list[dict[str, Any]]] | None:
        self.advance()
        with self.lock:
            status = self.statuses.get(sid)
            if status is None:
                return None
            ancestors: list[dict[str, Any]] = []
            cur = status
            while cur.get("in_reply_to_id") and cur["in_reply_to_id"] in self.statuses:
                cur = self.statuses[cur["in_reply_to_id"]]
                ancestors.insert(0, cur)
            descendants: list[dict[str, Any]] = []
            stack = list(self.children.get(sid, []))
            while stack:
                child = self.statuses[stack.pop(0)]
                descendants.append(child)
                stack = self.children.get(child["id"], []) + stack
            return {"ancestors": ancestors, "descendants": descendants}

    def post_status(
        self, text: str, in_reply_to_id: str | None, visibility: str, idempotency_key: str | None
    ) -> tuple[dict[str, Any], bool]:
        """Create a status from the managed account. Returns (status, created_now)."""
        with self.lock:
            if idempotency_key and idempotency_key in self.idempotency:
                return self.statuses[self.idempotency[idempotency_key]], False
            parent = self.statuses.get(in_reply_to_id) if in_reply_to_id else None
            mentioned = [w[1:].split("@")[0] for w in text.split() if w.startswith("@")]
            content = "<p>" + html.escape(text, quote=False) + "</p>"
            status = self._status(
                self.own_account(),
                content,
                self.clock(),
                visibility,
                parent,
                [u for u in mentioned if u in self.by_username],
            )
            if idempotency_key:
                self.idempotency[idempotency_key] = status["id"]
            return status, True

    def account_statuses(self, account_id: str, limit: int) -> list[dict[str, Any]] | None:
        self.advance()
        with self.lock:
            if account_id not in self.accounts:
                return None
            rows = [s for s in self.statuses.values() if s["account"]["id"] == account_id]
            return sorted(rows, key=lambda s: int(s["id"]), reverse=True)[:limit]
