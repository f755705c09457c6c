"""Feed titles of every kind become plain, inert text; relative RSS links resolve against the feed's URL."""

from __future__ import annotations

import httpx

from tests.test_feed_channel import make

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>&lt;b&gt;Forum&lt;/b&gt; news</title>
<link>https://forum.example/</link>
<item><guid>1</guid><title>Caf&amp;eacute; meetup &amp;amp; drinks</title><link>/t/cafe-meetup/101</link>
<pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate></item>
<item><guid>2</guid><title><![CDATA[<em>Seven</em> days &amp; nights]]></title><link>t/seven/107</link>
<pubDate>Mon, 02 Nov 2026 10:01:00 GMT</pubDate></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">&lt;i&gt;Reviews&lt;/i&gt;</title><id>urn:r</id>
<updated>2026-11-02T10:00:00Z</updated>
<entry><id>urn:1</id><title type="html">&lt;b&gt;Bold&lt;/b&gt; &amp;amp; brave</title>
<updated>2026-11-02T09:00:00Z</updated><link href="https://r.example/1"/></entry>
<entry><id>urn:2</id><title type="xhtml">
<div xmlns="http://www.w3.org/1999/xhtml"><b>Strong</b> &amp; <em>clear</em></div></title>
<updated>2026-11-02T09:01:00Z</updated><link href="https://r.example/2"/></entry>
</feed>"""


def served(body: str, ctype: str) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(200, text=body, headers={"content-type": ctype}))


async def test_rss_titles_are_plain_text_and_relative_links_resolve_against_the_feed_url() -> None:
    ch = make("https://forum.example/c/events/feed.rss", served(RSS, "application/rss+xml"))
    messages = sorted((await ch.poll(None)).messages, key=lambda m: m.created_at)
    assert [m.text for m in messages] == ["Café meetup & drinks", "Seven days & nights"]
    assert [m.url for m in messages] == [
        "https://forum.example/t/cafe-meetup/101",
        "https://forum.example/c/events/t/seven/107",
    ]
    # The feed's own title is the author's name when the entry names none.
    assert {m.author.handle for m in messages} == {"Forum news"}
    assert (await ch.whoami()).handle == "Forum news"


async def test_atom_html_and_xhtml_titles_are_plain_text() -> None:
    ch = make("https://r.example/feed.atom", served(ATOM, "application/atom+xml"))
    messages = sorted((await ch.poll(None)).messages, key=lambda m: m.created_at)
    assert [m.text for m in messages] == ["Bold & brave", "Strong & clear"]
    assert {m.author.handle for m in messages} == {"Reviews"}
