"""A stored message's extras as one string while it is in memory (the load path: core/indexes.py).

Extras (core/models.Message.extra) are a few short channel facts per message: mail's subject,
Message-ID, references and reply-to; GitHub's repository and number. As a dict each message's
took ~500 bytes at 100k mails (the dict ~270, its values ~230), a fifth of the store's memory
(issue #14); most are read once, when the item is replied to or opened. Kept as their keys
(one tuple per shape, shared) and their values joined in one string they take ~270.

A :class:`PackedExtras` is a read-only ``Mapping[str, str]`` equal to the dict it came from,
so everything that reads extras (``get``, ``[]``, ``in``, ``{**extra}``, ``items()``) is
unchanged. msgspec does not encode a Mapping that is not a dict: every encoder and
``to_builtins`` call that may see a stored message passes :func:`enc_hook`, which gives the
dict back (``tests/test_packed_extras.py`` checks that each one in cminbox does). A missed one
fails loudly with msgspec's "unsupported type", never by writing the extras out empty.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

_new = object.__new__
SEP = "\x00"  # never in a stored value (core/text.py keeps control characters out), checked anyway


class PackedExtras(Mapping[str, str]):
    __slots__ = ("_keys", "_values")
    _keys: tuple[str, ...]
    _values: str

    def __init__(self, keys: tuple[str, ...], values: str) -> None:
        self._keys = keys
        self._values = values

    def __getitem__(self, key: str) -> str:
        try:
            at = self._keys.index(key)
        except ValueError:
            raise KeyError(key) from None
        return self._values.split(SEP)[at] if len(self._keys) > 1 else self._values

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def unpacked(self) -> dict[str, str]:
        """The dict it came from (a new one)."""
        if len(self._keys) == 1:
            return {self._keys[0]: self._values}
        return dict(zip(self._keys, self._values.split(SEP), strict=True))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PackedExtras) and self._keys == other._keys:
            return self._values == other._values
        # As dicts compare: the same pairs in any order.
        return self.unpacked() == dict(other) if isinstance(other, Mapping) else NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal to a dict, which is unhashable

    def __repr__(self) -> str:
        return repr(self.unpacked())


class Packer:
    """Packs extras, one shared tuple of keys per shape (a channel's extras have one or two)."""

    def __init__(self) -> None:
        self._shapes: dict[tuple[str, ...], tuple[str, ...]] = {}

    def pack(self, extra: Mapping[str, str]) -> Mapping[str, str]:
        """``extra`` packed; as it is when empty, packed already, or a value holds :data:`SEP`."""
        if not extra or type(extra) is not dict:
            return extra
        values = SEP.join(extra.values())
        if values.count(SEP) != len(extra) - 1:
            return extra  # a separator inside a value: kept as a dict
        keys = tuple(extra)
        shape = self._shapes.get(keys)
        if shape is None:
            shape = self._shapes[keys] = keys
        # Made without calling __init__ (a Python frame each: ~20% of packing 100k mails).
        packed = _new(PackedExtras)
        packed._keys, packed._values = shape, values
        return packed


def enc_hook(obj: Any) -> Any:
    """msgspec's hook for what it cannot encode itself: packed extras are their dict."""
    if isinstance(obj, PackedExtras):
        return obj.unpacked()
    raise NotImplementedError(f"Objects of type {type(obj).__name__} are not supported")
