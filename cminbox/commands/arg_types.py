"""Argument types for the commands: a number out of its range is a usage error that says the
range (argparse prints it with the usage, exit 2), not an internal error further down
(``--limit 0`` indexed an empty list; ``--older-than 99999999999`` overflowed a date)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

MAX_DAYS = 36_525  # a hundred years: the longest age or duration any command takes


def int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range: {low} to {high:,}")
        return value

    parse.__name__ = "number"  # what argparse names in "invalid number value"
    return parse


LIMIT = int_between(1, 10_000_000)
DAYS = int_between(0, MAX_DAYS)
