"""The GitHub channel's config keys (its ``Options``) and the checks beyond their types that
``cminbox config check`` runs (the channel's ``check_options``, declared in its traits)."""

from __future__ import annotations

import re
from typing import Annotated

import msgspec

REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


class GitHubOptions(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    notifications: bool = True
    participating: bool = False  # only threads you take part in (mentions, your issues, review requests)
    repos: list[str] = msgspec.field(default_factory=list)  # "owner/name": their new comments
    new_issues: bool = False  # also new issues and pull requests in `repos`
    discussions: bool = False  # also new discussions in `repos` (GraphQL)
    # How far back a repository is read on first use (at most ten years).
    backfill_hours: Annotated[int, msgspec.Meta(ge=0, le=87600, description="hours")] = 24
    mark_read_on_done: bool = True  # mark the notification thread read when its item is done
    page_size: Annotated[int, msgspec.Meta(ge=1, le=50, description="notifications per page")] = 50


def option_problems(options: GitHubOptions) -> list[tuple[str, str, str]]:
    """(key, problem, hint) for what the config names that cannot be polled."""
    bad = [r for r in options.repos if not REPO.fullmatch(r)]
    if bad:
        return [("repos", f"{bad[0]!r} is not a repository name.", 'Write "owner/name", e.g. "acme/app".')]
    if not options.notifications and not options.repos:
        return [("repos", "this channel has nothing to poll.", "List `repos`, or leave notifications on.")]
    return []
