"""One TinyDB file, written crash-safely and shared safely between processes.

TinyDB's stock JSONStorage rewrites its file in place (a kill mid-write leaves a
spliced, unloadable file) and re-reads the whole file for every query. This storage
instead keeps the decoded data in memory, writes a complete new file next to the old
one (fsync), swaps it in with ``os.replace`` and fsyncs the folder, and notices when
another process has swapped in a newer file (inode/mtime/size signature).
"""

from __future__ import annotations

import gzip
import os
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

import msgspec
from tinydb import TinyDB
from tinydb.storages import Storage

from cminbox.core.errors import CminboxError, from_os_error
from cminbox.core.packed_extras import enc_hook
from cminbox.core.random_ids import token_hex

TMP_SUFFIX = ".tmp"
_encoder = msgspec.json.Encoder(enc_hook=enc_hook)
Signature = tuple[int, int, int] | None
Doc = TypeVar("Doc")


class CorruptFileError(CminboxError):
    """A store file that cannot be loaded. Carries the path so the message can name it."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"{path} cannot be loaded ({reason}).",
            "It is skipped and nothing has been overwritten. "
            "`cminbox doctor --repair` keeps the documents that still fit (the original is backed up).",
        )
        self.path = path
        self.reason = reason


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_deferred = threading.local()


@contextmanager
def one_folder_sync() -> Iterator[None]:
    """Writes inside (on this thread) fsync each folder once, at the end, instead of after
    every file: a step that rewrites the 16 triage shards (rules acting on new items) pays one
    folder flush, not 16. The files themselves are fsynced as always, and the folder before the
    block returns, so what the caller writes next (the message parts) is durable after them."""
    if getattr(_deferred, "folders", None) is not None:
        yield  # nested: the outer block syncs
        return
    folders: set[Path] = set()
    _deferred.folders = folders
    try:
        yield
    finally:
        _deferred.folders = None
        for folder in sorted(folders):
            fsync_dir(folder)


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a mix.

    This is the store's single write point: an ``OSError`` here (a read-only folder, a full
    disk) becomes a :class:`~cminbox.core.errors.FileAccessError` naming the file, and the
    half-written temp file is removed (the old file is untouched)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{token_hex(4)}{TMP_SUFFIX}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise from_os_error(exc, path) from exc
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise from_os_error(exc, path) from exc
        raise
    if durable:
        deferred: set[Path] | None = getattr(_deferred, "folders", None)
        if deferred is not None:
            deferred.add(path.parent)
        else:
            fsync_dir(path.parent)


def file_signature(path: Path) -> Signature:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def remove_stale_temp_files(folder: Path) -> int:
    """Delete temp files left by a writer that died before its rename. Returns how many."""
    removed = 0
    if folder.is_dir():
        for tmp in folder.glob(f".*{TMP_SUFFIX}"):
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed


class AtomicJSONStorage(Storage):
    """``doc_type``: decode documents straight into that msgspec Struct instead of dicts.
    At 100k messages that halves load time and saves ~50 MB, and a hand-edited document
    that does not fit is reported with its path in the file (``$.messages["12"].author``)."""

    def __init__(
        self,
        path: str | Path,
        durable: bool = True,
        doc_type: type | None = None,
        compressed: bool = False,
        reuse_encoding: bool = False,
    ) -> None:
        self.path = Path(path)
        self.durable = durable
        self.compressed = compressed  # gzip: archive segments, written rarely, kept for years
        self.doc_type: Any = doc_type or dict[str, Any]
        self._decoder = msgspec.json.Decoder(dict[str, dict[str, self.doc_type]])  # type: ignore[name-defined]
        self._data: dict[str, dict[str, Any]] | None = None
        self._sig: Signature = None
        # ``reuse_encoding`` (the triage shards: few files, rewritten by every action): frozen
        # documents never change once made, so the JSON of one written before is still its JSON,
        # and a write re-encodes only the documents that are new objects (:meth:`_encode`). The
        # pieces stay in memory as long as the file is this process's: not for files that fill
        # up and are never written again (message and event parts). Dicts change in place.
        config = getattr(doc_type, "__struct_config__", None)
        self._reuse = reuse_encoding and config is not None and bool(config.frozen) and not compressed
        self._pieces: dict[str, dict[str, tuple[object, bytes]]] = {}  # table → doc id → (doc, its JSON)

    def read(self) -> dict[str, dict[str, Any]]:
        if self._data is None:
            self._load()
        assert self._data is not None
        return self._data

    def _load(self) -> None:
        sig = file_signature(self.path)
        if sig is None:
            self._data, self._sig = {}, None
            return
        raw = self.path.read_bytes()
        if self.compressed:
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError, zlib.error) as exc:
                raise CorruptFileError(self.path, f"not a whole gzip file: {exc}") from None
        if not raw.strip():
            raise CorruptFileError(self.path, "the file is empty")
        try:
            data = self._decoder.decode(raw)
        except msgspec.ValidationError as exc:
            raise CorruptFileError(self.path, self._which_document(raw, exc)) from None
        except msgspec.DecodeError as exc:
            raise CorruptFileError(self.path, f"not valid TinyDB JSON: {exc}") from None
        self._data = data
        # Stat before reading would race a concurrent replace; re-stat and trust only a stable file.
        self._sig = sig if file_signature(self.path) == sig else None

    def _which_document(self, raw: bytes, exc: msgspec.ValidationError) -> str:
        """msgspec's path elides dict keys (`$[...][...].tags`): find the document by decoding
        the file untyped and checking each one, so the message can name it."""
        try:
            tables = msgspec.json.decode(raw)
            for table, docs in tables.items():
                for doc_id, doc in docs.items():
                    try:
                        msgspec.convert(doc, self.doc_type)
                    except msgspec.ValidationError as inner:
                        where = str(inner).rpartition(" - at `$")
                        field = f" (field {where[2].rstrip('`').lstrip('.')})" if where[1] else ""
                        ident = f", id {doc.get('id')!r}" if isinstance(doc, dict) else ""
                        return f'document "{doc_id}" in table "{table}"{ident} does not fit{field}: {where[0] or inner}'
        except (msgspec.DecodeError, AttributeError, TypeError):
            pass
        return f"a document does not fit: {exc}"

    def _encode(self, data: dict[str, dict[str, Any]]) -> bytes:
        """The file's JSON, byte for byte what encoding ``data`` whole gives, from the pieces of
        earlier writes where a document is the same object (a shard's write re-encoded all of
        its ~1,000 states for the one or two that changed: half of what a shard write cost)."""
        if not self._reuse:
            return _encoder.encode(data)
        encode = _encoder.encode
        tables = []
        for table, docs in data.items():
            known = self._pieces.setdefault(table, {})
            parts = []
            for key, doc in docs.items():
                piece = known.get(key)
                if piece is None or piece[0] is not doc or type(doc) is dict:
                    piece = known[key] = (doc, encode(key) + b":" + encode(doc))
                parts.append(piece[1])
            if len(known) > len(docs):  # documents removed: their pieces go too
                for key in known.keys() - docs.keys():
                    del known[key]
            tables.append(encode(table) + b":{" + b",".join(parts) + b"}")
        return b"{" + b",".join(tables) + b"}"

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        try:
            body = self._encode(data)
            atomic_write_bytes(self.path, gzip.compress(body, 6) if self.compressed else body, durable=self.durable)
        except BaseException:
            self._data = None  # TinyDB mutated our cached dict before writing: drop it
            self._pieces = {}
            raise
        self._data = data
        self._sig = file_signature(self.path)

    def changed_on_disk(self) -> bool:
        return self._data is None or file_signature(self.path) != self._sig

    def invalidate(self) -> None:
        self._data = None
        self._pieces = {}

    def close(self) -> None:
        pass


class Segment(Generic[Doc]):
    """A TinyDB database in one file with one table, plus reload-on-change.

    Callers hold the store's lock around read-modify-write; :meth:`refresh` must be
    called under that lock before writing so a write never resurrects stale data.
    With ``doc_type`` the documents are Structs in memory; TinyDB's table code only ever
    sees dicts for the documents it is inserting or updating (converted back after the write).
    A file that cannot be loaded marks the segment ``broken``: reads see it empty, writes
    refuse, and nothing overwrites the file until the user repairs it.
    """

    def __init__(
        self,
        path: Path,
        table: str = "docs",
        *,
        durable: bool = True,
        doc_type: type[Doc] | None = None,
        compressed: bool = False,
        reuse_encoding: bool = False,
    ):
        self.path = path
        self.db = TinyDB(
            path,
            storage=AtomicJSONStorage,
            durable=durable,
            doc_type=doc_type,
            compressed=compressed,
            reuse_encoding=reuse_encoding,
        )
        self.storage = cast(AtomicJSONStorage, self.db.storage)
        self.table = self.db.table(table)
        self.name = table
        self.doc_type = doc_type
        self.broken: CorruptFileError | None = None

    def refresh(self) -> bool:
        """Reload if another process replaced the file. Returns True if it reloaded.
        Raises CorruptFileError (and stays ``broken``) if the file cannot be loaded."""
        if not self.storage.changed_on_disk():
            return False
        self.storage.invalidate()
        # TinyDB caches query results and its next document id per table instance; a stale
        # next id made a second process fail inserts with "Document with ID 3 already exists".
        self.table.clear_cache()
        self.table._next_id = None
        try:
            self.storage.read()
        except CorruptFileError as exc:
            self.broken = exc
            raise
        self.broken = None
        return True

    def reset(self) -> None:
        """Replace the file with an empty table (for throwaway data that can be rebuilt)."""
        self.storage.write({self.name: {}})
        self.table.clear_cache()
        self.table._next_id = None
        self.broken = None

    def raw(self) -> dict[str, Doc]:
        if self.broken is not None:
            return {}
        return cast("dict[str, Doc]", self.storage.read().get(self.name, {}))

    def __len__(self) -> int:
        return len(self.raw())

    def items(self) -> Iterator[tuple[int, Doc]]:
        for key, doc in self.raw().items():
            yield int(key), doc

    def get(self, doc_id: int) -> Doc | None:
        return self.raw().get(str(doc_id))

    def _writable(self) -> None:
        if self.broken is not None:
            raise self.broken

    def insert_many(self, docs: list[Doc]) -> list[int]:
        return self.write_many({}, docs, []) if docs else []

    def replace_many(self, docs_by_id: dict[int, Doc]) -> None:
        """Replace several whole documents with one file write."""
        if docs_by_id:
            self.write_many(docs_by_id, [], [])

    def write_many(self, updates: dict[int, Doc], inserts: list[Doc], removes: list[int]) -> list[int]:
        """Replace, insert and remove documents with one file write (so a kill leaves all of
        it or none). Returns the inserted doc ids (never one used before: counted from the
        highest id before the removals, as TinyDB does).

        The table is changed here rather than through TinyDB's ``_update_table``, which turns
        the whole table into an int-keyed dict and back for every write: at a triage shard's
        ~600 states that was a third of a rule's cost at ingest (bench/rules.py). The documents
        stay as they are held (Structs with ``doc_type``): the storage encodes them, reusing
        the pieces of unchanged ones. A new dict is written, so a failed write leaves the
        cached one as it was (the storage then drops its cache and reads the file again)."""
        self._writable()
        data = self.storage.read()
        table = dict(data.get(self.name, {}))
        next_id: int | None = self.table._next_id
        if next_id is None:
            next_id = max(map(int, table), default=0) + 1
        for doc_id in removes:
            table.pop(str(doc_id), None)
        for doc_id, doc in updates.items():
            table[str(doc_id)] = doc
        new_ids: list[int] = []
        for doc in inserts:
            table[str(next_id)] = doc
            new_ids.append(next_id)
            next_id += 1
        try:
            self.storage.write({**data, self.name: table})
        finally:
            self.table.clear_cache()
            self.table._next_id = None
        self.table._next_id = next_id  # type: ignore[assignment]  # TinyDB declares it None only
        return new_ids

    def remove_many(self, doc_ids: list[int]) -> None:
        if doc_ids:
            self._writable()
            self.table.remove(doc_ids=doc_ids)
