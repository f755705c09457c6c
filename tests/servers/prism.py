"""Prism (OpenAPI mock and request validator) with GitHub's and Discourse's official descriptions.

GitHub's description is 13 MB; Prism starts in ~10 s on it but ~2 s on the paths the
adapter uses, so it is trimmed here (each kept operation with every component it refers
to, transitively). A request the description does not allow gets a 4xx from Prism with
the reason in the ``sl-violations`` header; the tests fail on any of those.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers.fixtures import SERVERS, SPECS, _free_port, _missing, _start, _stop

GITHUB_SPEC = SERVERS / "node" / "node_modules" / "@octokit" / "openapi" / "generated" / "api.github.com.json"
GITHUB_OPERATIONS = {
    "/user": ["get"],
    "/notifications": ["get"],
    "/notifications/threads/{thread_id}": ["patch"],
    "/repos/{owner}/{repo}/issues": ["get"],
    "/repos/{owner}/{repo}/issues/comments": ["get"],
    "/repos/{owner}/{repo}/issues/comments/{comment_id}": ["get"],
    "/repos/{owner}/{repo}/issues/{issue_number}": ["get"],
    "/repos/{owner}/{repo}/issues/{issue_number}/comments": ["get", "post"],
    "/repos/{owner}/{repo}/issues/{issue_number}/lock": ["put", "delete"],
}


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            found.add(ref)
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def trim_spec(spec: dict[str, Any], operations: dict[str, list[str]]) -> dict[str, Any]:
    """The description with only ``operations`` and the components they reach."""
    paths = {p: {m: spec["paths"][p][m] for m in methods} for p, methods in operations.items()}
    wanted: set[str] = set()
    _refs(paths, wanted)
    done: set[str] = set()
    while wanted - done:
        ref = (wanted - done).pop()
        done.add(ref)
        _, _, section, name = ref.split("/", 3)
        _refs(spec["components"][section][name], wanted)
    components: dict[str, dict[str, Any]] = {}
    for ref in done:
        _, _, section, name = ref.split("/", 3)
        components.setdefault(section, {})[name] = spec["components"][section][name]
    return {k: v for k, v in spec.items() if k not in ("paths", "components") and not k.endswith("webhooks")} | {
        "paths": paths,
        "components": components,
    }


def _prism(tmp: Path, spec: Path, probe: str) -> Iterator[str]:
    prism = SERVERS / "node" / "node_modules" / ".bin" / "prism"
    if not prism.exists():
        _missing("Prism", "run `make test` (or tests/servers/install.sh; needs npm) to install it")
    port = _free_port()
    proc = _start(
        [str(prism), "mock", "-h", "127.0.0.1", "-p", str(port), str(spec)],
        f"http://127.0.0.1:{port}{probe}",
        tmp / "prism.log",
        timeout=120,
        env={"SCARF_ANALYTICS": "false"},
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)


def _patched_mastodon_spec(dest: Path) -> Path:
    """The Mastodon description declares the Idempotency-Key header as an object, which
    crashes Prism; it is a string in Mastodon's docs, so patch just that schema."""
    spec = json.loads((SPECS / "mastodon-openapi.json").read_text())
    for param in spec["paths"]["/api/v1/statuses"]["post"].get("parameters", []):
        if param.get("name") == "Idempotency-Key":
            param["schema"] = {"type": "string"}
    out = dest / "mastodon-openapi.patched.json"
    out.write_text(json.dumps(spec))
    return out


@pytest.fixture(scope="session")
def prism_mastodon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not (SPECS / "mastodon-openapi.json").exists():
        _missing("the Mastodon OpenAPI description", f"set CMINBOX_SPECS to the folder holding it (looked in {SPECS})")
    tmp = tmp_path_factory.mktemp("prism-mastodon")
    yield from _prism(tmp, _patched_mastodon_spec(tmp), "/api/v2/instance")


@pytest.fixture(scope="session")
def prism_github(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not GITHUB_SPEC.exists():
        _missing("GitHub's OpenAPI description", "run `make test` (or tests/servers/install.sh; needs npm)")
    tmp = tmp_path_factory.mktemp("prism-github")
    trimmed = tmp / "github.trimmed.json"
    trimmed.write_text(json.dumps(trim_spec(json.loads(GITHUB_SPEC.read_text()), GITHUB_OPERATIONS)))
    yield from _prism(tmp, trimmed, "/user")


@pytest.fixture(scope="session")
def prism_discourse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    spec = SPECS / "discourse-openapi.json"
    if not spec.exists():
        _missing("the Discourse OpenAPI description", f"set CMINBOX_SPECS to the folder holding it (looked in {SPECS})")
    yield from _prism(tmp_path_factory.mktemp("prism-discourse"), spec, "/site.json")


class PrismRecorder(httpx.AsyncBaseTransport):
    """Forwards to Prism and keeps its verdict on every request (method, path, status, violations)."""

    def __init__(self, prefer: str | None = None, prefer_for: dict[str, str] | None = None) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.prefer = prefer
        self.prefer_for = prefer_for or {}  # path → Prefer header for that path only
        self.seen: list[tuple[str, int, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        prefer = self.prefer_for.get(request.url.path, self.prefer)
        if prefer:
            request.headers["Prefer"] = prefer
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.seen.append(
            (f"{request.method} {request.url.path}", response.status_code, response.headers.get("sl-violations", ""))
        )
        return response

    def rejected(self) -> list[tuple[str, int, str]]:
        """Requests Prism refused (400/401/404/405/406/415/422): what the description does not allow."""
        return [s for s in self.seen if 400 <= s[1] < 500 and s[1] != 429]
