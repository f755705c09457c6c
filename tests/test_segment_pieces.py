"""A write re-encodes only the documents that are new objects: the file is byte for byte what
encoding the whole table gives, through inserts, replacements, removals and a reload."""

from __future__ import annotations

from pathlib import Path

import msgspec

from cminbox.core.models import TriageState
from cminbox.core.segment import Segment


def whole(seg: Segment[TriageState]) -> bytes:
    return msgspec.json.encode({seg.name: {str(k): v for k, v in seg.items()}})


def test_pieces_give_the_same_bytes_as_encoding_the_whole(tmp_path: Path) -> None:
    path = tmp_path / "shard.json"
    seg: Segment[TriageState] = Segment(path, "triage", doc_type=TriageState, reuse_encoding=True)
    ids = seg.insert_many([TriageState(id=f"m:{n}", tags=("a",)) for n in range(50)])
    assert path.read_bytes() == whole(seg)
    seg.replace_many({ids[3]: TriageState(id="m:3", tags=("b",), rev=2)})
    seg.insert_many([TriageState(id="m:new")])
    seg.remove_many(ids[10:20])
    assert path.read_bytes() == whole(seg)
    seg.write_many({ids[4]: TriageState(id="m:4", rev=9)}, [TriageState(id="m:x")], [ids[5]])
    assert path.read_bytes() == whole(seg) and len(seg) == 41
    # Another process writes the file: this one reloads it, and its pieces start over.
    again: Segment[TriageState] = Segment(path, "triage", doc_type=TriageState, reuse_encoding=True)
    again.insert_many([TriageState(id="m:y")])
    seg.refresh()
    seg.replace_many({ids[0]: TriageState(id="m:0", tags=("z",))})
    assert path.read_bytes() == whole(seg) and seg.get(ids[0]) == TriageState(id="m:0", tags=("z",))
    assert {s.id for _, s in seg.items()} >= {"m:y", "m:x", "m:new"}
    assert msgspec.json.decode(path.read_bytes())["triage"][str(ids[0])]["tags"] == ["z"]
