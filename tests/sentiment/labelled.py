"""The labelled set for sentiment: the demo community's own text and hand-written cases.

Labels: ``negative`` (the author is unhappy, angry, distressed or hostile, not merely reporting
a fault), ``fine`` (neutral or positive), ``foreign`` (not English: it must get no score).
Every item falls in one half, ``dev`` or ``test``, by a hash of its text: the lexicon is
adjusted looking at ``dev`` only, and the README quotes ``test``.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

from cminbox.demo import community as c

HANDWRITTEN = Path(__file__).with_name("handwritten.txt")

# Per template of the demo community: its label (the category's, or a per-template list).
_BY_KIND: dict[str, tuple[list[str], str | list[str]]] = {
    "question": (c.QUESTIONS, "fine"),
    "feature": (c.FEATURES, "fine"),
    "praise": (c.PRAISE, "fine"),
    "advocate": (c.ADVOCATE, "fine"),
    "dm": (c.DM, "fine"),
    "complaint": (c.COMPLAINTS, "negative"),
    "abuse": (c.ABUSE, "negative"),
    "bug": (c.BUGS, ["fine", "fine", "fine", "negative", "fine"]),
    "outage": (
        c.OUTAGE,
        [
            *("fine", "fine", "negative", "negative", "fine", "fine"),
            *("fine", "negative", "negative", "fine", "fine", "fine"),
        ],
    ),
}
FILLS_PER_TEMPLATE = 3  # each template with three different topics, versions and systems


@dataclass(frozen=True)
class Item:
    text: str
    label: str  # negative, fine, foreign
    source: str  # "demo:<kind>" or "handwritten"

    @property
    def half(self) -> str:
        return "dev" if hashlib.sha256(self.text.encode()).digest()[0] % 2 == 0 else "test"


def items() -> list[Item]:
    rng = random.Random(13)
    out: list[Item] = []
    seen: set[str] = set()
    for kind, (templates, labels) in _BY_KIND.items():
        for i, template in enumerate(templates):
            label = labels if isinstance(labels, str) else labels[i]
            for _ in range(FILLS_PER_TEMPLATE):
                text = c.fill(rng, template)
                if text not in seen:
                    seen.add(text)
                    out.append(Item(text, label, f"demo:{kind}"))
    for line in HANDWRITTEN.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            label, text = line.split("\t", 1)
            if text not in seen:
                seen.add(text)
                out.append(Item(text, label, "handwritten"))
    return out
