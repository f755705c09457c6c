"""What token-based channels share: an HTTP client that carries the channel's bearer token."""

from __future__ import annotations

import httpx

from cminbox.core import http
from cminbox.core.channel import AuthFailed, ChannelContext


async def bearer_client(ctx: ChannelContext) -> httpx.AsyncClient:
    """A client for ``ctx.url`` with ``Authorization: Bearer <token>``; a missing token is an
    auth failure that says how to provide one."""
    token = await ctx.token()
    if not token:
        raise AuthFailed(
            f"no token for channel {ctx.name!r}: run `cminbox login {ctx.name}` or set token_command in the config"
        )
    return http.make_client(ctx.url, headers={"Authorization": f"Bearer {token}"}, transport=ctx.transport)
