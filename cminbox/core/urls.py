"""Small facts about URLs that config checks need without importing an HTTP client."""

from __future__ import annotations

from urllib.parse import urlsplit


def is_loopback(url: str) -> bool:
    """Does the URL name this machine (plain http is allowed there: nothing leaves the host)?"""
    host = (urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")
