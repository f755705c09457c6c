"""The author's card: who is behind an item, for the preview (short) and the person screen (full).

Cards are read on a worker beside the preview's own lookups (:func:`read_card`), once per
author: moving between one person's items costs no store read, and the message shows at once
while the card (~150 ms at 100k items: the person's items, every author for the suggestions,
the outbox) follows. Everything here that renders is plain Rich Text from data already read,
never markup: names and notes come from outside. Profile tags are a glyph and a word
(``★ vip``), never colour alone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.text import Text

from cminbox.core.errors import CminboxError, StoreUnavailable
from cminbox.core.guidelines import notices_text
from cminbox.core.models import Message
from cminbox.core.people import PROFILE_TAGS, identity_of, is_stored
from cminbox.core.people_ops import TREND_ITEMS, Card, PeopleOps, Trend
from cminbox.core.sentiment import mood_of
from cminbox.core.text import sanitize
from cminbox.core.when import age

FREE_TAG = "·"  # the glyph of a tag the product does not know (as people.Person.marker)
NOTES_SHOWN = 1  # the preview shows the newest person note; the person screen all of them


def read_card(ops: PeopleOps, catch_up: Callable[[], None], message: Message) -> Card | None:
    """The author's card, for a worker thread (the inbox runs it as a second lookup beside the
    preview's, cached per author: tui/store_worker.Lookups). None when nobody can be named (an
    author with no live item any more): the preview shows the item without it.

    ``catch_up`` runs first: the card's read of the outbox is a step of the TinyDB store, which
    takes in other instances' changes without reporting them to the next change check;
    ``catch_up`` runs that check's read first (tui/store_sync.py), so an edit or a teammate's
    triage made meanwhile still reaches the rows."""
    catch_up()
    try:
        return ops.card(identity_of(message))
    except StoreUnavailable:
        raise  # the banner's business: the preview keeps what it shows
    except CminboxError:
        return None


def tag_words(tags: list[str]) -> str:
    """``★ vip  ⚠ troll  · beta``: known tags in the product's order, then free ones."""
    known = [f"{glyph} {tag}" for tag, glyph in PROFILE_TAGS.items() if tag in tags]
    return "  ".join([*known, *(f"{FREE_TAG} {t}" for t in tags if t not in PROFILE_TAGS)])


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def trend_text(trend: Trend) -> str:
    """The sentiment trend in words, with the means it compares: "worsening, mean -0.42 of the
    last 10, was +0.12 (24 scored)"; with too few scored items, only their mood on average."""
    if trend.recent is None:
        return "sentiment: nothing scored yet (not English, or too short)"
    if trend.before is None:
        mood = mood_of(trend.recent)
        return (
            f"sentiment: {mood} on average, {trend.recent:+.2f} over {_count(trend.scored, 'scored item')} "
            f"(a trend needs {TREND_ITEMS + 1})"
        )
    return (
        f"sentiment: {trend.word}, mean {trend.recent:+.2f} of the last {TREND_ITEMS}, "
        f"was {trend.before:+.2f} ({trend.scored} scored)"
    )


def card_text(card: Card, now: datetime, *, full: bool = False) -> Text:
    """The card's lines. The preview's is short (``full`` off; its tags are on the name line
    above): each identity with its counts, the totals when there are several, the team's last
    reply, the trend, the newest note, link suggestions. The person screen's adds the tags,
    every note, the open items and who changed the record last."""
    out = Text()
    person = card.person
    if full:
        out.append(tag_words(card.tags) or "no profile tags", style="bold" if card.tags else "dim italic")
        out.append("\n")
    for key in person.identities:
        seen = card.seen.get(key)
        out.append(sanitize(key, single_line=True))
        if seen is None:
            out.append("  no live items\n", style="dim")
        else:
            last = f", last {age(seen.last_seen, now)} ago" if full else ""
            out.append(f"  {_count(seen.items, 'item')}, {seen.open} to do{last}\n", style="dim")
    if full or len(person.identities) > 1:
        totals = [_count(card.items, "item"), f"{card.open} to do"]
        if card.first_seen is not None:
            totals.append(f"first seen {age(card.first_seen, now)} ago")
        out.append("in all: " + " · ".join(totals) + "\n")
    reply = card.team_reply()
    if reply is not None:
        by = sanitize(reply.by, single_line=True) + (", on the channel" if reply.outside else "")
        out.append(f"last reply from the team {age(reply.at, now)} ago ({by})\n")
    else:
        out.append("no reply from the team yet\n", style="dim")
    out.append(trend_text(card.trend) + "\n")
    if told := notices_text(card.guideline_notices):
        out.append(f"guideline notices: {told}\n")
    if card.answers[0]:  # the helper's credit (core/community_ops.py)
        out.append(f"↪ {_count(card.answers[0], 'community answer')}, {card.answers[1]} confirmed\n")
    for note in person.notes if full else person.notes[-NOTES_SHOWN:]:
        out.append(f"note · {sanitize(note.author, single_line=True)} {note.at:%m-%d}: ", style="dim")
        out.append(sanitize(note.text, single_line=not full) + "\n")
    if full and card.open_items:
        # "To do", not "open": open is also one of the statuses (new-user trial of 2026-12-01
        # read "12 items, 12 open" of 11 new and 1 open).
        more = card.open - len(card.open_items)
        rest = f" …and {more} more" if more > 0 else ""
        out.append(f"to do: {', '.join(m.id for m, _ in card.open_items)}{rest}\n", style="dim")
    if card.suggested:
        out.append(f"link?: {', '.join(card.suggested)}", style="italic")
        out.append("  (the same user name elsewhere: l links)\n" if full else "\n", style="dim")
    if full and is_stored(person) and person.updated_at is not None:
        by = f" by {sanitize(person.updated_by, single_line=True)}" if person.updated_by else ""
        out.append(f"{person.id} · changed {age(person.updated_at, now)} ago{by} · rev {person.rev}\n", style="dim")
    return out


def card_title(card: Card) -> str:
    """The person's name and, once stored, the id that never changes."""
    name = sanitize(card.name, single_line=True)
    return f"{name} · {card.person.id}" if is_stored(card.person) else name
