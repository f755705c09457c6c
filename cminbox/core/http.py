"""HTTP policy shared by every channel: TLS verified, sane timeouts, errors classified.

Channel modules build their clients here so that no adapter can forget to verify
certificates, leak a token into an error message, or treat a 429 as a crash.
"""

from __future__ import annotations

import email.utils
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from dateutil import parser as dateparser

from cminbox import __version__
from cminbox.core.channel import AuthFailed, BadResponse, RateLimited, Rejected, Unavailable
from cminbox.core.clock import Clock

USER_AGENT = f"cminbox/{__version__} (+https://github.com/cminbox/cminbox)"
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=10.0)
MAX_BODY = 8 * 1024 * 1024  # a "page" bigger than this is not a page, it is an attack or a bug


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


def make_client(
    base_url: str, *, headers: dict[str, str] | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url.rstrip("/"),
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        timeout=DEFAULT_TIMEOUT,
        verify=True,
        follow_redirects=False,
        transport=transport,
    )


def retry_at(response: httpx.Response, clock: Clock, default_seconds: float = 60.0) -> datetime:
    """When a rate-limited request may be retried, from Retry-After or X-RateLimit-Reset."""
    now = clock()
    retry_after = response.headers.get("Retry-After")
    if retry_after:
        if retry_after.strip().isdigit():
            return now + timedelta(seconds=int(retry_after))
        try:
            parsed = email.utils.parsedate_to_datetime(retry_after)
            return max(now, parsed)
        except (TypeError, ValueError):
            pass
    reset = response.headers.get("X-RateLimit-Reset") or response.headers.get("X-Ratelimit-Reset")
    if reset:
        reset = reset.strip()
        try:
            if reset.replace(".", "", 1).isdigit():
                value = float(reset)
                # Epoch seconds (GitHub) versus seconds-from-now (Reddit).
                if value > 1e9:
                    return max(now, datetime.fromtimestamp(value, tz=now.tzinfo))
                return now + timedelta(seconds=value)
            return max(now, dateparser.isoparse(reset))
        except (ValueError, OverflowError):
            pass
    return now + timedelta(seconds=default_seconds)


def is_rate_limit_403(response: httpx.Response) -> bool:
    """GitHub answers an exhausted primary or a secondary rate limit with 403, not 429."""
    return "Retry-After" in response.headers or response.headers.get("X-RateLimit-Remaining", "").strip() == "0"


def quota_wait(response: httpx.Response, clock: Clock, reserve: float = 0.0) -> float | None:
    """Seconds to wait before the next request when a *successful* response says the quota is
    spent (``X-RateLimit-Remaining`` at or below ``reserve``): the channel pauses itself until the
    reset instead of running into a 429 or 403. ``None`` when there is quota left."""
    remaining = response.headers.get("X-RateLimit-Remaining") or response.headers.get("X-Ratelimit-Remaining")
    if remaining is None:
        return None
    try:
        if float(remaining) > reserve:
            return None
    except ValueError:
        return None
    return max(0.0, (retry_at(response, clock) - clock()).total_seconds())


def validators(response: httpx.Response) -> dict[str, str]:
    """The ETag / Last-Modified of a response, to make the next request conditional."""
    out = {}
    if response.headers.get("ETag"):
        out["etag"] = response.headers["ETag"]
    if response.headers.get("Last-Modified"):
        out["last_modified"] = response.headers["Last-Modified"]
    return out


def conditional(saved: dict[str, str] | None) -> dict[str, str]:
    """Request headers that turn an unchanged resource into a cheap 304."""
    headers = {}
    if saved and saved.get("etag"):
        headers["If-None-Match"] = saved["etag"]
    if saved and saved.get("last_modified"):
        headers["If-Modified-Since"] = saved["last_modified"]
    return headers


def same_origin(link: str, base: httpx.URL) -> str | None:
    """A pagination link if it points at our own server, else None: following a foreign link
    with the channel's client would send its token to that host."""
    url = httpx.URL(link)
    if url.is_relative_url:
        return None
    if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port):
        return None
    return link


def check(response: httpx.Response, clock: Clock, what: str) -> None:
    """Raise the right ChannelError for a non-success response."""
    code = response.status_code
    if code < 400:
        return
    if code == 401:
        raise AuthFailed(f"{what}: the server rejected the token (401). Run `cminbox login` for this channel.")
    if code == 429 or (code == 403 and is_rate_limit_403(response)):
        when = retry_at(response, clock)
        raise RateLimited(f"{what}: rate limited ({code}) until {when:%H:%M:%S} UTC", when)
    if code >= 500:
        raise Unavailable(f"{what}: server error {code}")
    if code == 403:
        raise Rejected(f"{what}: forbidden (403): the token lacks the permission for this")
    raise Rejected(f"{what}: the server refused the request ({code}): {short_error(response)}")


def short_error(response: httpx.Response) -> str:
    try:
        body = response.json()
        if isinstance(body, dict):
            return str(body.get("error") or body.get("message") or body)[:200]
    except ValueError:
        pass
    text = response.text.lstrip()
    if "html" in response.headers.get("content-type", "") or text[:15].lower().startswith(("<!doctype", "<html")):
        return "an HTML error page"
    return text[:120].replace("\n", " ")


def json_body(response: httpx.Response, what: str) -> Any:
    """Decode a JSON body, turning HTML error pages and truncated JSON into BadResponse."""
    if len(response.content) > MAX_BODY:
        raise BadResponse(f"{what}: response of {len(response.content)} bytes is too large")
    ctype = response.headers.get("content-type", "")
    try:
        return response.json()
    except ValueError:
        kind = "an HTML page" if "html" in ctype or response.text.lstrip().startswith("<") else "invalid JSON"
        raise BadResponse(f"{what}: expected JSON, got {kind}") from None


async def request(
    client: httpx.AsyncClient, method: str, url: str, clock: Clock, what: str, **kwargs: Any
) -> httpx.Response:
    """Send a request; network failures become Unavailable (never a traceback with a token in it)."""
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise Unavailable(f"{what}: timed out") from None
    except httpx.TransportError as exc:
        raise Unavailable(f"{what}: cannot reach {client.base_url.host} ({type(exc).__name__})") from None
    check(response, clock, what)
    return response
