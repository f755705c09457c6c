"""The generic webhook escalation target: POSTs JSON.

With a secret configured, the body is signed:
``X-Cminbox-Signature: sha256=<hex HMAC of the exact body bytes>``. Every delivery
carries ``X-Cminbox-Delivery`` (the outbox item id), constant across retries, so a
receiver can discard a duplicate should a crash land between its 2xx and our record.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, ClassVar

import httpx

from cminbox.core import http
from cminbox.core.channel import ChannelError
from cminbox.core.clock import Clock
from cminbox.core.config import TargetConfig


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookTarget:
    type_name: ClassVar[str] = "webhook"

    def __init__(
        self, config: TargetConfig, secret: str | None, clock: Clock, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.config = config
        self.secret = secret
        self.clock = clock
        self._client = http.make_client(config.url, transport=transport)

    async def deliver(self, payload: dict[str, Any], delivery_id: str) -> dict[str, str]:
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
        headers = {"Content-Type": "application/json", "X-Cminbox-Delivery": delivery_id}
        if self.secret:
            headers["X-Cminbox-Signature"] = sign(self.secret, body)
        response = await http.request(
            self._client,
            "POST",
            self.config.url,
            self.clock,
            f"webhook {self.config.name}",
            content=body,
            headers=headers,
        )
        if response.status_code >= 300:
            raise ChannelError(f"webhook {self.config.name}: unexpected status {response.status_code}")
        return {"status": str(response.status_code)}

    async def aclose(self) -> None:
        await self._client.aclose()
