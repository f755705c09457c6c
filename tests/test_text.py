from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from wcwidth import wcswidth, wcwidth

from cminbox.core.html_text import html_to_text
from cminbox.core.store import Store
from cminbox.core.text import MAX_TEXT_CHARS, bound_text, cell_safe, one_line, sanitize
from tests.factories import WIDTH_TRAPS, make_message

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


# ---------------------------------------------------------------- bounded items (issue #11, point 15)


def test_a_5_mb_message_is_stored_bounded_with_a_marker_and_its_size(tmp_path: Path) -> None:
    huge = "a long log line that goes on and on\n" * (5 * 1024 * 1024 // 36)
    store = Store(tmp_path)
    [mid] = store.upsert_messages([make_message(1, text=huge)])
    stored = store.get_message(mid)
    assert stored is not None
    assert len(stored.text) <= MAX_TEXT_CHARS
    assert stored.text.startswith("a long log line that goes on and on\n")
    assert stored.text.endswith("[… truncated: 5,120 KB in all; open it on the channel to read the rest]")
    assert Store(tmp_path).get_message(mid) == stored  # on disk too, not only in memory
    assert store.upsert_messages([make_message(1, text=huge)]) == []  # the same message again: no update


@given(st.text(max_size=300), st.integers(min_value=100, max_value=400))
def test_bound_text_fits_and_is_idempotent(raw: str, limit: int) -> None:
    once = bound_text(raw * 3, limit)
    assert len(once) <= limit
    assert bound_text(once, limit) == once
    if len(raw * 3) <= limit:
        assert once == raw * 3


# ---------------------------------------------------------------- terminal-safe rows (issue #11, point 17)


@pytest.mark.parametrize("text", WIDTH_TRAPS)
def test_cell_safe_text_has_one_width_for_every_measure(text: str) -> None:
    """Per code point (tmux 3.3a, glibc) and per grapheme (Rich, wcwidth, modern terminals): the same."""
    safe = cell_safe(text)
    per_code_point = sum(max(0, wcwidth(ch)) for ch in safe)
    assert wcswidth(safe) == per_code_point
    assert cell_len(safe) == per_code_point
    assert sum(cell_len(ch) for ch in safe) == per_code_point


def test_cell_safe_keeps_the_readable_parts() -> None:
    assert cell_safe("👩‍💻 🏳️‍🌈 🇩🇪 1️⃣ 👍🏽") == "👩💻 🏳🌈 DE 1 👍"
    assert cell_safe("plain ascii") == "plain ascii"


def test_a_name_and_a_handle_are_bounded_as_they_are_stored(tmp_path: Path) -> None:
    """Regression (hostile-data trial of 2026-12-01): a 1 MB display name was stored whole and
    filled the preview with ~22,000 lines before the message."""
    import msgspec

    from cminbox.core.models import Author
    from cminbox.core.text import MAX_HANDLE_CHARS, MAX_NAME_CHARS

    huge = msgspec.structs.replace(
        make_message(1), author=Author(id="x", handle="@" + "h" * 3000 + "@x.example", display_name="N" * 1_000_000)
    )
    store = Store(tmp_path / "data")
    store.upsert_messages([huge, make_message(2)])
    author = Store(tmp_path / "data").get_message("masto:1").author  # type: ignore[union-attr]
    assert len(author.display_name) == MAX_NAME_CHARS and author.display_name.endswith("…")
    assert len(author.handle) == MAX_HANDLE_CHARS and author.handle.startswith("@hhh")
    assert Store(tmp_path / "data").get_message("masto:2").author == make_message(2).author  # type: ignore[union-attr]
