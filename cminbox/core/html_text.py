"""HTML fragments from a channel (Mastodon statuses, Discourse posts, feed entries, mail
bodies) as plain, sanitized text.

Apart from core.text because ``html.parser`` is only needed when a channel polls: the inbox's
first frame imports core.text (sanitizing) but never parses HTML (issue #14's import budget).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from cminbox.core.text import sanitize


class _TextExtractor(HTMLParser):
    _BLOCK = frozenset(
        {
            "p",
            "div",
            "li",
            "blockquote",
            "pre",
            "tr",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "ul",
            "ol",
            "table",
            "section",
            "article",
            "header",
            "footer",
        }
    )
    _SKIP = frozenset({"script", "style", "head", "title", "template", "noscript", "iframe", "object"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0
        # Mastodon hides the scheme and tail of long links in "invisible"/"ellipsis" spans.
        self._invisible_depth = 0
        self._stack: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip_depth += 1
            return
        classes = (dict(attrs).get("class") or "").split()
        if tag == "br":
            self.parts.append("\n")
            return
        if tag in self._BLOCK:
            self.parts.append("\n\n" if tag in ("p", "blockquote", "pre") else "\n")
            if tag == "li":
                self.parts.append("• ")
        invisible = "invisible" in classes
        self._stack.append((tag, invisible))
        if invisible:
            self._invisible_depth += 1
        elif "ellipsis" in classes:
            self._stack[-1] = (tag, False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(alt)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
            return
        while self._stack:
            open_tag, invisible = self._stack.pop()
            if invisible:
                self._invisible_depth -= 1
            if open_tag == tag:
                break
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip_depth or self._invisible_depth:
            return
        self.parts.append(data)


_SPACES = re.compile(r"[ \u00a0]+")
_BLANKS = re.compile(r"\n{3,}")


def html_to_text(html: str) -> str:
    """Convert an HTML fragment to plain, sanitized text. Never raises on malformed input."""
    if not html:
        return ""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # HTMLParser is lenient, but garbage must never take a channel down
        return sanitize(re.sub(r"<[^>]*>", " ", html)).strip()
    text = sanitize("".join(parser.parts))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()
