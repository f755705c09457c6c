"""Is a link's host the machine itself or its local network?

A server's links are untrusted (the brief's rule 4): a feed on the internet that redirects to
``http://169.254.169.254/`` or ``http://router/`` would have cminbox read a cloud's metadata
service or a device on the user's network and show the answer as entries. The feed channel
follows a redirect into such an address only when the feed itself is configured there.

The test is on the address as written in the link: an IP literal in any form the system's
resolver accepts (``127.1``, ``0x7f.1``, ``2130706433``, ``[::ffff:127.0.0.1]``), and the
names that only mean something inside a network (``localhost``, ``*.local``, a single label
found through the machine's search domains). A public name whose DNS answer is a private
address (``127.0.0.1.nip.io``, or a name the feed's owner points at one) is caught by
:func:`inside_address`, asked before a redirect to a name is followed. A name that answers
differently from one lookup to the next (DNS rebinding) can still slip between that lookup and
the connection's own: pinning the address would take a resolver of our own in the HTTP
transport.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import ipaddress
import socket

# Names of networks that are not the internet: RFC 6761 / 6762 / 8375 and the private-use
# top-level names in wide use.
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".intranet", ".corp")


def _as_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    # inet_aton takes the legacy forms getaddrinfo also takes (one number, hex and octal
    # parts, fewer than four parts), so a link cannot hide 127.0.0.1 from ip_address.
    if host and all(c in "0123456789abcdefx." for c in host) and host[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_internal_host(host: str) -> bool:
    """True for loopback, link-local, private, unspecified and reserved addresses and for
    local-only names; False for a public address or a dotted public name."""
    name = host.strip().rstrip(".").lower()
    if not name:
        return True
    ip = _as_ip(name)
    if ip is not None:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return not ip.is_global or ip.is_multicast
    return name == "localhost" or "." not in name or name.endswith(LOCAL_SUFFIXES)


RESOLVE_TIMEOUT = 5.0  # s a lookup may take; longer, and the redirect is not followed this time
# Lookups run on threads of their own: a name server that answers slowly (or never) holds one for
# the resolver's own timeout, which the event loop's default threads (the store's writes) must not pay.
_LOOKUPS = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="cminbox dns")
# getaddrinfo's answers that mean the name does not exist: the connection fails on its own.
NO_SUCH_NAME = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}


class LookupFailed(Exception):
    """A name could not be looked up now (a time-out, a server failure): whether it is inside is
    not known, so what depends on it waits for the next try."""


async def addresses(host: str, port: int) -> list[str]:
    """The addresses ``host`` (ASCII, as the connection sends it) resolves to, off the event loop."""
    lookup = functools.partial(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    infos = await asyncio.get_running_loop().run_in_executor(_LOOKUPS, lookup)
    return [str(info[4][0]) for info in infos]


async def inside_address(host: str, port: int) -> str | None:
    """The first address of ``host`` that is inside the machine or its network, if any; None
    when every address is outside or the name does not exist (the connection then fails on its
    own). Raises LookupFailed when the name could not be looked up now: an attacker's name
    server could answer slowly or fail the first lookup and answer 10.x to the connection's."""
    try:
        found = await asyncio.wait_for(addresses(host, port), RESOLVE_TIMEOUT)
    except socket.gaierror as exc:
        if exc.errno in NO_SUCH_NAME:
            return None
        raise LookupFailed(f"the name could not be looked up ({exc.strerror or exc.errno})") from None
    except TimeoutError:
        raise LookupFailed(f"the name was not looked up within {RESOLVE_TIMEOUT:g} s") from None
    except (OSError, UnicodeError) as exc:
        raise LookupFailed(f"the name could not be looked up ({type(exc).__name__})") from None
    return next((a for a in found if is_internal_host(a.split("%")[0])), None)
