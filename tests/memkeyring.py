"""An in-memory keyring backend: tests never touch the user's real keyring."""

from __future__ import annotations

from keyring.backend import KeyringBackend


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.data.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.data[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.data.pop((service, username), None)


class SharedTestKeyring(KeyringBackend):
    """Stands in for the OS keyring across processes in CLI tests: a JSON file at
    $CMINBOX_TEST_KEYRING (a test's temp dir), so a test can check what was stored."""

    priority = 1  # type: ignore[assignment]

    def _load(self) -> dict[str, dict[str, str]]:
        import json
        import os
        from pathlib import Path

        path = Path(os.environ["CMINBOX_TEST_KEYRING"])
        return json.loads(path.read_text()) if path.exists() else {}

    def _save(self, data: dict[str, dict[str, str]]) -> None:
        import json
        import os
        from pathlib import Path

        Path(os.environ["CMINBOX_TEST_KEYRING"]).write_text(json.dumps(data))

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data.setdefault(service, {})[username] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        data.get(service, {}).pop(username, None)
        self._save(data)
