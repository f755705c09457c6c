"""Reply markers for APIs without an idempotency key (GitHub, Discourse).

A reply's markdown ends with an HTML comment naming its outbox item. Both sites drop HTML
comments when rendering, so readers never see it; a retry searches the account's own
recent replies for it and finds the one already posted instead of posting again.
"""

from __future__ import annotations


def marker(key: str) -> str:
    return f"<!-- cminbox:{key} -->"


def with_marker(text: str, key: str) -> str:
    return f"{text}\n\n{marker(key)}"
