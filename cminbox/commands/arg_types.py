"""Argument types for the commands: a number out of its range is a usage error that says the
range (argparse prints it with the usage, exit 2), not an internal error further down
(``--limit 0`` indexed an empty list; ``--older-than 99999999999`` overflowed a date)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

MAX_DAYS = 36_525  # a hundred years: the longest age or duration any command takes


def int_between(low: int | None, high: int) -> Callable[[str], int]:
    """``low`` None: no lower bound here (the command says more about a negative one itself)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value > high or (low is not None and value < low):
            raise argparse.ArgumentTypeError(f"{value} is out of range: {low or 0} to {high:,}")
        return value

    parse.__name__ = "number"  # what argparse names in "invalid number value"
    return parse


LIMIT = int_between(1, 10_000_000)
DAYS = int_between(None, MAX_DAYS)  # archive: a negative one is said there, with what to give
