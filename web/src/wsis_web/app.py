"""The web front end: one origin for every public page, made server-side from the services'
public APIs (FastAPI + Jinja2 + Babel). It owns no data and no Mongo or Kafka connection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from wsis_shared.auth import token_verifier
from wsis_shared.logging import get_logger
from wsis_web import i18n
from wsis_web.accounts import NotAllowed, SignInRequired, sign_in_redirect
from wsis_web.accounts import router as accounts_router
from wsis_web.admin_pages import router as admin_router
from wsis_web.chair_pages import router as chair_router
from wsis_web.rendering import STATIC, Site, environment, render, static_versions
from wsis_web.review_pages import router as review_router
from wsis_web.services import Problem, Services, Unavailable
from wsis_web.settings import WebSettings
from wsis_web.stocktaking_pages import router as stocktaking_router
from wsis_web.team_pages import router as team_router
from wsis_web.voting_pages import router as voting_router

log = get_logger(__name__)
YEAR_IN_SECONDS: Final = 365 * 86400
SECURITY_HEADERS: Final = {
    # Everything comes from this origin: scripts and styles too (no inline script).
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def create_app(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()
    if settings.dev_sign_in_key_file is not None and settings.token_header:
        raise ValueError(
            "WSIS_WEB_DEV_SIGN_IN_KEY_FILE and WSIS_WEB_TOKEN_HEADER are both set: the dev "
            "sign-in is for local work only, unset it where the identity provider signs people in"
        )
    for language in i18n.LANGUAGES:
        i18n.translations(language)  # a broken catalogue stops the start, not a page

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(
            timeout=httpx.Timeout(settings.service_timeout_s, read=None),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        ) as http:
            app.state.site = Site(
                settings=settings,
                services=Services(
                    http,
                    {
                        "submissions": settings.submissions_url.rstrip("/"),
                        "review": settings.review_url.rstrip("/"),
                        "voting": settings.voting_url.rstrip("/"),
                        "stocktaking": settings.stocktaking_url.rstrip("/"),
                    },
                ),
                templates=environment(),
                versions=static_versions(),
            )
            app.state.token_verifier = (
                token_verifier(settings)
                if settings.jwt_public_key_file or settings.jwt_jwks_url
                else None
            )
            yield

    app = FastAPI(
        title="WSIS web pages", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.add_middleware(GZipMiddleware, minimum_size=400, compresslevel=6)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.get("/healthz", include_in_schema=False)
    @app.get("/readyz", include_in_schema=False)
    async def healthz() -> Response:
        # Nothing of its own to wait for: a service that is down shows on the pages that need it.
        return PlainTextResponse("ok")

    @app.get("/static/{version}/{name}", include_in_schema=False)
    async def static(request: Request, version: str, name: str) -> Response:
        site: Site = request.app.state.site
        if site.versions.get(name) != version:
            return PlainTextResponse("not found", status_code=404)
        return FileResponse(
            STATIC / name,
            headers={"Cache-Control": f"public, max-age={YEAR_IN_SECONDS}, immutable"},
        )

    app.include_router(accounts_router)
    app.include_router(voting_router)
    app.include_router(stocktaking_router)
    app.include_router(team_router)
    app.include_router(review_router)
    app.include_router(chair_router)
    app.include_router(admin_router)

    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, error: Exception) -> Response:
        next_url = error.next_url if isinstance(error, SignInRequired) else "/account"
        return sign_in_redirect(request, next_url)

    @app.exception_handler(NotAllowed)
    async def not_for_you(request: Request, error: Exception) -> Response:
        return render(request, "error.html", 403, kind="not-allowed")

    @app.exception_handler(Unavailable)
    async def unavailable(request: Request, error: Exception) -> Response:
        log.warning("web.service.unavailable", error=str(error), path=request.url.path)
        response = render(request, "error.html", 503, kind="unavailable")
        response.headers["Retry-After"] = "10"
        return response

    @app.exception_handler(Problem)
    async def refused(request: Request, error: Exception) -> Response:
        # A service refused what a page asked for (an edition with no ballot, …): say so.
        status = error.status if isinstance(error, Problem) else 400
        if status == 401:  # the session ended between the page's check and the service's
            return sign_in_redirect(request, request.url.path)
        if status == 403:
            return render(request, "error.html", 403, kind="not-allowed")
        kind = "not-found" if status == 404 else "bad-request"
        return render(request, "error.html", 404 if status == 404 else 400, kind=kind)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: Exception) -> Response:
        # A form posted without its fields, a query that is not a number: a page, not JSON.
        return render(request, "error.html", 400, kind="bad-request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: Exception) -> Response:
        status = error.status_code if isinstance(error, StarletteHTTPException) else 500
        kind = "not-found" if status == 404 else "bad-request"
        return render(request, "error.html", status if status < 500 else 400, kind=kind)

    return app
