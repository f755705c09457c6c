"""export, import, archive: backup, migration and retention of the store."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from cminbox.commands.arg_types import DAYS
from cminbox.commands.context import Context, UsageError
from cminbox.commands.render import dumps
from cminbox.core.portable import (
    ImportError_,
    Line,
    Record,
    everything,
    import_records,
    records,
    write_csv,
    write_jsonl,
)


def cmd_export(ctx: Context, args: argparse.Namespace) -> int:
    if args.all and args.format == "csv":
        raise UsageError("--all writes the whole store (outbox, drafts, cursors, events): JSONL only")
    items: Iterable[Record | Line] = everything(ctx.store) if args.all else records(ctx.store, archived=args.archived)
    if args.format == "csv":
        if args.output:
            with _output(Path(args.output), text=True) as handle:
                count = write_csv(records(ctx.store, archived=args.archived), handle)
        else:
            count = write_csv(records(ctx.store, archived=args.archived), sys.stdout)
    elif args.output:
        with _output(Path(args.output), text=False) as out:
            count = write_jsonl(items, out)
    else:
        count = write_jsonl(items, sys.stdout.buffer)
        sys.stdout.flush()
    print(
        f"exported {count} {'line' if args.all else 'item'}(s)" + (f" to {args.output}" if args.output else ""),
        file=sys.stderr,
    )
    return 0


def _open(target: Path | int, *, text: bool) -> IO[Any]:
    """A file or descriptor opened for the export: text as CSV wants it (newlines as written), or bytes."""
    return open(target, "w", encoding="utf-8", newline="") if text else open(target, "wb")


@contextlib.contextmanager
def _output(path: Path, *, text: bool) -> Iterator[IO[Any]]:
    """The export's file, written whole or not at all: into a temporary file beside it, renamed
    over ``path`` once every line is out (a full disk or a ^C leaves an older export as it was,
    not half of a new one). A path that cannot be written is the ``-o`` argument's error, named
    as such: a missing folder was an "internal error", and a folder given as the file was blamed
    on the data folder (new-user trial of 2026-12-01)."""
    if path.is_dir():
        raise UsageError(
            f"-o {path}: that is a folder; give the path of the file to write, e.g. {path / 'export.jsonl'}"
        )
    if path.exists() and not path.is_file():  # a pipe or a device (/dev/stdout): written as it is
        try:
            with _open(path, text=text) as handle:
                yield handle
        except OSError as exc:
            raise UsageError(f"-o {path}: cannot write it ({exc.strerror or exc})") from None
        return
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"-o {path}: the folder {folder} does not exist (create it first, or write elsewhere)")
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise UsageError(f"-o {path}: cannot write in {folder} ({exc.strerror or exc})") from None
    try:
        with _open(fd, text=text) as handle:
            yield handle
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise UsageError(f"-o {path}: cannot write it ({exc.strerror or exc}); nothing was exported") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def cmd_import(ctx: Context, args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.exists():
        raise UsageError(f"{path} does not exist")
    if not path.is_file():  # (a folder was blamed on the data folder: review of 2026-12-01)
        raise UsageError(f"{path} is not a file: give the JSONL file `cminbox export` wrote")
    if path.suffix == ".csv":
        raise UsageError(f"{path}: CSV exports are for spreadsheets and lose data; import a JSONL export instead")
    try:
        report = import_records(ctx.store, path)
    except ImportError_ as exc:
        raise UsageError(f"{exc} (nothing was imported)") from None
    print(
        f"read {report.read} item(s): {report.new_messages} new message(s), "
        f"{report.triage_written} triage record(s) written (newer ones in the store were kept)"
    )
    if report.events or report.outbox or report.drafts or report.cursors or report.people:
        print(
            f"also: {report.events} event(s), {report.outbox} outbox item(s) added or marked sent, "
            f"{report.drafts} draft(s), {report.cursors} cursor(s), {report.people} person record(s)"
        )
    if report.events_skipped:
        print(
            f"the file's {report.events_skipped} event(s) were not imported: this store has an event log of its own "
            "(import into an empty store to copy it)"
        )
    return 0


def cmd_archive(ctx: Context, args: argparse.Namespace) -> int:
    store = ctx.store
    if args.restore:
        wanted = [part.strip() for part in args.restore.split(",") if part.strip()]
        known = {a.id for a in store.archived()}
        full = [next((k for k in known if k == w or k.endswith(":" + w)), w) for w in wanted]
        missing = [w for w, f in zip(wanted, full, strict=True) if f not in known]
        if missing:
            raise UsageError(f"not in the archive: {', '.join(missing)} (`cminbox archive --list` shows it)")
        print(f"restored: {', '.join(store.restore(full))}")
        return 0
    if args.list:
        items = store.archived()
        if args.json:
            print(
                dumps(
                    [
                        {"id": a.id, "archived_at": a.archived_at.isoformat(), "status": str(a.triage.status)}
                        for a in items
                    ]
                )
            )
        else:
            for a in items:
                print(f"{a.id:<28} {a.message.created_at:%Y-%m-%d}  archived {a.archived_at:%Y-%m-%d}")
            print(f"{len(items)} archived item(s)")
        return 0
    if args.older_than is not None and args.older_than < 0:
        raise UsageError(f"--older-than {args.older_than}: give a number of days, 0 or more")
    days = args.older_than if args.older_than is not None else ctx.config.store.archive_after_days
    if days <= 0 and args.older_than is None:
        print(
            f"archiving is off (`archive_after_days = {days}` in [store] of {ctx.config.path}); "
            "pass --older-than DAYS to run it once"
        )
        return 0
    # --older-than 0, given explicitly, means what it says: every done item, now.
    moved = store.archive(timedelta(days=days), dry_run=args.dry_run)
    verb = "would archive" if args.dry_run else "archived"
    since = "(--older-than 0: every done item)" if days == 0 else f"with no activity for {days} days"
    print(f"{verb} {len(moved)} done item(s) {since}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("export", help="write every item (and its triage state) as JSON Lines or CSV")
    p.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
    p.add_argument("--archived", action="store_true", help="include archived items")
    p.add_argument(
        "--all", action="store_true", help="the whole store: items, archive, outbox, drafts, cursors, events (JSONL)"
    )
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("import", help="read a JSONL export into this store (merges; never loses newer state)")
    p.add_argument("file")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("archive", help="move old done items to compressed archive files; list or restore them")
    p.add_argument("--older-than", type=DAYS, metavar="DAYS", help="default: [store] archive_after_days (90)")
    p.add_argument("--dry-run", action="store_true", help="only count what would move")
    p.add_argument("--list", action="store_true", help="list archived items")
    p.add_argument("--json", action="store_true", help="with --list: JSON output")
    p.add_argument("--restore", metavar="IDS", help="bring archived items back (comma-separated ids)")
    p.set_defaults(func=cmd_archive)
