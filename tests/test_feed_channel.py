"""RSS / Atom feeds, served by a real `python -m http.server` (which answers If-Modified-Since with 304)."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from cminbox.channels.feed import FeedChannel, FeedOptions
from cminbox.core import config, internal_hosts
from cminbox.core.channel import BadResponse, ChannelContext, Rejected
from cminbox.core.clock import FrozenClock
from tests.servers.fixtures import _free_port, _start, _stop

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
# What the made-up names of these tests resolve to (no DNS is asked): others do not resolve.
DNS: dict[str, list[str]] = {}


@pytest.fixture(autouse=True)
def resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[str]]]:
    async def addresses(host: str, port: int) -> list[str]:
        if host in DNS:
            return DNS[host]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(internal_hosts, "addresses", addresses)
    yield DNS
    DNS.clear()


def rss(items: list[tuple[str, str]]) -> str:
    body = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title><link>https://status.example/{guid}</link>"
        f"<description>&lt;p&gt;Details for {title}&lt;/p&gt;</description>"
        f"<pubDate>Mon, 02 Nov 2026 10:{i:02d}:00 GMT</pubDate></item>"
        for i, (guid, title) in enumerate(items)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Status</title>{body}</channel></rss>'


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Reviews</title><id>urn:r</id><updated>2026-11-02T10:00:00Z</updated>
<entry><id>urn:review:1</id><title>Crashes on launch \x1b[31m[bold red]FAKE[/]</title><author><name>Sam</name></author>
<updated>2026-11-02T09:00:00Z</updated><content type="html">&lt;b&gt;1 star&lt;/b&gt; since the update</content></entry>
</feed>"""


@pytest.fixture
def feed_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    port = _free_port()
    (root / "ready").write_text("ok")
    proc = _start(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(root), str(port)],
        f"http://127.0.0.1:{port}/ready",
        tmp_path / "http.log",
    )
    try:
        yield f"http://127.0.0.1:{port}", root
    finally:
        _stop(proc)


def make(url: str, transport: httpx.AsyncBaseTransport | None = None, **options: Any) -> FeedChannel:
    async def token() -> None:
        return None

    return FeedChannel(
        ChannelContext(
            name="status",
            url=url,
            account="",
            options=FeedOptions(**options),
            token=token,
            clock=FrozenClock(NOW),
            transport=transport,
        )
    )


def write(path: Path, text: str, mtime: float) -> None:
    path.write_text(text)
    os.utime(path, (mtime, mtime))


async def test_entries_once_then_304_then_only_new_ones(feed_server: tuple[str, Path]) -> None:
    base, root = feed_server
    feed = root / "status.xml"
    write(feed, rss([("inc-2", "Degraded API"), ("inc-1", "Login errors")]), 1_700_000_000)
    ch = make(f"{base}/status.xml")
    first = await ch.poll(None)
    assert [m.text.split("\n")[0] for m in first.messages] == ["Degraded API", "Login errors"]
    assert first.messages[0].text == "Degraded API\n\nDetails for Degraded API"
    assert first.messages[0].url == "https://status.example/inc-2" and first.messages[0].author.handle == "Status"
    unchanged = await ch.poll(first.cursor)
    assert unchanged.messages == [] and unchanged.cursor == first.cursor  # a 304: nothing parsed, nothing new
    # A new incident on top, an old one re-titled (same guid): only the new one is delivered.
    write(
        feed,
        rss([("inc-3", "Webhooks delayed"), ("inc-2", "Degraded API (resolved)"), ("inc-1", "Login errors")]),
        1_700_000_600,
    )
    later = await ch.poll(unchanged.cursor)
    assert [m.text.split("\n")[0] for m in later.messages] == ["Webhooks delayed"]
    await ch.aclose()


async def test_atom_entries_are_inert_text(feed_server: tuple[str, Path]) -> None:
    base, root = feed_server
    write(root / "reviews.atom", ATOM, 1_700_000_000)
    [entry] = (await make(f"{base}/reviews.atom").poll(None)).messages
    assert "\x1b" not in entry.text and "[bold red]FAKE[/]" in entry.text  # control bytes gone, markup kept as text
    assert entry.text.endswith("1 star since the update") and entry.author.handle == "Sam"
    assert entry.created_at == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


async def test_an_html_page_or_garbage_degrades_with_a_reason(feed_server: tuple[str, Path]) -> None:
    base, root = feed_server
    write(root / "moved.xml", "<!DOCTYPE html><html><body>We moved!</body></html>", 1_700_000_000)
    with pytest.raises(BadResponse, match="got an HTML page"):
        await make(f"{base}/moved.xml").poll(None)
    write(root / "junk.xml", "\x00\x01 not xml at all {", 1_700_000_000)
    with pytest.raises(BadResponse, match="not a feed"):
        await make(f"{base}/junk.xml").poll(None)
    with pytest.raises(Rejected, match=r"\(404\): an HTML error page"):
        await make(f"{base}/missing.xml").poll(None)


async def test_same_bytes_without_validators_are_not_parsed_again() -> None:
    calls = []

    def server(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, text=rss([("a", "One")]), headers={"content-type": "application/rss+xml"})

    ch = make("https://feeds.example/x", httpx.MockTransport(server))
    first = await ch.poll(None)
    second = await ch.poll(first.cursor)
    assert len(first.messages) == 1 and second.messages == [] and len(calls) == 2


async def test_keywords_and_first_use_limit() -> None:
    items = [(f"g{i}", f"cminbox release {i}" if i % 2 else f"other news {i}") for i in range(10)]

    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=rss(items))

    got = (
        await make("https://hn.example/rss", httpx.MockTransport(server), keywords=["CMINBOX"], max_entries=6).poll(
            None
        )
    ).messages
    assert [m.text.split("\n")[0] for m in got] == ["cminbox release 1", "cminbox release 3", "cminbox release 5"]


def test_feeds_may_be_plain_http_and_are_read_only() -> None:
    cfg = config.parse('[[channels]]\nname = "blog"\ntype = "feed"\nurl = "http://blog.example/feed"\n', None)
    assert cfg.channels[0].url == "http://blog.example/feed"
    assert FeedChannel.capabilities.reply is False


def test_a_feed_needs_no_login(tmp_path: Path) -> None:
    from tests.conftest import cli_env, run_cli

    cfg = tmp_path / "config.toml"
    cfg.write_text('[[channels]]\nname = "status"\ntype = "feed"\nurl = "https://status.example/feed.xml"\n')
    done = run_cli("login", "status", env=cli_env(CMINBOX_CONFIG=str(cfg), CMINBOX_DATA_DIR=str(tmp_path / "d")))
    assert done.returncode != 0 and "needs no credentials" in done.stderr


@pytest.mark.parametrize("code", [401, 403])
async def test_a_refusal_is_not_said_to_be_about_a_token(code: int) -> None:
    """Regression (review of 2026-12-01): a 403 read "the token lacks the permission for this"
    for a channel that sends no token."""
    from cminbox.core.channel import Rejected

    channel = make("https://feeds.example/status.xml", httpx.MockTransport(lambda request: httpx.Response(code)))
    with pytest.raises(Rejected) as refused:
        await channel.poll(None)
    assert f"refused to serve it ({code})" in refused.value.reason and "token" not in refused.value.reason


INTERNAL_TARGETS = [
    "http://169.254.169.254/latest/meta-data/iam/",  # a cloud's metadata service
    "http://127.0.0.1:8080/admin",
    "http://localhost/",
    "http://printer.localhost/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://10.0.0.5/wiki",
    "http://192.168.1.1/",
    "http://[fd00::1]/",
    "http://2130706433/",  # 127.0.0.1 written as one number: the resolver takes it
    "http://0x7f.1/",
    "http://0/",
    "http://jenkins/job",  # one label: found through the machine's search domains
    "http://nas.local/",
    "file:///etc/passwd",
    "ftp://feeds.example/x",
]


@pytest.mark.parametrize("target", INTERNAL_TARGETS)
async def test_a_public_feed_cannot_redirect_into_the_local_network(target: str) -> None:
    """Regression (hostile-data trial of 2026-12-01): a feed's redirects were followed to any
    host, so a feed on the internet could make cminbox read the machine's own services (a cloud
    metadata address, a router, localhost) and show what they answered as feed entries."""
    asked: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        if request.url.host == "feeds.example" and request.url.scheme == "https":
            return httpx.Response(302, headers={"Location": target})
        return httpx.Response(200, text=rss([("secret", "internal answer")]))

    with pytest.raises(BadResponse) as refused:
        await make("https://feeds.example/status.xml", httpx.MockTransport(server)).poll(None)
    assert asked == ["https://feeds.example/status.xml"]
    assert "redirected" in refused.value.reason and "not followed" in refused.value.reason


async def test_redirects_between_public_hosts_and_within_a_local_feed_are_followed() -> None:
    def server(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old.xml":
            return httpx.Response(301, headers={"Location": f"{request.url.scheme}://{request.url.host}/new.xml"})
        if request.url.host == "blog.example":
            return httpx.Response(308, headers={"Location": "https://cdn.feeds.example/old.xml"})
        return httpx.Response(200, text=rss([("a", "moved")]))

    public = await make("http://blog.example/feed", httpx.MockTransport(server)).poll(None)
    local = await make("http://127.0.0.1:8000/old.xml", httpx.MockTransport(server)).poll(None)
    assert [m.text.split("\n")[0] for m in public.messages + local.messages] == ["moved", "moved"]


@pytest.mark.parametrize("tag", [b"<a>", b"&lt;a&gt;"])
async def test_a_feed_of_a_million_tags_is_refused_before_parsing(tag: bytes) -> None:
    """Regression (hostile-server review of 2026-12-02): 1.1 million nested tags in one
    description took feedparser 98 s and 650 MB, in a thread the poll's timeout cannot stop."""
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><guid>1</guid><description>'
    body += tag * (1_100_000 if tag == b"<a>" else 600_000) + b"</description></item></channel></rss>"

    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/rss+xml"})

    with pytest.raises(BadResponse) as caught:
        await make("https://feeds.example/deep.xml", httpx.MockTransport(server)).poll(None)
    assert "more than a feed has" in caught.value.reason


async def test_a_large_ordinary_feed_is_still_read() -> None:
    items = [(f"post {i}", "<p>" + "<b>word</b> " * 150 + "</p>") for i in range(100)]  # ~30,000 tags
    body = rss(items).encode()

    def server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/rss+xml"})

    result = await make("https://feeds.example/big.xml", httpx.MockTransport(server), max_entries=200).poll(None)
    assert len(result.messages) == 100


@pytest.mark.parametrize("answer", [["127.0.0.1"], ["93.184.216.34", "10.1.2.3"], ["::1"], ["fe80::1%eth0"]])
async def test_a_redirect_to_a_name_whose_address_is_inside_is_refused(answer: list[str]) -> None:
    """A public feed redirecting to a name that resolves into the machine or its network
    (``127.0.0.1.nip.io``, a record the feed's owner points at 10.x) was followed: only the
    name as written was checked (core/internal_hosts.py said so). Now its addresses are."""
    DNS["sneaky.example"] = answer
    assert "is inside the local network; not followed" in (await refused_redirect("http://sneaky.example/admin")).reason


async def refused_redirect(location: str) -> BadResponse:
    """What a public feed that redirects to ``location`` is refused with; nothing else was asked."""
    asked: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        if request.url.host == "feeds.example":
            return httpx.Response(302, headers={"Location": location})
        return httpx.Response(200, text=rss([("secret", "internal answer")]))

    with pytest.raises(BadResponse) as refused:
        await make("https://feeds.example/status.xml", httpx.MockTransport(server)).poll(None)
    assert asked == ["https://feeds.example/status.xml"]
    return refused.value


async def test_a_redirect_to_a_public_name_or_from_a_local_feed_is_followed() -> None:
    DNS["cdn.example"] = ["93.184.216.34"]
    DNS["intranet-cdn.example"] = ["10.0.0.7"]

    def server(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old.xml":
            target = "cdn.example" if request.url.host == "blog.example" else "intranet-cdn.example"
            return httpx.Response(301, headers={"Location": f"http://{target}/new.xml"})
        return httpx.Response(200, text=rss([("a", "moved")]))

    public = await make("http://blog.example/old.xml", httpx.MockTransport(server)).poll(None)
    local = await make("http://10.0.0.5/old.xml", httpx.MockTransport(server)).poll(None)
    assert [m.text.split("\n")[0] for m in public.messages + local.messages] == ["moved", "moved"]


@pytest.mark.parametrize(
    "failure", [socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"), TimeoutError()]
)
async def test_a_redirect_to_a_name_that_cannot_be_looked_up_now_is_not_followed(
    failure: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name server that answers the first lookup slowly or with a failure, then 10.x to the
    connection's own, got the redirect followed (review of 2026-12-02): not followed this time."""

    async def flaky(host: str, port: int) -> list[str]:
        raise failure

    monkeypatch.setattr(internal_hosts, "addresses", flaky)

    assert "not followed this time" in (await refused_redirect("http://slow.example/feed")).reason


async def test_the_name_looked_up_is_the_one_the_connection_uses() -> None:
    """``httpx.URL.host`` decodes ``xn--zca.example`` to ``ß.example``, which the resolver's
    older IDNA rules turn into ``ss.example``: another name than the one connected to."""
    DNS["ss.attacker.example"] = ["93.184.216.34"]
    DNS["xn--zca.attacker.example"] = ["10.0.0.1"]

    refused = await refused_redirect("http://xn--zca.attacker.example/feed")
    assert "10.0.0.1 is inside the local network" in refused.reason
