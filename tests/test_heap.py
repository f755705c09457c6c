"""Handing freed memory back to the OS after a full load (core/heap.py, issue #14)."""

from __future__ import annotations

import ctypes
import platform

import pytest

from cminbox.core import heap


def test_glibc_trims_its_heaps() -> None:
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("malloc_trim is glibc's")  # this project's CI runs on glibc: never skipped there
    assert heap.release_freed_memory() is True


def test_a_c_library_without_malloc_trim_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoTrim:  # macOS's or musl's C library: no such symbol
        def __getattr__(self, name: str) -> object:
            raise AttributeError(name)

    monkeypatch.setattr(ctypes, "CDLL", lambda _name: NoTrim())
    assert heap.release_freed_memory() is False
