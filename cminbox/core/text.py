"""Turning untrusted text from the internet into inert plain text.

Everything a channel fetches passes through :func:`sanitize` (and HTML through
:func:`html_to_text`) before it is stored, so no later layer has to remember to.
Rich/Textual markup such as ``[bold]`` is deliberately *kept* as literal text: it is
only dangerous if a renderer interprets it, and renderers here never do.
"""

from __future__ import annotations

import re
import unicodedata

import msgspec

from cminbox.core.models import Message

# ECMA-48 sequences: CSI (ESC [ or C1 0x9b), OSC/DCS/APC/PM/SOS strings, and 2-byte ESC codes.
_ANSI = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?          # CSI ... final byte (may be truncated)
  | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])     # OSC, DCS, SOS, PM, APC ...
        .*?(?:\x07|\x1b\\|\x9c|$)               # ... up to BEL or ST (or end of text)
  | \x1b[ -/]*[0-~]?                            # other ESC sequences: intermediates, one final byte
    """,
    re.VERBOSE | re.DOTALL,
)

# Bidi embeddings, overrides and isolates can make text render in a different order
# from how it is stored ("Trojan Source"); right-to-left *letters* are kept.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
# What must never reach a terminal from stored or fetched text, whatever path it took: C0 and C1
# controls, lone surrogates, bidi overrides and isolates, and the Hangul fillers terminals draw 2
# cells wide where Rich and wcwidth count 0. The TUI's last filter (tui/inert_lines.py) and the
# command line's output (commands/inert_output.py) drop them; newlines and tabs are the output's
# own (UNSAFE_OUTPUT leaves them).
_UNSAFE_BEYOND_C0 = "\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u115f\u1160\u3164\uffa0"
UNSAFE_CELLS = re.compile(f"[\x00-\x1f{_UNSAFE_BEYOND_C0}]")
UNSAFE_OUTPUT = re.compile(f"[\x00-\x08\x0b-\x1f{_UNSAFE_BEYOND_C0}]")  # \t and \n kept
_LINE_BREAKS = {"\r\n": "\n", "\r": "\n", "\u2028": "\n", "\u2029": "\n\n", "\x85": "\n"}
_KEEP_FORMAT = frozenset("\u200d\u200c\ufe0f\ufe0e")  # ZWJ/ZWNJ and variation selectors: emoji need them


def sanitize(text: str, *, single_line: bool = False) -> str:
    """Strip terminal escapes, control characters and bidi controls.

    Newlines survive (unless ``single_line``); tabs become spaces.
    """
    if not text:
        return ""
    # Fast path (C speed): printable text, newlines aside, has nothing to strip. isprintable() is
    # False for every control, format, surrogate, private-use and unassigned character.
    flat = text.replace("\n", " ")
    if flat.isprintable():
        return flat if single_line else text
    for src, dst in _LINE_BREAKS.items():
        text = text.replace(src, dst)
    text = _ANSI.sub("", text)
    out: list[str] = []
    for ch in text:
        if ch == "\n":
            out.append(" " if single_line else "\n")
        elif ch == "\t":
            out.append("    ")
        elif ch in _BIDI_CONTROLS:
            continue
        else:
            cat = unicodedata.category(ch)
            if cat in ("Cc", "Cs", "Co", "Cn") or (cat == "Cf" and ch not in _KEEP_FORMAT):
                continue
            out.append(ch)
    return "".join(out)


def cell_width(text: str) -> int:
    """Terminal cells ``text`` takes, as terminals count them for text passed through
    :func:`cell_safe`: wide (East Asian wide/full-width, emoji) 2, combining and format marks 0."""
    if text.isascii():
        return len(text)
    width = 0
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def fit_cells(text: str, width: int) -> str:
    """``text`` as one line of exactly ``width`` cells: made cell-safe, cut with an ellipsis
    when longer, padded with spaces when shorter (for the CLI's fixed-width columns)."""
    flat = cell_safe(one_line(text))
    if cell_width(flat) > width:
        out, used = [], 0
        for ch in flat:
            w = cell_width(ch)
            if used + w > width - 1:
                break
            out.append(ch)
            used += w
        flat = "".join(out) + "…"
    return flat + " " * max(0, width - cell_width(flat))


def graphemes(text: str) -> int:
    """What a reader counts as characters: an emoji sequence (👍🏽, a flag) is one. Bluesky's and
    Mastodon's reply limits are counted so."""
    import regex  # here: the first frame does not count anything (~5 ms of import)

    return len(regex.findall(r"\X", text))


def one_line(text: str, width: int | None = None) -> str:
    """A single-line preview: sanitized, whitespace folded, optionally cut with an ellipsis."""
    flat = " ".join(sanitize(text, single_line=True).split())
    if width is not None and len(flat) > width:
        return flat[: max(0, width - 1)] + "…"
    return flat


# ---------------------------------------------------------------- terminal-safe rows

# What terminals disagree on: ZWJ sequences (tmux 3.3a draws 👩‍💻 as two emoji, 4 cells; Textual
# and grapheme-aware terminals as one, 2 cells), variation selectors (❤️ is 1 cell or 2), skin-tone
# modifiers (a 2-cell emoji of their own where they are not joined), the combining keycap, and
# regional-indicator flags (1 or 2 cells per letter). Without them every code point has one width
# that terminals, wcwidth and Rich agree on, and a row's columns stay where Textual put them.
_WIDTH_AMBIGUOUS = re.compile("[\u200d\ufe00-\ufe0f\u20e3\U0001f3fb-\U0001f3ff\U000e0100-\U000e01ef]")
_REGIONAL = {cp: chr(ord("A") + cp - 0x1F1E6) for cp in range(0x1F1E6, 0x1F200)}  # 🇩🇪 → DE


def cell_safe(text: str) -> str:
    """Text for a fixed-width row (one-line preview, author, tag): ZWJ sequences become their
    components, variation selectors, skin tones and keycaps go, flags become their letters.
    Only for display: the store keeps the original."""
    if text.isascii():
        return text
    return _WIDTH_AMBIGUOUS.sub("", text).translate(_REGIONAL)


# ---------------------------------------------------------------- bounded items

MAX_TEXT_CHARS = 32 * 1024
"""The most of one item's text that is stored (and so rendered): a 5 MB post cost 1.5 s of
preview rendering every time the cursor landed on it. The rest stays on the channel."""


def bound_text(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """``text`` itself when it fits; else its beginning and a marker with the original size.
    Idempotent: a bounded text fits the limit."""
    if len(text) <= limit:
        return text
    size_kb = max(1, round(len(text.encode("utf-8", "surrogatepass")) / 1024))
    marker = f"\n\n[… truncated: {size_kb:,} KB in all; open it on the channel to read the rest]"
    return text[: max(0, limit - len(marker))].rstrip() + marker


_ONE_LINE_FIELDS = ("id", "channel", "channel_type", "native_id", "url", "thread_id", "parent_id", "visibility", "lang")
_AUTHOR_FIELDS = ("id", "handle", "display_name", "url")


def _inert_line(value: object) -> str:
    # Not a str at all (an adapter let a server's object through: a Matrix relation that was a
    # dict): no string, rather than an upsert that fails, and a channel stuck, on every poll.
    if not isinstance(value, str):
        return ""
    return value if value.isprintable() else sanitize(value, single_line=True)


def inert_message(message: Message) -> Message:
    """The message with nothing a terminal would act on in any of its strings: its text through
    :func:`sanitize`, and its ids, links, handles, names and extras kept to one printable line.
    Adapters clean the text they render, but a server's ids and links went into the store as
    they came, and from there to `list`, `show` and the preview: an id carrying OSC 52 wrote the
    user's clipboard, a link carrying ESC[2J cleared the screen (review of 2026-12-01). Done
    once, on the way into a store; a clean message is returned as it is (printable strings pass
    a C-speed check)."""
    changes: dict[str, object] = {}
    for name in _ONE_LINE_FIELDS:
        value = getattr(message, name)
        if (clean := _inert_line(value)) != value:
            changes[name] = clean
    text = message.text if isinstance(message.text, str) else ""
    if text is not message.text:
        changes["text"] = text
    if not text.replace("\n", " ").replace("\t", " ").isprintable() and (clean := sanitize(text)) != text:
        changes["text"] = clean  # (tabs alone are left as they are)
    author = message.author
    if any(_inert_line(value := getattr(author, name)) != value for name in _AUTHOR_FIELDS):
        changes["author"] = msgspec.structs.replace(
            author, **{name: _inert_line(getattr(author, name)) for name in _AUTHOR_FIELDS}
        )
    extra = message.extra
    if extra and any(_inert_line(key) != key or _inert_line(value) != value for key, value in extra.items()):
        changes["extra"] = {_inert_line(key): _inert_line(value) for key, value in extra.items()}
    return msgspec.structs.replace(message, **changes) if changes else message


# A person's name and handle as stored: a 1 MB display name filled the preview with ~22,000
# lines before the message, and was kept whole (hostile-data trial of 2026-12-01). Longer than
# any a network allows (Mastodon: 30-character names; handles of 30 + a domain of 253).
MAX_NAME_CHARS = 200
MAX_HANDLE_CHARS = 320


def _cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def bound_message(message: Message) -> Message:
    """The message as it is stored: inert (:func:`inert_message`), its text bounded (see
    :data:`MAX_TEXT_CHARS`) and its author's name and handle too. Its time must be
    timezone-aware (a naive one would fail every comparison with the stored ones)."""
    if message.created_at.tzinfo is None:
        raise ValueError(f"message {message.id}: created_at must be timezone-aware")
    message = inert_message(message)
    author = message.author
    if len(author.display_name) > MAX_NAME_CHARS or len(author.handle) > MAX_HANDLE_CHARS:
        author = msgspec.structs.replace(
            author,
            display_name=_cut(author.display_name, MAX_NAME_CHARS),
            handle=_cut(author.handle, MAX_HANDLE_CHARS),
        )
        message = msgspec.structs.replace(message, author=author)
    text = bound_text(message.text)
    return message if text is message.text else msgspec.structs.replace(message, text=text)
