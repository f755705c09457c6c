"""The messages of the side-by-side benchmark: one seeded Maildir, and the same mails in a cminbox store.

The Maildir (``INBOX/cur``, every file already seen so no client renames anything on open) is what
NeoMutt and aerc read; the store is built by putting every file through cminbox's own email parser
(``cminbox.channels.mail_parse.parse_mail``, what the IMAP channel stores) and ``cminbox import``.
Both are cached under ``~/.cache/cminbox-bench/sbs-N/``: the same N always gives the same bytes.
"""

from __future__ import annotations

import email.utils
import os
import random
import subprocess
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

CACHE = Path(os.environ.get("CMINBOX_BENCH_CACHE", Path.home() / ".cache" / "cminbox-bench"))
SEED = 1414
FIRST = [
    "Ada",
    "Bruno",
    "Chiara",
    "Dmitri",
    "Esther",
    "Fatima",
    "Gustav",
    "Hana",
    "Ivo",
    "Jana",
    "Kemal",
    "Lucia",
    "Mateo",
    "Nadia",
    "Oskar",
    "Pia",
    "Ravi",
    "Selin",
    "Teo",
    "Ursula",
    "Valentin",
    "Wanda",
    "Yara",
    "Zeno",
]
LAST = [
    "Abbott",
    "Bauer",
    "Castillo",
    "Dvorak",
    "Eriksen",
    "Ferreira",
    "Gallo",
    "Horvat",
    "Ibarra",
    "Jovanovic",
    "Kaplan",
    "Lindqvist",
    "Mendes",
    "Nakamura",
    "Oyelaran",
    "Petrov",
    "Quispe",
    "Romano",
    "Sato",
    "Thorsen",
    "Vasquez",
    "Wolff",
]
DOMAINS = ["example.com", "example.org", "example.net", "forum.example", "lists.example"]
TOPICS = [
    "sync conflict",
    "export to CSV",
    "login loop",
    "dark mode",
    "pricing page",
    "beta invite",
    "crash on start",
    "slow search",
    "Android widget",
    "backup restore",
    "team plan",
    "markdown tables",
    "share links",
    "API limits",
]
OPENERS = ["Question:", "Bug:", "Idea:", "Thanks for", "Problem with", "Help with", "Feedback on"]
WORDS = [
    "the",
    "a",
    "to",
    "of",
    "and",
    "in",
    "for",
    "on",
    "with",
    "that",
    "this",
    "it",
    "we",
    "can",
    "could",
    "would",
    "please",
    "thanks",
    "app",
    "sync",
    "export",
    "tags",
    "search",
    "release",
    "beta",
    "team",
    "notes",
    "today",
    "tomorrow",
    "still",
    "again",
    "since",
    "update",
    "version",
    "phone",
    "laptop",
    "account",
    "settings",
    "works",
    "broken",
    "fixed",
    "slow",
    "fast",
    "maybe",
    "really",
    "also",
    "just",
    "error",
    "message",
    "screen",
]
START = datetime(2023, 11, 1, tzinfo=UTC).timestamp()
SPAN = 3 * 365 * 86400
ME = "Sam Community <community@example.org>"


def _sentence(rng: random.Random) -> str:
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(7, 13)))
    return (words[0].upper() + words[1:] + rng.choice(".?!."))[:76]


def write_maildir(n: int, inbox: Path) -> None:
    """``n`` plain-text mails of ~1 KB in ``inbox/cur``, ~30 % of them replies in a thread."""
    rng = random.Random(SEED * 1_000_003 + n)
    for sub in ("cur", "new", "tmp"):
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    people = [(f"{rng.choice(FIRST)} {rng.choice(LAST)}", f"user{i}@{rng.choice(DOMAINS)}") for i in range(400)]
    sent: list[tuple[str, str, str]] = []  # (Message-ID, subject, References)
    t = START
    for i in range(n):
        t += rng.expovariate(n / SPAN)
        name, address = rng.choice(people)
        headers = [
            f"Return-Path: <{address}>",
            f"Received: from mx.{address.split('@')[1]} by mail.example.org; {email.utils.formatdate(t)}",
            f"From: {name} <{address}>",
            f"To: {ME}",
        ]
        if sent and rng.random() < 0.3:
            parent_id, subject, refs = sent[-1 - rng.randrange(min(200, len(sent)))]
            subject = subject if subject.startswith("Re: ") else "Re: " + subject
            refs = " ".join([*refs.split(), parent_id][-8:])
            thread = [f"In-Reply-To: {parent_id}", f"References: {refs}"]
        else:
            subject, refs, thread = f"{rng.choice(OPENERS)} {rng.choice(TOPICS)}", "", []
        msgid = f"<{int(t):x}.{i:07d}@{address.split('@')[1]}>"
        headers += [f"Subject: {subject}", f"Date: {email.utils.formatdate(t - rng.randint(1, 90))}"]
        headers += [f"Message-ID: {msgid}", *thread, "MIME-Version: 1.0"]
        headers += ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 7bit"]
        body = [_sentence(rng) for _ in range(rng.randint(3, 7))] + ["", "-- ", name.split()[0]]
        sent.append((msgid, subject, refs))
        path = inbox / "cur" / f"{int(t)}.{i:07d}.sbs:2,S"
        path.write_bytes(("\n".join(headers) + "\n\n" + "\n".join(body) + "\n").encode())
        os.utime(path, (t, t))


def _parse_chunk(args: tuple[str, list[tuple[int, str]]]) -> list[bytes]:
    """One chunk of mail files -> JSONL lines of cminbox export records (runs in a worker process)."""
    from cminbox.channels.mail_parse import parse_mail
    from cminbox.core.portable import Record, write_jsonl

    class _Lines(list[bytes]):
        def write(self, data: bytes) -> None:
            self.append(data)

    cur, chunk = args
    out = _Lines()
    for uid, name in chunk:
        path = Path(cur) / name
        when = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        msg = parse_mail(path.read_bytes(), channel="mail", uidvalidity=1, uid=uid, fallback_time=when)
        write_jsonl([Record(message=msg)], out)  # type: ignore[arg-type]
    return list(out)


def write_import_file(cur: Path, out: Path, jobs: int = 2) -> None:
    names = sorted(os.listdir(cur))
    items = list(enumerate(names, start=1))
    chunks = [(str(cur), items[i : i + 2000]) for i in range(0, len(items), 2000)]
    with ProcessPoolExecutor(jobs) as pool, out.open("wb") as f:
        for lines in pool.map(_parse_chunk, chunks):
            f.writelines(lines)


def cminbox_env(cminbox: Path, home: Path, store: Path) -> dict[str, str]:
    """The environment cminbox runs in: a config whose one channel never reaches anything."""
    config = home / "config.toml"
    if not config.exists():
        home.mkdir(parents=True, exist_ok=True)
        config.write_text(
            '[[channels]]\nname = "bench"\ntype = "mastodon"\nurl = "http://127.0.0.1:9"\ninterval = 3600\n'
        )
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "CMINBOX_CONFIG": str(config),
        "CMINBOX_DATA_DIR": str(store),
    }


def prepare(n: int, cminbox: Path, log: bool = True) -> Path:
    """Build (once) ``sbs-N/`` with ``mail/INBOX`` and ``store/``; return the folder."""
    root = CACHE / f"sbs-{n}"
    done = root / ".complete"
    if done.exists():
        return root
    started = datetime.now()
    if log:
        print(f"building the {n}-message data set in {root} (once; later runs reuse it)", flush=True)
    for path in (root / "mail", root / "store", root / "import.jsonl"):
        subprocess.run(["rm", "-rf", str(path)], check=True)
    root.mkdir(parents=True, exist_ok=True)
    inbox = root / "mail" / "INBOX"
    write_maildir(n, inbox)
    jsonl = root / "import.jsonl"
    write_import_file(inbox / "cur", jsonl)
    env = {**os.environ, **cminbox_env(cminbox, root / "home-import", root / "store")}
    subprocess.run([str(cminbox), "import", str(jsonl)], env=env, check=True, stdout=subprocess.DEVNULL)
    jsonl.unlink()
    done.touch()
    if log:
        print(f"  built in {(datetime.now() - started).total_seconds():.0f} s", flush=True)
    return root
