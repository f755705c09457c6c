"""A writer process for the crash tests: runs `cminbox tag` in a loop, in-process, and
prints "ACK n" only after the command returned success (the action is acknowledged)."""

from __future__ import annotations

import contextlib
import io
import sys

from cminbox.cli import main

data_dir, prefix, first, count, *ids = sys.argv[1:]
for n in range(int(first), int(first) + int(count)):
    mid = ids[n % len(ids)]
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["--data-dir", data_dir, "tag", mid, f"{prefix}{n}"])
    if code != 0:
        print(f"FAIL {n} {code}", flush=True)
        sys.exit(1)
    print(f"ACK {n} {mid}", flush=True)
