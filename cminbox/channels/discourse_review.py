"""Discourse's review queue (``GET /review.json``): flagged and queued posts waiting for a moderator.

Not in Discourse's published API description; the shapes follow its serializers
(``ReviewableSerializer`` and ``ReviewableFlaggedPostSerializer``): each reviewable has
``id``, ``type``, ``topic_id``, ``target_id``, ``target_url``, ``created_at``, ``version``,
``target_created_by_id`` (a user in the top-level ``users`` list), ``reviewable_score_ids``
(scores in the top-level ``reviewable_scores`` list), and for flagged posts ``cooked``/``raw``;
queued posts carry their text in ``payload.raw``.
"""

from __future__ import annotations

from typing import Any

from dateutil import parser as dateparser

from cminbox.core.channel import MALFORMED
from cminbox.core.html_text import html_to_text
from cminbox.core.models import Author, Kind, Message, message_id, utc
from cminbox.core.text import sanitize

# Discourse's post action types, the reasons a flag carries.
SCORE_REASONS = {3: "off-topic", 4: "inappropriate", 6: "needs approval", 7: "something else", 8: "spam",
                 10: "illegal"}  # fmt: skip
SEEN_KEEP = 500
# What the moderation actions do to a reviewable (Discourse's action ids for flagged posts).
PERFORM = {"agree": "agree_and_hide", "disagree": "disagree"}


def listed(body: dict[str, Any], key: str) -> list[Any]:
    """``body[key]`` when it is a list (what the API describes); anything else reads as none."""
    value = body.get(key)
    return value if isinstance(value, list) else []


def review_messages(channel: str, base_url: str, body: dict[str, Any], seen: set[int]) -> tuple[list[Message], int]:
    users = {u.get("id"): u for u in listed(body, "users") if isinstance(u, dict)}
    scores = {s.get("id"): s for s in listed(body, "reviewable_scores") if isinstance(s, dict)}
    messages: list[Message] = []
    skipped = 0
    for item in listed(body, "reviewables"):
        if not isinstance(item, dict) or not isinstance(item.get("id"), int):
            skipped += 1
            continue
        if item["id"] in seen:
            continue
        try:
            messages.append(_message(channel, base_url, item, users, scores))
        except MALFORMED:
            skipped += 1
    return messages, skipped


def _reasons(item: dict[str, Any], scores: dict[Any, dict[str, Any]]) -> str:
    found = [scores.get(i) or {} for i in item.get("reviewable_score_ids") or []]
    kinds = sorted({SCORE_REASONS.get(int(s.get("reviewable_score_type") or 0), "flagged") for s in found})
    return ", ".join(kinds)


def _message(
    channel: str,
    base_url: str,
    item: dict[str, Any],
    users: dict[Any, dict[str, Any]],
    scores: dict[Any, dict[str, Any]],
) -> Message:
    kind_name = str(item.get("type") or "Reviewable")
    payload = item.get("payload")
    payload = payload if isinstance(payload, dict) else {}
    author_id = item.get("target_created_by_id") or item.get("created_by_id")
    user = users.get(author_id) or {}
    username = sanitize(str(user.get("username") or payload.get("username") or "unknown"), single_line=True)
    body = html_to_text(str(item.get("cooked") or "")) or sanitize(str(item.get("raw") or payload.get("raw") or ""))
    if kind_name == "ReviewableFlaggedPost":
        heading = f"Flagged ({_reasons(item, scores) or 'flagged'})"
    elif kind_name == "ReviewableQueuedPost":
        title = sanitize(str(payload.get("title") or ""), single_line=True)
        heading = "Waiting for approval" + (f": {title}" if title else "")
    else:
        heading = f"Review: {sanitize(kind_name, single_line=True)}"
    extra = {"reviewable_id": str(item["id"]), "version": str(item.get("version") or 0), "review_type": kind_name}
    if item.get("topic_id"):
        extra["topic_id"] = str(item["topic_id"])
    if item.get("target_id") and item.get("target_type", "Post") == "Post":
        extra["post_id"] = str(item["target_id"])
    if item.get("reply_to_post_number"):
        extra["post_number"] = str(item["reply_to_post_number"])
    url = str(item.get("target_url") or f"{base_url.rstrip('/')}/review/{item['id']}")
    topic = message_id(channel, f"topic-{item['topic_id']}") if item.get("topic_id") else ""
    return Message(
        id=message_id(channel, f"review-{item['id']}"),
        channel=channel,
        channel_type="discourse",
        native_id=f"review-{item['id']}",
        kind=Kind.REVIEW,
        author=Author(
            id=str(author_id or username),
            handle="@" + username,
            display_name=sanitize(str(user.get("name") or ""), single_line=True),
            url=f"{base_url.rstrip('/')}/u/{username}",
        ),
        text=f"{heading}\n\n{body}".strip(),
        created_at=utc(dateparser.isoparse(str(item["created_at"]))),
        url=url if url.startswith(("https://", "http://")) else "",
        thread_id=topic,
        extra=extra,
    )
