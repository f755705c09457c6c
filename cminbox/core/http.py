"""HTTP policy shared by every channel: TLS verified, sane timeouts, errors classified.

Channel modules build their clients here so that no adapter can forget to verify
certificates, leak a token into an error message, or treat a 429 as a crash.
"""

from __future__ import annotations

import email.utils
import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
from dateutil import parser as dateparser

from cminbox import __version__
from cminbox.core.channel import AuthFailed, BadResponse, RateLimited, Rejected, Unavailable
from cminbox.core.clock import Clock
from cminbox.core.models import utc
from cminbox.core.redact import redactor
from cminbox.core.text import one_line, sanitize
from cminbox.core.when import clock_time

USER_AGENT = f"cminbox/{__version__} (+https://github.com/cminbox/cminbox)"
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=10.0)
MAX_BODY = 8 * 1024 * 1024  # a "page" bigger than this is not a page, it is an attack or a bug
# The longest pause a server's Retry-After or rate-limit reset may impose: a longer (or absurd)
# value pauses the channel this long, then it asks again.
MAX_WAIT = 3600.0
_HOST_CHARS = re.compile(r"[^A-Za-z0-9.\-:\[\]]")
_TOKEN = re.compile(r"[\x21-\x7e]{1,16384}")  # what can go in an Authorization header


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


def capped(now: datetime, when: datetime) -> datetime:
    """``when``, but never earlier than ``now`` nor later than ``MAX_WAIT`` after it."""
    return min(max(now, when), now + timedelta(seconds=MAX_WAIT))


def after(now: datetime, seconds: float) -> datetime:
    """``now`` plus a server-given number of seconds, capped (a huge value cannot overflow)."""
    return now + timedelta(seconds=min(max(0.0, seconds), MAX_WAIT))


def retry_at(response: httpx.Response, clock: Clock, default_seconds: float = 60.0) -> datetime:
    """When a rate-limited request may be retried, from Retry-After or X-RateLimit-Reset,
    at most ``MAX_WAIT`` from now."""
    now = clock()
    retry_after = response.headers.get("Retry-After")
    if retry_after:
        # isdecimal, not isdigit: "²" is a digit that float() refuses (review of 2026-12-02).
        if retry_after.strip().isdecimal():
            return after(now, float(retry_after.strip()))
        try:
            return capped(now, utc(email.utils.parsedate_to_datetime(retry_after)))
        except (TypeError, ValueError, OverflowError):
            pass
    reset = response.headers.get("X-RateLimit-Reset") or response.headers.get("X-Ratelimit-Reset")
    if reset:
        reset = reset.strip()
        try:
            if reset.replace(".", "", 1).isdecimal():
                value = float(reset)
                # Epoch seconds (GitHub) versus seconds-from-now (Reddit).
                if value > 1e9:
                    return after(now, value - now.timestamp())
                return after(now, value)
            # A time with no zone is taken as UTC (a naive one cannot be compared with now).
            return capped(now, utc(dateparser.isoparse(reset)))
        except (TypeError, ValueError, OverflowError):
            pass
    return after(now, default_seconds)


def until(when: datetime, now: datetime) -> str:
    """ "until 05:48:45 UTC", with the date when that is not today (UTC)."""
    return f"until {clock_time(when, now)}"


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


def is_token(value: object) -> bool:
    """Is a token a server handed out fit to send back in a header (printable ASCII)? One
    that is not made every request after it an "internal error" (UnicodeEncodeError) while
    the client was built (review of 2026-12-02: a Reddit access token with "é" in it)."""
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


def same_origin(link: str, base: httpx.URL) -> str | None:
    """A pagination link if it points at our own server, else None: following a foreign link
    with the channel's client would send its token to that host."""
    try:
        url = httpx.URL(link)
        if url.is_relative_url:
            return None
        # url.host decodes IDNA: a malformed "xn--" label raises UnicodeError (review of 2026-12-02).
        if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port):
            return None
    except (httpx.InvalidURL, UnicodeError, ValueError):
        return None
    return link


def segment(value: object) -> str:
    """A value from a server (an id, a number, a name) as exactly one segment of a request
    path: every reserved character percent-encoded, and "." or ".." too, which a URL would
    otherwise resolve as "this" or "the parent" folder. Without it an item whose stored id
    holds "/../" (a hostile or broken server's) would send the next request, token and all,
    to another endpoint of the API (review of 2026-12-01)."""
    text = quote(str(value), safe="")
    return "%2E" * len(text) if text in (".", "..") else text


def safe_host(url: httpx.URL | str) -> str:
    """The host (and port) of an untrusted URL, fit to show: ASCII (IDNA) host characters only."""
    try:
        parsed = httpx.URL(url) if isinstance(url, str) else url
        host = parsed.raw_host.decode("ascii", "replace")
    except (httpx.InvalidURL, UnicodeError, TypeError):
        return "an address that is not a valid URL"
    host = _HOST_CHARS.sub("", host)[:253]
    if not host:
        return "an address without a host"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address, written as in a URL
    return f"{host}:{parsed.port}" if parsed.port else host


class Pages:
    """Follows ``Link: rel="next"`` safely: only to the channel's own origin (scheme, host and
    port: the client carries the token) and never to a page already read (a link to itself
    would loop until the poll times out). When it stops for either reason, ``problem`` says
    why; the pages read so far stay valid."""

    def __init__(self, base: httpx.URL, what: str) -> None:
        self.base = base
        self.what = what
        self.seen: set[str] = set()
        self.problem = ""

    def next(self, response: httpx.Response) -> str | None:
        self.seen.add(str(response.url))
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        try:
            target = response.url.join(link)
        except (httpx.InvalidURL, UnicodeError, ValueError):
            self.problem = f"{self.what}: the server's next-page link is not a valid URL; stopped there"
            return None
        if same_origin(str(target), self.base) is None:
            # With its scheme: "leads to 127.0.0.1:18642" for an https link of an http server
            # named the channel's own host (hostile-data trial of 2026-12-01).
            scheme = target.scheme if target.scheme.isalnum() else "?"
            self.problem = (
                f"{self.what}: the server's next-page link leads to {scheme}://{safe_host(target)}, not to "
                "this channel's server; not followed (the token would go there), stopped there"
            )
            return None
        if str(target) in self.seen:
            self.problem = f"{self.what}: the server's next-page link repeats a page already read; stopped there"
            return None
        return str(target)


def server_text(value: object, limit: int = 200) -> str:
    """Text a server sent (an error message), fit to show and store: one inert line, every
    known secret redacted *before* it is cut (a cut could keep the first half of a token)."""
    return one_line(redactor.redact(sanitize(str(value), single_line=True)), limit)


def check(response: httpx.Response, clock: Clock, what: str) -> None:
    """Raise the right ChannelError for a non-success response."""
    code = response.status_code
    if 300 <= code < 400 and code != 304:
        # Never followed (the client carries a token); an instance that moved says where to.
        location = response.headers.get("Location", "")
        try:
            target = safe_host(response.url.join(location)) if location else "an unnamed address"
        except (httpx.InvalidURL, RuntimeError, UnicodeError, ValueError):
            target = "an address that is not a valid URL"
        raise BadResponse(f"{what}: the server redirected to {target} ({code}); update `url` in the config")
    if code < 400:
        return
    if code == 401:
        raise AuthFailed(f"{what}: the server rejected the token (401). Run `cminbox login` for this channel.")
    if code == 429 or (code == 403 and is_rate_limit_403(response)):
        when = retry_at(response, clock)
        raise RateLimited(f"{what}: rate limited ({code}) {until(when, clock())}", when)
    if code >= 500:
        raise Unavailable(f"{what}: server error {code}")
    if code == 403:
        raise Rejected(f"{what}: forbidden (403): the token lacks the permission for this")
    raise Rejected(f"{what}: the server refused the request ({code}): {short_error(response)}")


def parsed_json(response: httpx.Response) -> Any:
    """The body as JSON; ValueError for anything that is not (deep nesting included: the
    parser's RecursionError was an "internal error" on every JSON channel, review of 2026-12-02)."""
    try:
        return response.json()
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def short_error(response: httpx.Response) -> str:
    """The server's own words for an error, short, inert and redacted."""
    try:
        body = parsed_json(response)
        if isinstance(body, dict):
            return server_text(body.get("error") or body.get("message") or body, 200)
    except ValueError:
        pass
    text = response.text.lstrip()
    if "html" in response.headers.get("content-type", "") or text[:15].lower().startswith(("<!doctype", "<html")):
        return "an HTML error page"
    return server_text(text, 120)


def json_body(response: httpx.Response, what: str) -> Any:
    """Decode a JSON body, turning HTML error pages and truncated JSON into BadResponse."""
    if len(response.content) > MAX_BODY:
        raise BadResponse(f"{what}: response of {len(response.content)} bytes is too large")
    ctype = response.headers.get("content-type", "")
    try:
        return parsed_json(response)
    except ValueError:
        kind = "an HTML page" if "html" in ctype or response.text.lstrip().startswith("<") else "invalid JSON"
        raise BadResponse(f"{what}: expected JSON, got {kind}") from None


async def send(client: httpx.AsyncClient, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
    """Send a request and read its body, at most ``MAX_BODY`` bytes (decoded): the body is
    streamed and the transfer stopped at the limit, so an endless answer costs 8 MB, not
    all the memory there is. Network failures become Unavailable (never a traceback with a
    token in it). The status is not checked: see :func:`request`."""
    auth = kwargs.pop("auth", httpx.USE_CLIENT_DEFAULT)
    host = safe_host(client.base_url) if client.base_url.host else safe_host(url)
    try:
        response = await client.send(client.build_request(method, url, **kwargs), auth=auth, stream=True)
        try:
            body = await _read_limited(response, what)
        finally:
            await response.aclose()
    except httpx.TimeoutException:
        raise Unavailable(f"{what}: timed out") from None
    except httpx.RemoteProtocolError as exc:
        # httpx parses a redirect's Location even when not following it; a garbled one is the
        # server's fault, not the network's. Its text is not shown: it is the server's.
        if "location header" in str(exc).lower():
            raise BadResponse(
                f"{what}: the server redirected to an address that is not a valid URL; update `url` in the config"
            ) from None
        raise Unavailable(f"{what}: cannot reach {host} ({type(exc).__name__})") from None
    except httpx.TransportError as exc:
        raise Unavailable(f"{what}: cannot reach {host} ({type(exc).__name__})") from None
    except httpx.DecodingError:
        raise BadResponse(f"{what}: the response body could not be decoded") from None
    except (httpx.InvalidURL, UnicodeError):
        # httpx builds a redirect's next request even when not following it, and a malformed
        # internationalised host in its Location raises idna's UnicodeError (review of 2026-12-02).
        raise BadResponse(
            f"{what}: the server's answer names an address that is not a valid URL; update `url` in the config"
        ) from None
    # What Response.aread() does, with the limit: the body is now in memory, bounded.
    response._content = body
    return response


async def _read_limited(response: httpx.Response, what: str) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdecimal() and int(declared) > MAX_BODY:
        raise BadResponse(f"{what}: response of {int(declared)} bytes is too large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_BODY:
            # Dropped before raising: a traceback kept alive (a log record, an exception
            # chain) holds this frame, and must not hold the 8 MB read so far with it.
            chunks.clear()
            raise BadResponse(f"{what}: response is larger than {MAX_BODY // (1024 * 1024)} MB; stopped reading")
        chunks.append(chunk)
    return b"".join(chunks)


async def request(
    client: httpx.AsyncClient, method: str, url: str, clock: Clock, what: str, **kwargs: Any
) -> httpx.Response:
    """Send a request (see :func:`send`) and raise the right ChannelError for a non-success status."""
    response = await send(client, method, url, what, **kwargs)
    check(response, clock, what)
    return response
