"""GitHub Discussions, which only the GraphQL API exposes: new discussions in a repository,
their comments (for the thread view and the marker check), and replying with a comment."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from dateutil import parser as dateparser

from cminbox.core.channel import MALFORMED
from cminbox.core.models import Author, Kind, Message, message_id, utc
from cminbox.core.text import sanitize

GraphQL = Callable[[str, dict[str, Any], str], Awaitable[Any]]
PAGES = 5

LIST = """query($owner: String!, $name: String!, $after: String) {
  repository(owner: $owner, name: $name) {
    discussions(first: 50, after: $after, orderBy: {field: CREATED_AT, direction: DESC}) {
      pageInfo { hasNextPage endCursor }
      nodes { id number title body createdAt url author { login url } category { name } }
    }
  }
}"""
COMMENTS = """query($id: ID!) {
  node(id: $id) { ... on Discussion { comments(last: 100) { nodes { id body createdAt url author { login url } } } } }
}"""
ADD = """mutation($id: ID!, $body: String!) {
  addDiscussionComment(input: {discussionId: $id, body: $body}) { comment { id url } }
}"""


def _author(node: Any) -> Author:
    node = node if isinstance(node, dict) else {}
    login = sanitize(str(node.get("login") or "ghost"), single_line=True)
    return Author(id=login, handle="@" + login, url=str(node.get("url") or ""))


def discussion_message(channel: str, repo: str, node: dict[str, Any]) -> Message:
    number = int(node["number"])
    title = sanitize(str(node.get("title") or ""), single_line=True)
    category = sanitize(str((node.get("category") or {}).get("name") or ""), single_line=True)
    native = f"discussion-{repo}#{number}"
    return Message(
        id=message_id(channel, native),
        channel=channel,
        channel_type="github",
        native_id=native,
        kind=Kind.POST,
        author=_author(node.get("author")),
        text=f"Discussion {repo}#{number} {title}"
        + (f" ({category})" if category else "")
        + f"\n\n{sanitize(str(node.get('body') or '')).strip()}",
        created_at=utc(dateparser.isoparse(str(node["createdAt"]))),
        url=str(node.get("url") or ""),
        thread_id=message_id(channel, native),
        extra={"repo": repo, "number": str(number), "discussion_id": str(node["id"]), "node_id": str(node["id"])},
    )


async def poll(
    graphql: GraphQL, channel: str, repo: str, state: dict[str, Any], since: str, me: str
) -> tuple[list[Message], int, dict[str, Any]]:
    """New discussions, newest first down to ``since`` or one already seen."""
    owner, _, name = repo.partition("/")
    seen = set(state.get("seen") or [])
    messages: list[Message] = []
    skipped = 0
    after: str | None = None
    newest = since
    for _ in range(PAGES):
        data = await graphql(LIST, {"owner": owner, "name": name, "after": after}, f"discussions of {repo}")
        found = ((data or {}).get("repository") or {}).get("discussions") or {}
        done = False
        for node in found.get("nodes") or []:
            try:
                created = str(node["createdAt"])
                if created < since or int(node["number"]) in seen:
                    done = True
                    continue
                seen.add(int(node["number"]))
                newest = max(newest, created)
                if str((node.get("author") or {}).get("login") or "") != me:
                    messages.append(discussion_message(channel, repo, node))
            except MALFORMED:
                skipped += 1
        page = found.get("pageInfo") or {}
        if done or not page.get("hasNextPage"):
            break
        after = page.get("endCursor")
    return messages, skipped, {"since": newest, "seen": sorted(seen)[-500:]}


async def comments(graphql: GraphQL, discussion_id: str) -> list[dict[str, Any]]:
    data = await graphql(COMMENTS, {"id": discussion_id}, "discussion comments")
    nodes = (((data or {}).get("node") or {}).get("comments") or {}).get("nodes") or []
    return [n for n in nodes if isinstance(n, dict)]


def comment_message(channel: str, parent: Message, node: dict[str, Any]) -> Message:
    return Message(
        id=message_id(channel, f"discussion-comment-{node['id']}"),
        channel=channel,
        channel_type="github",
        native_id=f"discussion-comment-{node['id']}",
        kind=Kind.POST,
        author=_author(node.get("author")),
        text=sanitize(str(node.get("body") or "")).strip(),
        created_at=utc(dateparser.isoparse(str(node["createdAt"]))),
        url=str(node.get("url") or ""),
        thread_id=parent.thread_id,
        parent_id=parent.id,
    )


async def add_comment(graphql: GraphQL, discussion_id: str, body: str) -> dict[str, Any]:
    data = await graphql(ADD, {"id": discussion_id, "body": body}, "post discussion comment")
    comment = ((data or {}).get("addDiscussionComment") or {}).get("comment")
    if not isinstance(comment, dict) or not comment.get("id"):
        raise ValueError("the answer has no comment")
    return comment
