"""Sentiment of incoming text: VADER's lexicon (made for social media) behind a language gate.

VADER knows English only. Scoring German or Hebrew with it gives confident nonsense (an
English word or an emoji in the text decides the score), so text is scored only when a cheap
check says it is English; anything else gets no score, shown as "?", never a wrong one.

The gate is a function-word count, not a language-identification model: py3langid, the
lightest model measured here, costs 0.7 s to load and ~100 MB of memory, for a yes/no question
that a few hundred common words answer in ~20 µs per item (``bench/sentiment.py`` prints both).

Thresholds are VADER's published ones (compound ≤ -0.05 negative, ≥ 0.05 positive), not
tuned on our labelled set, so the precision and recall the README quotes are not flattered by
fitting to it.
"""

from __future__ import annotations

import functools
from enum import StrEnum
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    import regex
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

NEGATIVE_AT = -0.05  # VADER's documented cut-offs for its compound score
POSITIVE_AT = 0.05
MIN_WORDS = 1  # fewer words than this (emoji only, a URL): no judgement
LATIN_SHARE = 0.5  # less than this share of Latin letters: another script, not English


@functools.cache
def _patterns() -> tuple[regex.Pattern[str], regex.Pattern[str], regex.Pattern[str], regex.Pattern[str]]:
    """Words, Latin letters, letters, URLs. Compiled at the first score, not at import: ``regex``
    takes ~4 ms to import and the inbox's first frame imports this module through the query
    fields but scores nothing (issue #14's import budget)."""
    import regex

    return (
        regex.compile(r"[\p{L}']+"),
        regex.compile(r"\p{Script=Latin}"),
        regex.compile(r"\p{L}"),
        # An address starts a word: tried at every position of a long run without spaces,
        # "\S+@" backtracked quadratically (200,000 characters: a minute of CPU per poll).
        regex.compile(r"https?://\S+|(?<!\S)[^\s@]+@\S+\.\S+"),
    )


# Common function words. English ones are evidence for scoring; the others' are evidence
# against (a German post shares "die", "in", "war" with English, but not "ich", "nicht", "und").
_ENGLISH_WORDS = (
    "a about after again all also am an and any anyone are as at be because been before but by "
    "can can't cannot could did didn't do does doesn't don't for from get got had has have haven't "
    "he her here him his how i i'm i've if in into is isn't it it's its just keep know let like "
    "me more my need no not now of on one only or our out please really same should so some still "
    "such than thanks that the their them then there these they this those to too up us very was "
    "wasn't we were what when where which who why will with won't would you you're your"
)
_ENGLISH = frozenset(_ENGLISH_WORDS.split(" "))
_OTHERS = {
    "de": "ich nicht und ist das der ein eine mit für auf wie aber auch noch schon bitte danke sehr "
    "wir sie es mein meine kann habe wenn oder gibt nach dem den des zum zur",
    "fr": "je ne pas est le la les de en des une et avec pour sur mais aussi très merci nous vous c'est "
    "j'ai mon ma mes dans qui que quoi comment pourquoi du au aux",
    "es": "el la los las en de una y con para por pero también muy gracias nosotros es está estoy mi mis "
    "que qué cómo porque del al hay tengo puedo",
    "pt": "não é um uma de em no na com pode alguém para mas também muito obrigado obrigada nós você meu minha que "
    "como porque do da dos das tem está estou",
    "it": "non è il lo gli una con per ma anche molto grazie noi voi mio mia che come perché del della sono ho",
    "nl": "ik niet de en het een met voor maar ook heel dank wij jullie mijn dat hoe waarom van zijn heb kan",
}
_OTHER_WORDS = {lang: frozenset(words.split(" ")) for lang, words in _OTHERS.items()}


class Mood(StrEnum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"
    UNKNOWN = "unknown"  # not English, or too little text: shown as "?"


class Sentiment(msgspec.Struct, frozen=True):
    score: float | None  # VADER's compound score in [-1, 1]; None when not scored
    language: str  # "en", another code from the gate ("de", "he"...) or "" (too little text)

    @property
    def mood(self) -> Mood:
        return mood_of(self.score)


def mood_of(score: float | None) -> Mood:
    if score is None:
        return Mood.UNKNOWN
    if score <= NEGATIVE_AT:
        return Mood.NEGATIVE
    if score >= POSITIVE_AT:
        return Mood.POSITIVE
    return Mood.NEUTRAL


def language(text: str) -> str:
    """ "en" when the text reads as English, a guess at the other language otherwise ("other"
    for another script), "" when there is too little text to tell."""
    word, latin, letter, url = _patterns()
    text = url.sub(" ", text)
    letters = len(letter.findall(text))
    if letters and len(latin.findall(text)) / letters < LATIN_SHARE:
        return "other"
    words = [w.strip("'").casefold() for w in word.findall(text)]
    words = [w for w in words if w]
    if len(words) < MIN_WORDS:
        return ""
    english = sum(w in _ENGLISH for w in words)
    best, hits = max(((lang, sum(w in vocab for w in words)) for lang, vocab in _OTHER_WORDS.items()), key=_hits)
    if hits and hits >= english:  # a tie ("no" is English and Portuguese) is not English enough
        return best
    if english:
        return "en"
    # No function word either way (short posts: "lol", "garbage app"): English when VADER's
    # own lexicon knows a word of it, else too little to tell.
    lexicon = _analyzer().lexicon
    return "en" if any(w in lexicon for w in words) else ""


def _hits(pair: tuple[str, int]) -> int:
    return pair[1]


# Community-support words VADER's lexicon lacks or reads in another sense, with valences on
# its scale (-4..4) next to its own neighbours ("useless" -1.8, "broken" -2.1, "pathetic" -2.7).
# Chosen from the labelled set's dev half only; the README quotes the held-out test half.
COMMUNITY_LEXICON = {
    "garbage": -2.5,
    "trash": -2.3,
    "unusable": -2.3,
    "buggy": -1.8,
    "crashed": -1.7,
    "crashes": -1.7,
    "crashing": -1.7,
    "nightmare": -2.6,
    "clowns": -1.8,
    "idiots": -2.5,
    "idiot": -2.5,
    "uninstalling": -1.5,
    "uninstalled": -1.5,
    "laggy": -1.5,
    "bloated": -1.2,
    "ripoff": -2.5,
    # "a joke" is a verdict on a product, not a laugh, in this setting (VADER: +1.2).
    "joke": -1.5,
    # Fault reports name errors and dead services without being angry (VADER: -1.7, -2.6).
    "error": -0.6,
    "died": -1.0,
}


@functools.cache
def _analyzer() -> SentimentIntensityAnalyzer:
    # Imported on first use (7 ms, the lexicon files): start-up does not pay for it.
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update(COMMUNITY_LEXICON)
    return analyzer


SCORED_CHARS = 4000  # a post's mood is its opening's: and a long one costs no more than that


def score(text: str) -> Sentiment:
    """The text's sentiment, or no score (``mood`` UNKNOWN) when it is not English. Only the
    first SCORED_CHARS are read: ingest scores a message before it is bounded for the store,
    and a server may send megabytes (hostile-data trial of 2026-12-01)."""
    text = text[:SCORED_CHARS]
    lang = language(text)
    if lang != "en":
        return Sentiment(None, lang)
    compound = _analyzer().polarity_scores(_patterns()[3].sub(" ", text))["compound"]
    return Sentiment(round(float(compound), 4), lang)
