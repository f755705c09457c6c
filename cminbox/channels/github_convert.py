"""GitHub REST objects (issues, issue comments, notification threads) → Messages.

Kept apart from the adapter so the conversions can be tested on documented bodies alone.
Ids are chosen so the same comment reached through a notification and through a
repository's comment listing is one message: ``comment-<id>``, ``issue-<owner>/<repo>#<n>``.
"""

from __future__ import annotations

import re
from typing import Any

from dateutil import parser as dateparser

from cminbox.core.models import Author, Kind, Message, message_id, utc
from cminbox.core.text import sanitize

ISSUE_URL = re.compile(r"/repos/([^/]+)/([^/]+)/(?:issues|pulls)/(\d+)$")
COMMENT_URL = re.compile(r"/repos/([^/]+)/([^/]+)/issues/comments/(\d+)$")
MENTION_REASONS = frozenset({"mention", "team_mention"})


def issue_ref(url: str) -> tuple[str, int] | None:
    """("owner/repo", number) from an issue or pull-request API URL."""
    found = ISSUE_URL.search(url or "")
    return (f"{found.group(1)}/{found.group(2)}", int(found.group(3))) if found else None


def thread_key(channel: str, repo: str, number: int) -> str:
    return message_id(channel, f"issue-{repo}#{number}")


def _author(user: Any) -> Author:
    user = user if isinstance(user, dict) else {}
    login = sanitize(str(user.get("login") or "ghost"), single_line=True)
    return Author(id=str(user.get("id") or login), handle="@" + login, url=str(user.get("html_url") or ""))


def _clean_body(text: Any) -> str:
    return sanitize(str(text or "")).strip()


def comment_message(
    channel: str, comment: dict[str, Any], *, title: str = "", kind: Kind = Kind.COMMENT, reason: str = ""
) -> Message:
    ref = issue_ref(str(comment.get("issue_url") or ""))
    if ref is None:
        raise ValueError("comment without an issue_url")
    repo, number = ref
    heading = f"{repo}#{number}" + (f" {sanitize(title, single_line=True)}" if title else "")
    extra = {
        "repo": repo,
        "number": str(number),
        "comment_id": str(comment["id"]),
        "node_id": str(comment.get("node_id") or ""),
        "login": str((comment.get("user") or {}).get("login") or ""),
    }
    if reason:
        extra["reason"] = reason
    return Message(
        id=message_id(channel, f"comment-{comment['id']}"),
        channel=channel,
        channel_type="github",
        native_id=f"comment-{comment['id']}",
        kind=kind,
        author=_author(comment.get("user")),
        text=f"{heading}\n\n{_clean_body(comment.get('body'))}",
        created_at=utc(dateparser.isoparse(str(comment["created_at"]))),
        url=str(comment.get("html_url") or ""),
        thread_id=thread_key(channel, repo, number),
        parent_id=thread_key(channel, repo, number),
        extra=extra,
    )


def issue_message(
    channel: str, repo: str, issue: dict[str, Any], *, kind: Kind = Kind.POST, reason: str = ""
) -> Message:
    number = int(issue["number"])
    what = "PR" if issue.get("pull_request") else "Issue"
    title = sanitize(str(issue.get("title") or ""), single_line=True)
    extra = {
        "repo": repo,
        "number": str(number),
        "node_id": str(issue.get("node_id") or ""),
        "login": str((issue.get("user") or {}).get("login") or ""),
        "title": title,
    }
    if reason:
        extra["reason"] = reason
    return Message(
        id=thread_key(channel, repo, number),
        channel=channel,
        channel_type="github",
        native_id=f"issue-{repo}#{number}",
        kind=kind,
        author=_author(issue.get("user")),
        text=f"{what} {repo}#{number} {title}\n\n{_clean_body(issue.get('body'))}".strip(),
        created_at=utc(dateparser.isoparse(str(issue["created_at"]))),
        url=str(issue.get("html_url") or ""),
        thread_id=thread_key(channel, repo, number),
        extra=extra,
    )


def notification_message(channel: str, thread: dict[str, Any]) -> Message:
    """A notification whose subject is not an issue or comment (release, discussion, check run,
    commit): the thread itself, one message per update."""
    subject = thread.get("subject") or {}
    repo = str((thread.get("repository") or {}).get("full_name") or "")
    updated = str(thread["updated_at"])
    native = f"thread-{thread['id']}-{updated}"
    title = sanitize(str(subject.get("title") or ""), single_line=True)
    reason = str(thread.get("reason") or "")
    owner = (thread.get("repository") or {}).get("owner") or {}
    return Message(
        id=message_id(channel, native),
        channel=channel,
        channel_type="github",
        native_id=native,
        kind=Kind.MENTION if reason in MENTION_REASONS else Kind.POST,
        author=_author(owner),
        text=f"{sanitize(str(subject.get('type') or 'Notification'), single_line=True)} in {repo}: {title}\n\n"
        f"(notified: {reason or 'subscribed'})",
        created_at=utc(dateparser.isoparse(updated)),
        url=str((thread.get("repository") or {}).get("html_url") or ""),
        thread_id=message_id(channel, f"thread-{thread['id']}"),
        extra={"repo": repo, "thread_id": str(thread["id"]), "reason": reason},
    )
