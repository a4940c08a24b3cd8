"""Signing in for the people who work on the prizes — project teams, reviewers, the chair and
admins — and the dependency every one of their pages uses.

The pages call the services with the person's own bearer token, so each service's role and
ownership checks apply unchanged: the web app never decides who may do what, it only asks.

Where the token comes from:
- production: the Ingress's OIDC proxy (oauth2-proxy) signs the person in with the identity
  provider and passes their access token in a header (`WSIS_WEB_TOKEN_HEADER`); "Sign in" links to
  the proxy (`WSIS_WEB_SIGN_IN_URL`). The header is trusted because only the proxy reaches us.
- development (`make up`): a form signs a token with the dev key (`WSIS_WEB_DEV_SIGN_IN_KEY_FILE`)
  for whoever you say you are, kept in an HttpOnly cookie — the same token `make token` prints.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from wsis_shared.auth import Principal, TokenVerifier, sign_dev_token
from wsis_shared.errors import Unauthenticated
from wsis_shared.vocabulary import Role
from wsis_web.rendering import (
    SESSION_COOKIE,
    VOTER_COOKIE,
    bad_form,
    csrf_valid,
    finish,
    not_found,
    redirect,
    render,
    safe_next,
    secure,
    site_of,
)

router = APIRouter()
SESSION_HOURS: Final = 12
STAFF_ROLES: Final = (Role.SUBMITTER, Role.REVIEWER, Role.CHAIR, Role.ADMIN)
# Where each role works: the first page "My pages" offers it.
HOME_OF: Final = {
    Role.SUBMITTER: "/team",
    Role.REVIEWER: "/review",
    Role.CHAIR: "/chair",
    Role.ADMIN: "/admin",
}
MAX_FIELD: Final = 120


@dataclass(frozen=True)
class SignedIn:
    """The person a page is for, and the token it calls the services with on their behalf."""

    principal: Principal
    token: str

    def has(self, *roles: Role) -> bool:
        return self.principal.has(*roles)


class SignInRequired(Exception):
    """No valid token: the page sends the browser to sign in, then back."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class NotAllowed(Exception):
    """Signed in, but the page is for another role."""


def _token_of(request: Request) -> str | None:
    header = site_of(request).settings.token_header
    if header:
        value = request.headers.get(header, "").strip()
        return value.removeprefix("Bearer ").strip() or None
    return request.cookies.get(SESSION_COOKIE) or None


async def signed_in(request: Request) -> SignedIn | None:
    """The person signed in, verified as the services verify them (None if nobody is, or their
    token has expired)."""
    cached: SignedIn | None = request.state.__dict__.get("signed_in")
    if cached is not None:
        return cached
    token = _token_of(request)
    verifier: TokenVerifier | None = request.app.state.token_verifier
    if token is None or verifier is None:
        return None
    try:
        principal = await verifier.verify(token)
    except Unauthenticated:
        return None
    person = SignedIn(principal, token)
    request.state.signed_in = person
    return person


def require(*roles: Role) -> Callable[[Request], Awaitable[SignedIn]]:
    """A page's dependency: the signed-in person holding one of `roles`; anyone else is sent to
    sign in (and back here afterwards) or shown that the page is not for them."""

    async def dependency(request: Request) -> SignedIn:
        person = await signed_in(request)
        if person is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise SignInRequired(target)
        if not person.has(*roles):
            raise NotAllowed()
        return person

    return dependency


Team = Annotated[SignedIn, Depends(require(Role.SUBMITTER))]
Reviewer = Annotated[SignedIn, Depends(require(Role.REVIEWER))]
Chair = Annotated[SignedIn, Depends(require(Role.CHAIR))]
Admin = Annotated[SignedIn, Depends(require(Role.ADMIN))]


def sign_in_redirect(request: Request, next_url: str) -> Response:
    return finish(
        request,
        RedirectResponse(
            f"/account/sign-in?{urlencode({'next': safe_next(next_url)})}", status_code=303
        ),
    )


@router.get("/account/sign-in")
async def sign_in_page(
    request: Request, next_url: Annotated[str, Query(alias="next")] = "/account"
) -> Response:
    settings = site_of(request).settings
    if settings.sign_in_url and settings.dev_sign_in_key_file is None:
        # The proxy signs the person in and sends them back to `rd`.
        separator = "&" if "?" in settings.sign_in_url else "?"
        return RedirectResponse(
            f"{settings.sign_in_url}{separator}rd={safe_next(next_url)}", status_code=303
        )
    return render(
        request,
        "account/sign_in.html",
        200 if settings.dev_sign_in_key_file else 503,
        next=safe_next(next_url, "/account"),
        roles=STAFF_ROLES,
        available=settings.dev_sign_in_key_file is not None,
        error=None,
        values={},
    )


@router.post("/account/sign-in")
async def dev_sign_in(
    request: Request,
    csrf: Annotated[str, Form()],
    role: Annotated[str, Form()],
    user_id: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    organisation: Annotated[str, Form()] = "",
    next_url: Annotated[str, Form(alias="next")] = "/account",
) -> Response:
    settings = site_of(request).settings
    if settings.dev_sign_in_key_file is None:
        return not_found(request)
    if not csrf_valid(request, csrf):
        return bad_form(request)
    values = {"role": role, "user_id": user_id, "name": name, "organisation": organisation}
    chosen = next((r for r in STAFF_ROLES if r.value == role), None)
    error: str | None = None
    user_id, name, organisation = user_id.strip(), name.strip(), organisation.strip()
    if chosen is None:
        error = "role"
    elif not user_id or len(user_id) > MAX_FIELD:
        error = "user_id"
    elif chosen is Role.SUBMITTER and (not organisation or len(organisation) > MAX_FIELD):
        error = "organisation"
    elif len(name) > MAX_FIELD:
        error = "name"
    if error is not None or chosen is None:
        return render(
            request,
            "account/sign_in.html",
            422,
            next=safe_next(next_url, "/account"),
            roles=STAFF_ROLES,
            available=True,
            error=error,
            values=values,
        )
    token = sign_dev_token(
        settings.dev_sign_in_key_file.read_bytes(),
        subject=user_id,
        roles=[chosen],
        organisation_id=organisation if chosen is Role.SUBMITTER else None,
        name=name or None,
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
        ttl_s=SESSION_HOURS * 3600,
    )
    response = redirect(request, safe_next(next_url, "/account"))
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=secure(request),
        path="/",
    )
    return response


@router.get("/account")
async def my_pages(
    request: Request,
    person: Annotated[SignedIn, Depends(require(*STAFF_ROLES))],
) -> Response:
    places = [(role, HOME_OF[role]) for role in STAFF_ROLES if person.has(role)]
    if len(places) == 1:
        return redirect(request, places[0][1])
    return render(request, "account/my_pages.html", person=person.principal, places=places)


@router.post("/sign-out")
async def sign_out(request: Request, csrf: Annotated[str, Form()]) -> Response:
    """One sign-out for everything this browser holds: a voter's and a team member's session."""
    if not csrf_valid(request, csrf):
        return bad_form(request)
    settings = site_of(request).settings
    response = redirect(request, "/")
    response.delete_cookie(VOTER_COOKIE, path="/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    if settings.token_header and settings.sign_in_url:
        # The proxy holds the session: its sign-out ends it (oauth2-proxy's path beside start).
        proxy_sign_out = settings.sign_in_url.rsplit("/", 1)[0] + "/sign_out?rd=/"
        response.headers["Location"] = proxy_sign_out
    return response
