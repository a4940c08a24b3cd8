"""Every response names its correlation id: the client's when it sent one, a new one otherwise.

Called as ASGI directly: an HTTP test client re-encodes header values, so it cannot send the
bytes that are not UTF-8 which a real client can."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI
from starlette.types import Message

from wsis_shared.web import CORRELATION_HEADER, CorrelationAndMetricsMiddleware


async def call(header: bytes | None) -> tuple[int, dict[bytes, bytes]]:
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> str:
        return "pong"

    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/ping",
        "raw_path": b"/ping",
        "query_string": b"",
        "root_path": "",
        "headers": [] if header is None else [(CORRELATION_HEADER.encode(), header)],
        "client": ("127.0.0.1", 50000),
        "server": ("test", 80),
    }
    await CorrelationAndMetricsMiddleware(app, service="test")(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], dict(start["headers"])


async def test_the_clients_id_is_kept() -> None:
    mine = str(uuid.uuid4())

    status, headers = await call(mine.encode())

    assert status == 200
    assert headers[CORRELATION_HEADER.encode()] == mine.encode()


@pytest.mark.parametrize("header", [None, b"", b"not-a-uuid", b"caf\xe9", b"\xff\xfe"])
async def test_any_other_header_gets_a_new_id_never_an_error(header: bytes | None) -> None:
    status, headers = await call(header)

    assert status == 200
    assert uuid.UUID(headers[CORRELATION_HEADER.encode()].decode())
