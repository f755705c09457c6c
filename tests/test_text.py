from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from cminbox.core.text import html_to_text, one_line, sanitize

BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def assert_inert(text: str) -> None:
    for ch in text:
        assert ch == "\n" or unicodedata.category(ch) != "Cc", repr(ch)
        assert ch not in BIDI, repr(ch)


@given(st.text())
def test_sanitize_leaves_no_control_or_bidi_characters(raw: str) -> None:
    assert_inert(sanitize(raw))


@given(st.text())
def test_sanitize_is_idempotent(raw: str) -> None:
    once = sanitize(raw)
    assert sanitize(once) == once


@given(st.text())
def test_html_to_text_never_raises_and_is_inert(raw: str) -> None:
    assert_inert(html_to_text(raw))


@given(st.text(), st.integers(min_value=1, max_value=200))
def test_one_line_is_one_line_and_fits(raw: str, width: int) -> None:
    out = one_line(raw, width)
    assert "\n" not in out
    assert len(out) <= width


def test_ansi_osc_and_c1_sequences_are_removed_whole() -> None:
    raw = "a\x1b[31mred\x1b[0m b\x1b]8;;https://evil.example\x07link\x1b]8;;\x07 c\x9b2Jd \x1b(Be"
    assert sanitize(raw) == "ared blink cd e"


def test_markup_is_kept_literally() -> None:
    raw = "[bold]x[/bold] [link=https://evil.example]y[/link] [@click=app.quit]z[/]"
    assert sanitize(raw) == raw


def test_bidi_overrides_removed_but_rtl_letters_kept() -> None:
    assert sanitize("abc\u202edcba\u202c שלום مرحبا") == "abcdcba שלום مرحبا"


def test_emoji_sequences_survive() -> None:
    assert sanitize("👩‍💻 🏳️‍🌈") == "👩‍💻 🏳️‍🌈"


def test_html_scripts_styles_and_entities() -> None:
    html = (
        '<p>Hi <script>alert("x")</script><style>p{}</style>&lt;b&gt; &amp; '
        '<a href="https://x">link</a></p><p>second<br>line</p>'
    )
    assert html_to_text(html) == "Hi <b> & link\n\nsecond\nline"


def test_mastodon_invisible_link_parts_are_dropped() -> None:
    html = (
        '<p>see <a href="https://example.com/very/long"><span class="invisible">https://</span>'
        '<span class="ellipsis">example.com/very</span><span class="invisible">/long</span></a></p>'
    )
    assert html_to_text(html) == "see example.com/very"


def test_malformed_html_is_handled() -> None:
    assert html_to_text("<p>unclosed <b>bold <i>it") == "unclosed bold it"
    assert html_to_text("<<<>>>") in ("<<<>>>", "<<>>>", "")
