"""A small HTTP server speaking the Mastodon API subset cminbox uses, for the demo and tests.

Binds 127.0.0.1 only. Authorisation is a bearer token (``demo-token`` by default), so
the demo exercises the same code path and the same failure modes as production.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from cminbox.demo.state import HOST, DemoState

_STATUS = re.compile(r"^/api/v1/statuses/(\d+)$")
_CONTEXT = re.compile(r"^/api/v1/statuses/(\d+)/context$")
_ACCOUNT_STATUSES = re.compile(r"^/api/v1/accounts/(\d+)/statuses$")
_ACCOUNT_ACTION = re.compile(r"^/api/v1/accounts/(\d+)/(block|mute)$")


class DemoHandler(BaseHTTPRequestHandler):
    server: DemoHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # ------------------------------------------------------------------ helpers
    def _send(self, code: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self) -> bool:
        if self.headers.get("Authorization", "") == f"Bearer {self.server.state.token}":
            return True
        self._send(401, {"error": "The access token is invalid"})
        return False

    def _query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if "json" in (self.headers.get("Content-Type") or ""):
            try:
                value = json.loads(raw or b"{}")
                return value if isinstance(value, dict) else {}
            except ValueError:
                return {}
        return {k: v[-1] for k, v in parse_qs(raw.decode(errors="replace")).items()}

    # ------------------------------------------------------------------ routes
    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        state = self.server.state
        if path in ("/api/v1/instance", "/api/v2/instance"):
            self._send(
                200,
                {
                    "uri": HOST,
                    "domain": HOST,
                    "title": "Lumen community (cminbox demo)",
                    "version": "4.3.0-compatible (cminbox demo)",
                    "configuration": {"statuses": {"max_characters": 500}},
                },
            )
            return
        if path == "/_demo/webhook":
            self._send(200, self.server.webhook_deliveries)
            return
        if not self._authorised():
            return
        if path == "/api/v1/accounts/verify_credentials":
            self._send(200, state.own_account())
        elif path == "/api/v1/notifications":
            self._notifications()
        elif m := _CONTEXT.match(path):
            ctx = state.context(m.group(1))
            self._send(200, ctx) if ctx is not None else self._send(404, {"error": "Record not found"})
        elif m := _STATUS.match(path):
            state.advance()
            status = state.statuses.get(m.group(1))
            self._send(200, status) if status else self._send(404, {"error": "Record not found"})
        elif m := _ACCOUNT_STATUSES.match(path):
            limit = _int(self._query().get("limit", ["20"])[-1], 20, 40)
            rows = state.account_statuses(m.group(1), limit)
            self._send(200, rows) if rows is not None else self._send(404, {"error": "Record not found"})
        else:
            self._send(404, {"error": "Not found"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if path == "/_demo/webhook":
            self._webhook()
            return
        if not self._authorised():
            return
        state = self.server.state
        body = self._body()
        if path == "/api/v1/statuses":
            text = str(body.get("status") or "").strip()
            if not text:
                self._send(422, {"error": "Validation failed: Text can't be blank"})
                return
            if len(text) > 500:
                self._send(422, {"error": "Validation failed: Text character limit of 500 exceeded"})
                return
            visibility = str(body.get("visibility") or "public")
            reply_to = body.get("in_reply_to_id")
            if reply_to and str(reply_to) not in state.statuses:
                self._send(404, {"error": "Record not found"})
                return
            status, _created = state.post_status(
                text, str(reply_to) if reply_to else None, visibility, self.headers.get("Idempotency-Key")
            )
            self._send(200, status)
        elif path == "/api/v1/reports":
            self._send(
                200, {"id": "1", "action_taken": False, "category": "other", "comment": str(body.get("comment", ""))}
            )
        elif m := _ACCOUNT_ACTION.match(path):
            self._send(200, {"id": m.group(1), "blocking": m.group(2) == "block", "muting": m.group(2) == "mute"})
        else:
            self._send(404, {"error": "Not found"})

    def _webhook(self) -> None:
        """The demo's escalation receiver: records deliveries, discarding duplicates by delivery id."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        delivery = self.headers.get("X-Cminbox-Delivery", "")
        with self.server.state.lock:
            seen = any(d["delivery"] == delivery for d in self.server.webhook_deliveries)
            if not seen:
                try:
                    payload = json.loads(body or b"{}")
                except ValueError:
                    payload = {}
                self.server.webhook_deliveries.append({"delivery": delivery, "payload": payload})
        self._send(200, {"ok": True, "duplicate": seen})

    def _notifications(self) -> None:
        q = self._query()
        types = q.get("types[]", []) + q.get("types", [])
        limit = _int(q.get("limit", ["40"])[-1], 40, 80)
        page = self.server.state.notifications_page(
            types=types,
            limit=limit,
            max_id=_last(q, "max_id"),
            min_id=_last(q, "min_id"),
            since_id=_last(q, "since_id"),
        )
        headers = {}
        if page:
            base = f"http://{self.headers.get('Host', '127.0.0.1')}/api/v1/notifications"
            extra = [("types[]", t) for t in types]
            links = [f'<{base}?{urlencode([*extra, ("min_id", page[0]["id"]), ("limit", limit)])}>; rel="prev"']
            if len(page) == limit:
                links.insert(
                    0, f'<{base}?{urlencode([*extra, ("max_id", page[-1]["id"]), ("limit", limit)])}>; rel="next"'
                )
            headers["Link"] = ", ".join(links)
        self._send(200, page, headers)


def _last(q: dict[str, list[str]], key: str) -> str | None:
    values = q.get(key)
    return values[-1] if values and values[-1].isdigit() else None


def _int(text: str, default: int, maximum: int) -> int:
    return max(1, min(maximum, int(text))) if text.isdigit() else default


class DemoHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: DemoState, port: int = 0) -> None:
        self.state = state
        self.webhook_deliveries: list[dict[str, Any]] = []
        super().__init__(("127.0.0.1", port), DemoHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="cminbox-demo-server", daemon=True)
        thread.start()
        return thread
