"""What every service's HTTP API shares: problem+json errors, health, readiness, metrics,
correlation ids and tracing. A service's `create_app` calls `build_app` with its routers.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pymongo
from fastapi import APIRouter, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from pymongo.errors import PyMongoError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wsis_shared import context
from wsis_shared.auth import OPTIONAL_BEARER, token_verifier
from wsis_shared.errors import Unauthenticated, WsisError
from wsis_shared.logging import get_logger
from wsis_shared.messaging import broker_reachable
from wsis_shared.mongo import is_transient, ping
from wsis_shared.runtime import Resources, settle_garbage_collector
from wsis_shared.settings import ServiceSettings

log = get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
CORRELATION_HEADER = "x-correlation-id"
READINESS_TIMEOUT_S = 2.0  # each check; they run side by side, under the probes' 4 s

_TOO_LARGE = json.dumps(
    {
        "type": "urn:wsis:problem:payload-too-large",
        "title": "Payload too large",
        "status": 413,
        "detail": "the request body is larger than this endpoint accepts",
        "code": "payload-too-large",
    }
).encode()

HTTP_REQUESTS = Counter(
    "wsis_http_requests_total", "HTTP requests", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "wsis_http_request_duration_seconds", "HTTP request latency", ["service", "method", "route"]
)


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether a conditional GET may be answered 304 (RFC 9110 §13.1.2: a list of tags, `*`, and
    weak comparison — a compressing proxy hands back `W/"…"` for the tag it was given)."""
    if if_none_match is None:
        return False
    candidates = {candidate.strip().removeprefix("W/") for candidate in if_none_match.split(",")}
    return "*" in candidates or etag.removeprefix("W/") in candidates


def attachment_disposition(filename: str) -> str:
    """`Content-Disposition` for a download under a name in any script (RFC 6266): an ASCII
    fallback, then the exact name percent-encoded, which browsers prefer. A header must be
    Latin-1, so "Отчёт.pdf" as such would fail the response."""
    fallback = "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in '"\\' else "_" for ch in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{urllib.parse.quote(filename)}"


def problem(status: int, title: str, detail: str, code: str, /, **extensions: Any) -> JSONResponse:
    """An RFC 9457 response; extensions never override the standard members."""
    body = {
        **jsonable_encoder(extensions),
        "type": f"urn:wsis:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(WsisError)
    async def domain_error(request: Request, exc: WsisError) -> JSONResponse:
        response = problem(exc.status, exc.title, exc.detail, exc.code, **exc.extensions)
        if isinstance(exc, Unauthenticated):  # RFC 6750 §3
            sent_token = "authorization" in request.headers
            response.headers["WWW-Authenticate"] = (
                'Bearer realm="wsis", error="invalid_token"'
                if sent_token
                else 'Bearer realm="wsis"'
            )
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_field_error(error) for error in exc.errors()]
        where = "; ".join(
            f"{e.get('pointer') or e.get('parameter')}: {e['detail']}" for e in errors[:5]
        )
        return problem(
            422,
            "The request is not valid",
            where or "invalid request",
            "invalid-input",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "request refused"
        code = {
            404: "not-found",
            405: "method-not-allowed",
            413: "payload-too-large",
        }.get(exc.status_code, "http-error")
        response = problem(exc.status_code, detail, detail, code)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(PyMongoError)
    async def database_unreachable(request: Request, exc: PyMongoError) -> JSONResponse:
        # A failover or a restart of mongod: the client should come back, not report a bug.
        if not is_transient(exc):
            return await unexpected(request, exc)
        log.warning("http.request.database_unreachable", path=request.url.path, error=repr(exc))
        response = problem(
            503,
            "Temporarily unavailable",
            "the database cannot be reached just now: try again in a few seconds (with the "
            "same Idempotency-Key where the endpoint takes one, so nothing is done twice)",
            "unavailable",
        )
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("http.request.failed", path=request.url.path)
        return problem(
            500,
            "Internal error",
            "something went wrong on our side; nothing you sent was lost: quote the "
            "correlation id when you report it",
            "internal-error",
            correlation_id=str(context.correlation_id()),
        )


def _field_error(error: Mapping[str, Any]) -> dict[str, str]:
    """One invalid field as RFC 9457 suggests: a JSON Pointer into the body (or the name of the
    query/path/header parameter) and a reason a person can act on."""
    location = [str(part) for part in error.get("loc", ())]
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    item: dict[str, str] = {"detail": message, "type": str(error.get("type", ""))}
    if location and location[0] == "body":
        path = location[1:]
        item["pointer"] = "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in path)
    else:
        item["in"] = location[0] if location else "request"
        item["parameter"] = ".".join(location[1:])
    return item


class CorrelationAndMetricsMiddleware:
    """Binds the correlation id for the request and records Prometheus metrics (pure ASGI)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(CORRELATION_HEADER.encode(), b"")
        try:  # a client's id if it is one; any other bytes (not even UTF-8) just get a new one
            correlation = uuid.UUID(incoming.decode())
        except ValueError:  # UnicodeDecodeError is one
            correlation = uuid.uuid4()
        status = 500
        header = (CORRELATION_HEADER.encode(), str(correlation).encode())

        async def send_with_header(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        started = time.perf_counter()
        with context.bound(correlation):
            try:
                await self.app(scope, receive, send_with_header)
            finally:
                route = scope.get("route")
                path = getattr(route, "path", "unmatched")
                method = scope["method"]
                HTTP_REQUESTS.labels(self.service, method, path, str(status)).inc()
                HTTP_LATENCY.labels(self.service, method, path).observe(
                    time.perf_counter() - started
                )


class _ProblemForTooLarge:
    """Starlette's body limit refuses an oversize Content-Length itself, in plain text and
    outside every exception handler; this gives that refusal the same problem+json as the rest."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replacing = False

        async def send_problem(message: Message) -> None:
            nonlocal replacing
            if message["type"] == "http.response.start" and message["status"] == 413:
                headers = dict(message.get("headers", []))
                if headers.get(b"content-type", b"").startswith(b"text/plain"):
                    replacing = True
                    kept = [
                        (k, v)
                        for k, v in message.get("headers", [])
                        if k not in (b"content-type", b"content-length")
                    ]
                    message = {
                        "type": "http.response.start",
                        "status": 413,
                        "headers": [
                            *kept,
                            (b"content-type", PROBLEM_JSON.encode()),
                            (b"content-length", str(len(_TOO_LARGE)).encode()),
                        ],
                    }
            elif message["type"] == "http.response.body" and replacing:
                message = {"type": "http.response.body", "body": _TOO_LARGE}
            await send(message)

        await self.app(scope, receive, send_problem)


_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details: every refusal (4xx) and error of the platform",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "examples": ["urn:wsis:problem:not-found"]},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "machine-readable reason"},
        "errors": {
            "type": "array",
            "description": "invalid fields: a JSON Pointer into the body, or a parameter",
            "items": {
                "type": "object",
                "required": ["detail"],
                "properties": {
                    "detail": {"type": "string"},
                    "type": {"type": "string"},
                    "pointer": {"type": "string"},
                    "in": {"type": "string"},
                    "parameter": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}
_PROBLEM_CONTENT: dict[str, Any] = {
    PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}
}


def _document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Make the OpenAPI document say what the handlers above send: every 4xx (and any documented
    5xx) is problem+json. FastAPI documents its own `{"detail": [...]}` body for 422, which this
    platform never sends, and nothing at all for 401, 403, 404, 409 or 413."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = _PROBLEM_SCHEMA
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            _optional_security(operation)
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                if status[0] in "45":
                    response["content"] = _PROBLEM_CONTENT
            responses.setdefault(
                "4XX",
                {
                    "description": "Refused: the problem says why (401 no valid token, 403 role "
                    "missing, 404 not found or not yours, 409 conflict, 413 too large, …)",
                    "content": _PROBLEM_CONTENT,
                },
            )
    schema["components"].get("securitySchemes", {}).pop(OPTIONAL_BEARER, None)
    components = schema["components"]["schemas"]
    if '"#/components/schemas/HTTPValidationError"' not in json.dumps(schema.get("paths", {})):
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
    return schema


def _optional_security(operation: dict[str, Any]) -> None:
    """An endpoint anyone may call, a token optional (`optional_bearer`): the bearer scheme or
    nothing, in OpenAPI's words — not a token required."""
    requirements = operation.get("security")
    if not requirements or not any(OPTIONAL_BEARER in r for r in requirements):
        return
    required = [r for r in requirements if OPTIONAL_BEARER not in r]
    operation["security"] = required or [{"HTTPBearer": []}, {}]


class WsisFastAPI(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        return _ProblemForTooLarge(super().build_middleware_stack())

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = _document_problems(super().openapi())
        return self.openapi_schema


def operations_router(service: str) -> APIRouter:
    router = APIRouter(tags=["operations"])
    cache: dict[str, tuple[float, bool]] = {}

    @router.get("/healthz", summary="The process is up (liveness)")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @router.get(
        "/readyz",
        summary="MongoDB and the Kafka broker are reachable (readiness)",
        responses={503: {"description": "a dependency is down"}},
    )
    async def readyz(request: Request) -> Response:
        resources: Resources = request.app.state.resources

        async def mongodb() -> bool:
            # Within the probe's time (k8s waits 4 s): the client alone would wait 5 s to
            # select a server that is down.
            try:
                with pymongo.timeout(READINESS_TIMEOUT_S):
                    await ping(resources.mongo)
                return True
            except Exception:
                return False

        async def kafka() -> bool:
            now = time.monotonic()
            cached = cache.get("kafka")
            if cached is None or now - cached[0] > 2.0:
                reachable = await broker_reachable(
                    resources.settings.kafka_bootstrap, READINESS_TIMEOUT_S
                )
                cached = cache["kafka"] = (now, reachable)
            return cached[1]

        mongo_ok, kafka_ok = await asyncio.gather(mongodb(), kafka())  # side by side
        checks = {"mongodb": mongo_ok, "kafka": kafka_ok}
        if all(checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        down = ", ".join(name for name, ok in checks.items() if not ok)
        return problem(503, "Not ready", f"unreachable: {down}", "not-ready", checks=checks)

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def build_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    open_resources: Callable[[ServiceSettings], AbstractAsyncContextManager[Resources]],
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        # Only the HTTP API checks tokens: workers and the operators' commands need no key.
        app.state.token_verifier = token_verifier(settings)
        async with open_resources(settings) as resources:
            app.state.resources = resources
            settle_garbage_collector()
            yield {"resources": resources}

    app = WsisFastAPI(
        # FastAPI's native OpenTelemetry: HTTP spans only when traces are exported somewhere;
        # metrics are Prometheus' job here (/metrics).
        telemetry={"tracing": bool(settings.otlp_endpoint), "metrics": False, "logs": False},
        title=title,
        description=description,
        version="0.1.0",
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
    )
    install_problem_handlers(app)
    app.include_router(operations_router(settings.service_name))
    for router in routers:
        app.include_router(router)
    app.add_middleware(CorrelationAndMetricsMiddleware, service=settings.service_name)
    return app
