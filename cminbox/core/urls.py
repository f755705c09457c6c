"""Small facts about URLs that config checks need without importing an HTTP client."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback(url: str) -> bool:
    """Does the URL name this machine (plain http is allowed there: nothing leaves the host)?

    Only ``localhost`` and loopback address literals (127.0.0.0/8, ::1, ::ffff:127.x.y.z) do:
    a name is not an address, so ``127.evil.example`` is someone else's host (a prefix test let
    a token go there in plain text: review of 2026-12-02)."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:  # an unclosed [ in the host: not an address at all
        return False
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback
