"""Sentiment benchmark: what scoring costs at ingest, and how good it is on the labelled set.

    .venv/bin/python bench/sentiment.py [--items 100] [--repeat 200]

Cost: scoring N incoming items (the gate, then VADER for the English ones), the median of
--repeat runs, after the one-time lexicon load (printed apart). Quality: precision and
recall of "negative" on each half of tests/sentiment/ (the community lexicon was chosen
looking at the dev half only; the test half is the honest number), for VADER as published
and with the community lexicon. When py3langid is installed, its load and per-item cost are
printed beside the gate's, the comparison behind choosing a word-list gate.
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cminbox.core import sentiment
from cminbox.core.sentiment import Mood, language, score
from tests.sentiment.labelled import Item, items


def quality(labelled: list[Item], half: str) -> str:
    tp = fp = fn = foreign_scored = english_unscored = 0
    for item in labelled:
        if item.half != half:
            continue
        mood = score(item.text).mood
        if item.label == "foreign":
            foreign_scored += mood != Mood.UNKNOWN
            continue
        english_unscored += mood == Mood.UNKNOWN
        said, truth = mood == Mood.NEGATIVE, item.label == "negative"
        tp += said and truth
        fp += said and not truth
        fn += truth and not said
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return (
        f"{half:<4}  precision {precision:.2f}  recall {recall:.2f}  (tp {tp}, fp {fp}, fn {fn}; "
        f"foreign scored {foreign_scored}, English left unscored {english_unscored})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()
    print(f"# sentiment bench on {platform.node()} ({platform.machine()}, Python {platform.python_version()})")
    labelled = items()
    texts = [labelled[i % len(labelled)].text for i in range(args.items)]

    started = time.perf_counter()
    sentiment._analyzer()
    print(f"lexicon load (once per process): {(time.perf_counter() - started) * 1000:.1f} ms")
    runs = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        for text in texts:
            score(text)
        runs.append(time.perf_counter() - started)
    gate = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        for text in texts:
            language(text)
        gate.append(time.perf_counter() - started)
    print(
        f"scoring {args.items} items: median {statistics.median(runs) * 1000:.2f} ms, "
        f"p99 {sorted(runs)[int(len(runs) * 0.99) - 1] * 1000:.2f} ms "
        f"(the language gate alone: {statistics.median(gate) / args.items * 1e6:.1f} µs per item)"
    )

    print(f"labelled set: {len(labelled)} items, negative = the author is unhappy, angry or hostile")
    for half in ("dev", "test"):
        print("  with the community lexicon:", quality(labelled, half))
    added = dict(sentiment.COMMUNITY_LEXICON)
    analyzer = sentiment._analyzer()
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer.lexicon = SentimentIntensityAnalyzer().lexicon  # VADER as published
    for half in ("dev", "test"):
        print("  VADER as published:        ", quality(labelled, half))
    analyzer.lexicon.update(added)

    if importlib.util.find_spec("py3langid") is None:
        print("py3langid: not installed (pip install py3langid to compare the language gate with it)")
        return
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    import py3langid

    py3langid.classify("warm up: loads the model")
    load = time.perf_counter() - started
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss) / 1024
    started = time.perf_counter()
    for text in texts:
        py3langid.classify(text)
    per_item = (time.perf_counter() - started) / len(texts)
    print(f"py3langid: load {load * 1000:.0f} ms, peak memory +{grown:.0f} MB, {per_item * 1e6:.1f} µs per item")


if __name__ == "__main__":
    main()
