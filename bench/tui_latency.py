"""TUI latency in a real pseudo-terminal: launch to interactive, and keypress to finished frame.

    .venv/bin/python bench/tui_latency.py --messages 100000 --keys 200

Runs the real `cminbox` command on a generated store (no network: the one channel points at a
closed port), in a 120x40 pty, like a terminal would. A frame counts as finished when the app
has been silent for --quiet ms after its last byte; that quiet window is subtracted.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import statistics
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fixtures import build_store


def read_until_quiet(fd: int, quiet: float, deadline: float, first: float = 0.0) -> tuple[bytes, float]:
    """Wait up to `first` seconds for output to start, then read until `quiet` seconds pass with
    no output. Returns the bytes and the time of the last byte."""
    data = b""
    last = time.perf_counter()
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([fd], [], [], quiet if data or not first else first)
        if not ready:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
        last = time.perf_counter()
    return data, last


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument("--quiet", type=float, default=150.0, help="ms of silence that ends the preview update")
    parser.add_argument("--store", default=None, help="reuse/build the store here (default: a cache in /tmp)")
    args = parser.parse_args()

    store = Path(args.store or Path(tempfile.gettempdir()) / f"cminbox-bench-{args.messages}")
    started = time.perf_counter()
    build_store(store, args.messages)
    print(f"store: {args.messages} messages in {store} (ready in {time.perf_counter() - started:.1f} s)")
    home = Path(tempfile.mkdtemp(prefix="cminbox-bench-home-"))
    config = home / "config.toml"
    config.write_text(
        '[[channels]]\nname = "bench"\ntype = "mastodon"\nurl = "http://127.0.0.1:9"\ninterval = 3600\n'
        '[ui]\nview = "5"\n'
    )
    env = {
        **os.environ,
        "CMINBOX_CONFIG": str(config),
        "CMINBOX_DATA_DIR": str(store),
        "HOME": str(home),
        "TERM": "xterm-256color",
        "COLUMNS": "120",
        "LINES": "40",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    env.pop("NO_COLOR", None)
    quiet = args.quiet / 1000

    t_launch = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(sys.executable, [sys.executable, "-m", "cminbox", "--no-mouse"], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    seen = b""
    t_rows = t_all = None
    full = f"{args.messages} items".encode()  # the view line once every segment is merged in
    while t_all is None:
        ready, _, _ = select.select([fd], [], [], 30)
        if not ready:
            raise SystemExit("the app did not show the whole inbox within 30 s")
        seen = seen[-4096:] + os.read(fd, 65536)
        if t_rows is None and b" items" in seen:
            t_rows = time.perf_counter()
            # Interactive = a keypress right now gets its frame.
            os.write(fd, b"j")
            _, t_first = read_until_quiet(fd, 0.003, time.perf_counter() + 10, first=5.0)
            interactive = t_first - t_launch
        if full in seen:
            t_all = time.perf_counter()
    read_until_quiet(fd, 0.5, time.perf_counter() + 5)  # let start-up work settle
    rss = _rss_mb(pid)

    cursor: list[float] = []
    settled: list[float] = []
    sizes: list[int] = []
    for i in range(args.keys):
        key = b"j" if i < args.keys * 3 // 4 else b"k"  # a long scan down the list, then back up
        t0 = time.perf_counter()
        os.write(fd, key)
        first, t_cursor = read_until_quiet(fd, 0.003, t0 + 5, first=1.0)  # the cursor lines
        rest, t_last = read_until_quiet(fd, quiet, t0 + 5)  # then the (debounced) preview
        cursor.append((t_cursor - t0) * 1000)
        settled.append(((t_last if rest else t_cursor) - t0) * 1000)
        sizes.append(len(first))
    os.write(fd, b"q")
    read_until_quiet(fd, 0.5, time.perf_counter() + 5)
    os.waitpid(pid, 0)

    slow = [(i, c, sizes[i]) for i, c in enumerate(cursor) if c > 16]
    print(f"keys over 16 ms:                {len(slow)} of {len(cursor)}")
    for i, c, size in slow:
        print(f"    key #{i}: {c:.1f} ms, {size} bytes")

    def stats(xs: list[float]) -> str:
        xs = sorted(xs)
        p95, p99 = xs[int(len(xs) * 0.95) - 1], xs[int(len(xs) * 0.99) - 1]
        return f"median {statistics.median(xs):.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, max {xs[-1]:.1f} ms"

    assert t_rows is not None and t_all is not None
    print(f"newest messages on screen:      {t_rows - t_launch:.2f} s after launch")
    print(f"interactive (first key drawn):  {interactive:.2f} s")
    print(f"all {args.messages} merged in:       {t_all - t_launch:.2f} s")
    print(f"key to cursor frame:            {stats(cursor)}  ({len(cursor)} keys)")
    print(f"key to preview settled:         {stats(settled)}  (preview waits for 60 ms of stillness)")
    print(f"bytes per cursor frame:         median {int(statistics.median(sizes))}")
    print(f"app RSS with everything loaded: {rss:.0f} MB")


if __name__ == "__main__":
    main()
