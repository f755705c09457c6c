"""Each backend is a StoreApi (mypy checks the TinyDB store's fit in core/wiring.py; this is
the runtime side, for backends registered in tests/backend/conftest.py)."""

from __future__ import annotations

from cminbox.core.store_api import StoreApi
from tests.backend.conftest import Backend


def test_the_backend_is_a_store_api_and_declares_its_capabilities(backend: Backend) -> None:
    store = backend.open()
    assert isinstance(store, StoreApi)
    loader = store.progressive
    assert loader is None or loader.fully_loaded in (True, False)
    assert dict(store.problems) == {} and store.migrated == []
    store.close()
    store.close()  # idempotent
