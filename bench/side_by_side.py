"""cminbox side by side with NeoMutt and aerc: open to usable, all loaded, RSS and `j` latency.

    .venv/bin/python bench/side_by_side.py [--sizes 10000,100000] [--rounds 3] [--keys 200]
        [--backend postgresql]   # cminbox on a throwaway PostgreSQL cluster (bench/sbs_pg.py)

The same seeded mails for every client (a Maildir for NeoMutt and aerc, the same files through
cminbox's email parser and `cminbox import` for cminbox; bench/sbs_data.py, cached under
~/.cache/cminbox-bench/), each client in a private tmux server at 120x40 (bench/sbs_tmux.py):
  open to usable  exec of the client until 30 list rows (a sender's name each) are on screen;
  all loaded      cminbox: until its view line stops saying "loading" and counts all N (counts exact);
  RSS             VmRSS when usable and 1 s after loading, VmHWM (peak) at the end of the run;
  `j`             send-keys j until the pane changes (the screen still for 30 ms before each press);
and a bare Textual app (one static widget, bench/sbs_bare_app.py) for the floor of a Textual
program: its first frame, and its `j` (one line changed).
Clients run interleaved, round by round, after one unmeasured open each (page cache warm, NeoMutt's
header cache built). The cminbox run is `.venv/bin/cminbox` of this checkout, or $CMINBOX_BIN:
for another build, a script `PYTHONPATH=<its worktree> exec .venv/bin/python -P -m cminbox "$@"`
(-P: the clients start in this checkout, and `-m` would otherwise import the checkout's cminbox
first; then only `--clients cminbox`, the bare app needs a python beside the script).
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.sbs_bare_app import MARK
from bench.sbs_data import CACHE, FIRST, LAST, cminbox_env, prepare
from bench.sbs_tmux import CONF, Pane, kill_server, proc_stats

CHECKOUT = Path(__file__).resolve().parent.parent
READY_ROWS = 30
ROW = re.compile(rf"\b(?:{'|'.join(FIRST)}) (?:{'|'.join(sorted({n[:3] for n in LAST}))})")
NAMES = {"cminbox": "cminbox", "neomutt": "NeoMutt", "aerc": "aerc", "bare": "bare Textual"}


@dataclass
class Client:
    argv: list[str]
    env: dict[str, str]
    quit: tuple[str, ...] = ("q",)
    top: str = "g"  # the key that selects the first row before the `j` presses
    usable: int = READY_ROWS  # list rows that make it usable (0: the bare app's mark)


@dataclass
class Run:
    client: str
    size: int
    usable: float | None = None
    loaded: float | None = None
    rss_usable: float | None = None
    rss_loaded: float | None = None
    peak: float | None = None
    keys: list[float] = field(default_factory=list)
    clean: bool = False
    items: str = ""


# --backend postgresql: cminbox's environment per size (bench/sbs_pg.py), else its TinyDB store.
STORE_ENV: dict[int, dict[str, str]] = {}


def client(name: str, size: int, root: Path, cminbox: Path) -> Client:
    home = root / f"home-{name}"
    home.mkdir(parents=True, exist_ok=True)
    base = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "XDG_CACHE_HOME": str(home / ".cache")}
    if name == "neomutt":
        rc = home / "muttrc"
        rc.write_text(
            f'set mbox_type=Maildir\nset folder="{root / "mail"}"\nset spoolfile="{root / "mail" / "INBOX"}"\n'
            f'set header_cache="{root / "neomutt-hcache"}/"\nset sort=reverse-date-received\n'
        )
        return Client(["neomutt", "-n", "-F", str(rc), "-f", str(root / "mail" / "INBOX")], base, top="=")
    if name == "aerc":
        cfg = home / ".config" / "aerc"
        cfg.mkdir(parents=True, exist_ok=True)
        (cfg / "aerc.conf").write_text("[ui]\n")
        accounts = cfg / "accounts.conf"
        accounts.write_text(
            f"[bench]\nsource = maildir://{root / 'mail'}\ndefault = INBOX\nfrom = Sam <community@example.org>\n"
        )
        accounts.chmod(0o600)
        return Client(["aerc"], {**base, "XDG_DATA_HOME": str(home / ".local" / "share")})
    if name == "cminbox":
        return Client([str(cminbox)], STORE_ENV.get(size) or cminbox_env(cminbox, home, root / "store"))
    bare = Path(__file__).resolve().parent / "sbs_bare_app.py"
    return Client([str(cminbox.parent / "python"), str(bare)], base, usable=0)


def is_usable(want: int) -> Callable[[list[str]], bool]:
    def check(screen: list[str]) -> bool:
        if want == 0:
            return any(MARK in line for line in screen)
        return sum(1 for line in screen if ROW.search(line)) >= want

    return check


def view_line(screen: list[str]) -> str | None:
    return next((line for line in screen if " items" in line and "sort:" in line), None)


def measure(conf: Path, name: str, size: int, root: Path, cminbox: Path, keys: int, timeout: float) -> Run:
    spec = client(name, size, root, cminbox)
    run = Run(name, size)
    pane = Pane(conf, f"sbs-{name}", spec.argv, spec.env)
    try:
        t0 = pane.go()
        deadline = t0 + timeout
        run.usable = pane.wait_for(is_usable(spec.usable), t0, deadline)
        run.rss_usable = proc_stats(pane.pid).get("VmRSS")
        if run.usable is None:
            return run
        if name == "cminbox":

            def loaded(screen: list[str]) -> bool:
                # Every imported mail is new and unanswered, so the default view holds all of them; the
                # count is checked too, because the view line can drop "loading" a frame before it is merged.
                line = view_line(screen)
                return line is not None and "loading" not in line and f" {size} items" in line

            run.loaded = pane.wait_for(loaded, t0, deadline)
            line = view_line(pane.screen()) or ""
            run.items = line.split(" items")[0].split()[-1] if " items" in line else "?"
        time.sleep(1.0)
        run.rss_loaded = proc_stats(pane.pid).get("VmRSS")
        if keys:
            pane.keys(spec.top)
            time.sleep(0.5)
            run.keys = pane.key_latency("j", keys, deadline)
        run.peak = proc_stats(pane.pid).get("VmHWM")
    finally:
        run.clean = pane.stop(spec.quit)
    return run


def warm(root: Path) -> None:
    """Read every file of the data set once, so every client starts from a warm page cache."""
    for folder in (root / "mail", root / "store"):
        for dirpath, _, files in os.walk(folder):
            for f in files:
                with open(os.path.join(dirpath, f), "rb") as fh:
                    while fh.read(1 << 20):
                        pass


def fmt_s(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s"


def fmt_mb(x: float | None) -> str:
    return "—" if x is None else f"{x:.0f} MB"


def median(xs: list[float | None]) -> float | None:
    got = [x for x in xs if x is not None]
    return statistics.median(got) if got else None


def p90(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(0.9 * len(xs)))]


def report(runs: list[Run], sizes: list[int], clients: list[str], rounds: int) -> None:
    verdicts: list[tuple[str, str, str, bool]] = []
    for size in sizes:
        by = {c: [r for r in runs if r.size == size and r.client == c] for c in clients}
        print(f"\n{size:,} messages, medians of {rounds} round(s)")
        print(f"  {'':<24}" + "".join(f"{NAMES[c]:>18}" for c in clients))

        def row(label: str, cells: list[str]) -> None:
            print(f"  {label:<24}" + "".join(f"{c:>18}" for c in cells))

        med = {c: median([r.usable for r in by[c]]) for c in clients}
        row("open to usable (1)", [fmt_s(med[c]) for c in clients])
        loaded = median([r.loaded for r in by.get("cminbox", [])])
        row("all loaded", [fmt_s(loaded) if c == "cminbox" else "—" for c in clients])
        row("RSS usable", [fmt_mb(median([r.rss_usable for r in by[c]])) for c in clients])
        rss = {c: median([r.rss_loaded for r in by[c]]) for c in clients}
        row("RSS after load +1 s", [fmt_mb(rss[c]) for c in clients])
        row("RSS peak", [fmt_mb(max((r.peak for r in by[c] if r.peak), default=None)) for c in clients])
        lat = {c: [k * 1000 for r in by[c] for k in r.keys] for c in clients}
        row("`j` median / p90", [f"{statistics.median(v):.1f} / {p90(v):.1f} ms" if v else "—" for v in lat.values()])
        row("`j` presses counted", [str(len(v)) for v in lat.values()])
        row("clean exits", [f"{sum(r.clean for r in by[c])}/{len(by[c])}" for c in clients])
        if "cminbox" in clients:
            seen = sorted({r.items for r in by["cminbox"]})
            row("items on view line", [",".join(seen) if c == "cminbox" else "" for c in clients])
        cm = med.get("cminbox")
        ratios = []
        for c in clients:
            other = med[c]
            if c != "cminbox" and cm and other:
                ratios.append(f"cminbox / {NAMES[c]} = {cm / other:.2f}x")
        print("  (1) the bare Textual app: its first frame")
        if ratios:
            print("  open to usable: " + "; ".join(ratios))
        if "cminbox" not in clients:
            continue
        k = f"{size // 1000}k" if size % 1000 == 0 else str(size)
        bare = med.get("bare")
        factor = 1.2 if size <= 10_000 else 1.3
        if cm and bare:
            ratio = cm / bare
            verdicts.append((f"{k}: open to usable ≤ {factor}x bare first frame", f"{ratio:.2f}x", "", ratio <= factor))
        if size >= 100_000:
            ok = loaded is not None and loaded <= 1.0
            verdicts.append((f"{k}: all loaded ≤ 1.0 s", fmt_s(loaded), "", ok))
        limit = {100_000: 180, 300_000: 450}.get(size)
        if limit:
            got_mb = rss.get("cminbox")
            ok = got_mb is not None and got_mb <= limit
            verdicts.append((f"{k}: RSS ≤ {limit} MB", fmt_mb(got_mb), "after load +1 s", ok))
        v = lat.get("cminbox") or []
        if v:
            ok = statistics.median(v) <= 3 and p90(v) <= 5
            floor = lat.get("bare") or []
            note = f"bare Textual app {statistics.median(floor):.1f} / {p90(floor):.1f} ms" if floor else ""
            verdicts.append(
                (f"{k}: `j` median ≤ 3 / p90 ≤ 5 ms", f"{statistics.median(v):.1f} / {p90(v):.1f} ms", note, ok)
            )
    if verdicts:
        print("\ncminbox against the targets of issue #14")
        for label, got, note, ok in verdicts:
            print(f"  {label:<42} {got:>14}  {'PASS' if ok else 'FAIL'}" + (f"  ({note})" if note else ""))


def version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return out.strip().splitlines()[0] if out.strip() else "?"


def machine(cminbox: Path) -> str:
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in ln),
        "?",
    )
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    rev = version(["git", "-C", str(CHECKOUT), "rev-parse", "--short", "HEAD"])
    return (
        f"machine: {os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}; "
        f"load average at start {load}\n"
        f"cminbox {version([str(cminbox), '--version'])} (checkout {rev}), {sys.executable.split('/')[-1]}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated message counts")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--keys", type=int, default=200, help="`j` presses per run")
    ap.add_argument("--clients", default="cminbox,neomutt,aerc,bare")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds one client run may take")
    ap.add_argument(
        "--backend",
        choices=("tinydb", "postgresql"),
        default="tinydb",
        help="cminbox's store: the data set's TinyDB folder, or a throwaway PostgreSQL cluster it is migrated into",
    )
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    cminbox = Path(os.environ.get("CMINBOX_BIN") or CHECKOUT / ".venv" / "bin" / "cminbox").absolute()
    if not cminbox.exists():
        raise SystemExit(f"{cminbox} does not exist: `make demo` installs it, or set CMINBOX_BIN")
    clients = []
    for name in args.clients.split(","):
        if name in ("neomutt", "aerc") and shutil.which(name) is None:
            print(f"{name} not installed: skipped")
        elif name in NAMES:
            clients.append(name)
    print(machine(cminbox))
    print(f"cminbox store: {args.backend}")
    # Every module's bytecode written first: with PYTHONDONTWRITEBYTECODE set (some shells and
    # CI images set it), a module changed since its last .pyc was compiled again on every run,
    # which timed the compiler, not the start-up (a worktree for $CMINBOX_BIN: compile it too).
    compileall.compile_dir(CHECKOUT / "cminbox", quiet=1)
    for name in ("neomutt", "aerc"):
        if name in clients:
            print(f"{name}: {version([name, '-v'])}")
    roots = {size: prepare(size, cminbox) for size in sizes}
    pg = None
    if args.backend == "postgresql":
        from bench.sbs_pg import PgStores

        pg = PgStores()
        for size in sizes:
            pg.add(size, roots[size], cminbox)
            STORE_ENV[size] = pg.envs[size]
    CACHE.mkdir(parents=True, exist_ok=True)
    conf = CACHE / "tmux.conf"
    conf.write_text(CONF)

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    runs: list[Run] = []
    try:
        for size in sizes:
            warm(roots[size])
            for name in clients:
                first = measure(conf, name, size, roots[size], cminbox, 0, args.timeout)
                print(f"primed {name} {size}: usable {fmt_s(first.usable)}", flush=True)
        for i in range(args.rounds):
            for size in sizes:
                for name in clients:
                    run = measure(conf, name, size, roots[size], cminbox, args.keys, args.timeout)
                    runs.append(run)
                    lat = f", `j` median {statistics.median(run.keys) * 1000:.1f} ms" if run.keys else ""
                    print(
                        f"round {i + 1} {name} {size}: usable {fmt_s(run.usable)}, loaded {fmt_s(run.loaded)}, "
                        f"RSS {fmt_mb(run.rss_loaded)}{lat}",
                        flush=True,
                    )
    finally:
        kill_server(conf)
        if pg is not None:
            pg.close()
    report(runs, sizes, clients, args.rounds)


if __name__ == "__main__":
    main()
