"""What every page shares: the language of the request, the templates, CSRF tokens, the voter's
cookie and the static files' content-hashed URLs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.routing import Match

from wsis_shared.vocabulary import Category
from wsis_web import i18n
from wsis_web.labels import category_name, label
from wsis_web.services import Edition, Problem, Services
from wsis_web.settings import WebSettings

TEMPLATES: Final = Path(__file__).parent / "templates"
STATIC: Final = Path(__file__).parent / "static"
LANGUAGE_COOKIE: Final = "lang"
VOTER_COOKIE: Final = "wsis_voter"
SESSION_COOKIE: Final = "wsis_session"  # a team member's, reviewer's, chair's or admin's token
# What an entry id can be (UUIDs, the demo's ids): anything else is a 404 before any call.
ENTRY_ID: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SIGN_IN_COOKIE: Final = "wsis_sign_in"  # the address a code was sent to, while it is entered
CSRF_COOKIE: Final = "wsis_csrf"
YEAR_LIMITS: Final = (2000, 2100)


def static_versions() -> dict[str, str]:
    """Each static file's content hash: its URL changes when it does, so browsers may keep a
    copy for a year."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        for path in sorted(STATIC.iterdir())
        if path.is_file()
    }


def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass
class Site:
    settings: WebSettings
    services: Services
    templates: Environment
    versions: dict[str, str]

    def static_url(self, name: str) -> str:
        return f"/static/{self.versions[name]}/{name}"


def site_of(request: Request) -> Site:
    site: Site = request.app.state.site
    return site


def language_of(request: Request) -> str:
    return i18n.negotiate(
        request.query_params.get("lang"),
        request.cookies.get(LANGUAGE_COOKIE),
        request.headers.get("accept-language"),
    )


def _csrf_seed(request: Request) -> str:
    seed = request.cookies.get(CSRF_COOKIE)
    if seed is None or len(seed) > 64:
        seed = request.state.__dict__.setdefault("new_csrf_seed", secrets.token_urlsafe(24))
    return seed


def csrf_token(request: Request) -> str:
    """Double-submit token bound to the browser's CSRF cookie and signed by the server, so a
    form posted from another site (which cannot read the cookie) is refused."""
    secret = site_of(request).settings.csrf_secret.encode()
    return hmac.new(secret, _csrf_seed(request).encode(), hashlib.sha256).hexdigest()


def csrf_valid(request: Request, token: str | None) -> bool:
    seed = request.cookies.get(CSRF_COOKIE)
    if not token or seed is None:
        return False
    secret = site_of(request).settings.csrf_secret.encode()
    expected = hmac.new(secret, seed.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, token)


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def finish(request: Request, response: Response) -> Response:
    """Cookies every answer may need to set: the language chosen by query, a new CSRF seed."""
    chosen = i18n.supported(request.query_params.get("lang"))
    if chosen is not None and request.cookies.get(LANGUAGE_COOKIE) != chosen:
        response.set_cookie(
            LANGUAGE_COOKIE, chosen, max_age=365 * 86400, samesite="lax", secure=secure(request)
        )
    seed = request.state.__dict__.get("new_csrf_seed")
    if seed is not None:
        response.set_cookie(
            CSRF_COOKIE, seed, httponly=True, samesite="lax", secure=secure(request), path="/"
        )
    response.headers["Content-Language"] = language_of(request)
    response.headers.setdefault("Vary", "Accept-Language, Cookie")
    return response


def voter_signed_in(request: Request) -> bool:
    """Whether the browser holds a voter token that has not expired. Read, not verified: it
    only decides where the sign-in pages send the browser; every page that uses the token has
    the voting service check it."""
    token = request.cookies.get(VOTER_COOKIE)
    if not token or token.count(".") != 2:
        return False
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    except ValueError:
        return False
    expires = payload.get("exp") if isinstance(payload, dict) else None
    return isinstance(expires, int | float) and expires > time.time()


def personal(response: Response) -> Response:
    """A page showing the voter's own state (a choice to confirm, a receipt, their votes): never
    kept by a cache nor shown again by Back as it was."""
    response.headers["Cache-Control"] = "no-store"
    return response


def in_duration(seconds: int, gettext: Any, ngettext: Any) -> str:
    """A wait said as people say it: "in 30 seconds", "in 2 minutes", "in about an hour"."""
    if seconds < 60:
        return str(ngettext("in %(num)s second", "in %(num)s seconds", max(seconds, 1)))
    if seconds < 3600 - 90:
        return str(ngettext("in %(num)s minute", "in %(num)s minutes", -(-seconds // 60)))
    if seconds < 5400:
        return str(gettext("in about an hour"))
    if seconds < 36 * 3600:
        hours = round(seconds / 3600)
        return str(ngettext("in about %(num)s hour", "in about %(num)s hours", hours))
    return str(ngettext("in about %(num)s day", "in about %(num)s days", round(seconds / 86400)))


def retry_after_s(problem: Problem) -> int | None:
    """The seconds a refusal says to wait (its `retry_after_s`, else its Retry-After header)."""
    value = problem.body.get("retry_after_s", problem.retry_after)
    try:
        return max(int(value), 1) if value is not None else None
    except (TypeError, ValueError):
        return None


def has_session(request: Request) -> bool:
    """Whether the browser holds a staff session (checked for real by the page that needs it)."""
    header = site_of(request).settings.token_header
    return bool(request.headers.get(header)) if header else SESSION_COOKIE in request.cookies


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    site = site_of(request)
    language = language_of(request)
    translations = i18n.translations(language)
    formatter = i18n.Formatter(language)

    def gettext(message: str, **values: Any) -> str:
        text = translations.gettext(message)
        return text % values if values else text

    def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
        text = translations.ngettext(singular, plural, n)
        return text % ({"num": formatter.number(n)} | values)

    def switch_to(code: str) -> str:
        path, params = request.url.path, request.query_params.multi_items()
        if request.method != "GET":
            # A page answering a form: its address takes only POST (a link there is a 405).
            # The form's own page, from the Referer when it is ours, in the new language.
            referer = urlsplit(request.headers.get("referer", ""))
            same_site = referer.netloc == request.url.netloc
            readable = same_site and _answers_get(request, referer.path)
            path = safe_next(referer.path) if readable else "/"
            params = parse_qsl(referer.query) if readable else []
        query = [(k, v) for k, v in params if k != "lang"]
        return f"{path}?{urlencode([*query, ('lang', code)])}"

    shared: dict[str, Any] = dict(
        request=request,
        language=language,
        direction="rtl" if language in i18n.RIGHT_TO_LEFT else "ltr",
        languages=i18n.languages(),
        switch_to=switch_to,
        _=gettext,
        gettext=gettext,
        ngettext=ngettext,
        category_name=lambda c: category_name(c, gettext),
        label=lambda kind, value: (
            formatter.country(str(value)) if kind == "country" else label(kind, value, gettext)
        ),
        fmt=formatter,
        static_url=site.static_url,
        csrf=csrf_token(request),
        signed_in=VOTER_COOKIE in request.cookies or has_session(request),
        voter_signed_in=VOTER_COOKIE in request.cookies,
        in_duration=lambda seconds: in_duration(seconds, gettext, ngettext),
        has_session=has_session(request),
        person=request.state.__dict__.get("signed_in"),
        path=request.url.path,
    )
    page = site.templates.get_template(template).render(shared | context)
    return finish(request, HTMLResponse(page, status_code=status_code))


def redirect(request: Request, url: str) -> Response:
    """POST-redirect-GET: 303 so that a reload never posts twice."""
    return finish(request, RedirectResponse(url, status_code=303))


def parse_year(value: str) -> int | None:
    if not value.isdecimal() or len(value) != 4:
        return None
    year = int(value)
    return year if YEAR_LIMITS[0] <= year <= YEAR_LIMITS[1] else None


def parse_category(value: str) -> Category | None:
    try:
        return Category(value)
    except ValueError:
        return None


def set_voter_cookie(
    request: Request, response: Response, token: str, expires_at: datetime
) -> None:
    max_age = int((expires_at - datetime.now(UTC)).total_seconds())
    response.set_cookie(
        VOTER_COOKIE,
        token,
        max_age=max(max_age, 0),
        httponly=True,
        samesite="lax",
        secure=secure(request),
        path="/",
    )


def _answers_get(request: Request, path: str) -> bool:
    """Whether a GET of `path` reaches a page of this site (not a 405 of a POST-only route)."""
    scope = {"type": "http", "path": path, "method": "GET", "root_path": ""}
    return any(route.matches(scope)[0] == Match.FULL for route in request.app.routes)


def safe_next(value: str | None, fallback: str = "/") -> str:
    """Only a path of this site: never an open redirect to another origin. Browsers drop tabs
    and line breaks from a URL (a slash, a tab and `/evil.example` is `//evil.example` in a
    link), so no control character or space passes, nor a backslash."""
    if (
        not value
        or not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ch <= " " or ch == "\x7f" for ch in value)
    ):
        return fallback
    return value


def not_found(request: Request) -> Response:
    return render(request, "error.html", 404, kind="not-found")


def bad_form(request: Request) -> Response:
    """A form that did not come from one of our pages (or from an expired one)."""
    return render(request, "error.html", 400, kind="expired-form")


async def edition_or_none(request: Request, year: str) -> Edition | None:
    """The edition a path names, or None for a year that is not one or not known."""
    number = parse_year(year)
    if number is None:
        return None
    try:
        return await site_of(request).services.edition(number)
    except Problem as problem:
        if problem.status == 404:
            return None
        raise
