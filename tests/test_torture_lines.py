"""The torture tests' line reader keeps a line that arrives in two reads.

Regression: with PYTHONUNBUFFERED, print() writes a line's text and its newline in two
calls; when a 5 s read window ended between them, the reader dropped the text as an
unfinished line and the next read began at the newline, so one ACK line vanished and the
eight-process PostgreSQL run failed with 499 of 500 acknowledged.
"""

from __future__ import annotations

import subprocess
import sys
import time

from tests.test_store_torture import Lines

TWO_WRITES = "import os, time; os.write(1, b'ACK a'); time.sleep(0.6); os.write(1, b'\\nACK b\\nDONE\\n')"


def test_a_line_split_across_read_windows_is_kept_whole() -> None:
    proc = subprocess.Popen([sys.executable, "-c", TWO_WRITES], stdout=subprocess.PIPE)
    try:
        out = Lines(proc)
        first = out.read(time.monotonic() + 0.3)  # ends while the line is half written
        rest = out.read(time.monotonic() + 10)
    finally:
        proc.wait(timeout=10)
    assert first == []
    assert rest == ["ACK a", "ACK b", "DONE"]


def test_an_unfinished_line_at_exit_is_not_a_line() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import os; os.write(1, b'ACK a\\nACK b')"], stdout=subprocess.PIPE)
    try:
        out = Lines(proc)
        lines = out.read(time.monotonic() + 10)
    finally:
        proc.wait(timeout=10)
    assert lines == ["ACK a"]  # "ACK b" was never finished: not acknowledged
