"""REST client of the contract: one aiohttp session per run, every answer checked against it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from support.core.contract import check_response

REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=10)


class ApiUnreachable(RuntimeError):
    """The service did not answer at all (as opposed to answering with an error). `refused`:
    the connection was refused, so the request was never sent; otherwise it may have been."""

    def __init__(self, message: str, *, refused: bool = False) -> None:
        super().__init__(message)
        self.refused = refused


@dataclass(frozen=True)
class Reply:
    method: str
    url: str
    status: int
    body: Any

    @property
    def error(self) -> str | None:
        return self.body.get("error") if isinstance(self.body, dict) else None

    def describe(self) -> str:
        return f"{self.method} {self.url} -> {self.status} {json.dumps(self.body)[:500]}"


def room_url(api_url: str, stream_id: str) -> str:
    """The WebSocket room of a stream, on the service's own host."""
    scheme, rest = api_url.rstrip("/").split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/api/v1/streams/{stream_id}/ws"


class ApiClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = aiohttp.ClientSession(timeout=REQUEST_TIMEOUT)

    async def close(self) -> None:
        await self.session.close()

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json_body: Any = None,
        params: dict[str, str] | None = None,
    ) -> Reply:
        url = f"{self.base_url}{path}"
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        try:
            async with self.session.request(
                method, url, headers=headers, json=json_body, params=params
            ) as response:
                text = await response.text()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as error:
            raise ApiUnreachable(
                f"{method} {url}: no answer ({error!r})",
                refused=isinstance(error, aiohttp.ClientConnectorError),
            ) from None
        try:
            body = json.loads(text) if text else None
        except json.JSONDecodeError:
            raise AssertionError(
                f"{method} {url} answered {status} with a body that is not JSON: {text[:300]!r}"
            ) from None
        check_response(method, urlsplit(url).path, status, body)
        return Reply(method, url, status, body)

    async def ingest_call(self, call: str, form: dict[str, str], token: str = "") -> Reply:
        """A call to the webhook the ingest uses (auth, done, update), with the token given."""
        url = f"{self.base_url}/api/v1/streams/{call}"
        try:
            async with self.session.post(url, data=form, params={"token": token}) as response:
                body, status = await response.json(content_type=None), response.status
        except (aiohttp.ClientError, TimeoutError) as error:
            raise ApiUnreachable(f"POST {url}: no answer ({error!r})") from None
        check_response("POST", urlsplit(url).path, status, body)
        return Reply("POST", url, status, body)

    async def health(self) -> Reply:
        return await self.call("GET", "/health")

    async def create_stream(self, token: str | None, fields: dict[str, Any]) -> Reply:
        return await self.call("POST", "/api/v1/streams", token=token, json_body=fields)

    async def get_stream(self, token: str | None, stream_id: str) -> Reply:
        return await self.call("GET", f"/api/v1/streams/{stream_id}", token=token)

    async def streams(self, token: str | None, status: str = "live") -> Reply:
        return await self.call("GET", "/api/v1/streams", token=token, params={"status": status})

    async def join_all(self, tokens: list[str], stream_id: str) -> list[Reply]:
        return list(await asyncio.gather(*(self.join(token, stream_id) for token in tokens)))

    async def join(self, token: str | None, stream_id: str) -> Reply:
        return await self.call("POST", f"/api/v1/streams/{stream_id}/join", token=token)

    async def change_stream(
        self, token: str | None, stream_id: str, fields: dict[str, Any]
    ) -> Reply:
        return await self.call(
            "PATCH", f"/api/v1/streams/{stream_id}", token=token, json_body=fields
        )

    async def end_stream(self, token: str | None, stream_id: str) -> Reply:
        return await self.call("POST", f"/api/v1/streams/{stream_id}/end", token=token)

    async def leave(self, token: str | None, stream_id: str) -> Reply:
        return await self.call("POST", f"/api/v1/streams/{stream_id}/leave", token=token)


StreamCall = Callable[[ApiClient], Callable[[str | None, str], Coroutine[Any, Any, Reply]]]

# The calls on one stream, as scenarios speak of them ("Ben joins", "a visitor tries to join").
STREAM_ACTIONS: dict[str, StreamCall] = {
    "look at": lambda api: api.get_stream,
    "looks at": lambda api: api.get_stream,
    "join": lambda api: api.join,
    "joins": lambda api: api.join,
    "leave": lambda api: api.leave,
    "leaves": lambda api: api.leave,
}
