"""Home, the ballot, signing in with an emailed code, casting a vote, the receipt, results (with
their live stream) and the champions. Every form works without JavaScript (POST-redirect-GET)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import quote, unquote

import httpx
from fastapi import APIRouter, Form, Request
from fastapi.responses import Response, StreamingResponse

from wsis_shared.vocabulary import Category, Phase
from wsis_web.rendering import (
    SIGN_IN_COOKIE,
    VOTER_COOKIE,
    bad_form,
    csrf_valid,
    edition_or_none,
    not_found,
    parse_category,
    parse_year,
    redirect,
    render,
    safe_next,
    secure,
    set_voter_cookie,
    site_of,
)
from wsis_web.services import Problem, Receipt, Unavailable

router = APIRouter()
FormField = Annotated[str, Form()]
OptionalField = Annotated[str | None, Form()]
MAX_FIELD = 320


def _client(request: Request) -> str | None:
    """The visitor's address (uvicorn has already applied the proxies it trusts)."""
    return request.client.host if request.client else None


@router.get("/")
async def home(request: Request) -> Response:
    editions = sorted(await site_of(request).services.editions(), key=lambda e: -e.year)
    return render(request, "home.html", editions=editions, Phase=Phase)


async def _my_votes(request: Request, year: int) -> dict[Category, Receipt] | None:
    """The signed-in voter's votes by category; None when not signed in (or the token expired:
    the cookie is then dropped by the page)."""
    token = request.cookies.get(VOTER_COOKIE)
    if token is None:
        return None
    try:
        receipts = await site_of(request).services.my_votes(year, token)
    except Problem as problem:
        if problem.status in (401, 403):
            request.state.drop_voter_cookie = True
            return None
        raise
    return {receipt.category: receipt for receipt in receipts}


def _forget_expired_voter(request: Request, response: Response) -> Response:
    if getattr(request.state, "drop_voter_cookie", False):
        response.delete_cookie(VOTER_COOKIE, path="/")
    return response


@router.get("/vote/{year}")
async def ballot(request: Request, year: str) -> Response:
    edition = await edition_or_none(request, year)
    if edition is None:
        return not_found(request)
    categories = await site_of(request).services.ballot(edition.year)
    votes = await _my_votes(request, edition.year)
    page = render(
        request,
        "ballot.html",
        edition=edition,
        categories=categories,
        votes=votes or {},
        signed_in=votes is not None,
    )
    return _forget_expired_voter(request, page)


@router.get("/vote/{year}/{category}")
async def category_page(
    request: Request, year: str, category: str, choose: str | None = None
) -> Response:
    chosen_category = parse_category(category)
    edition = await edition_or_none(request, year)
    if edition is None or chosen_category is None:
        return not_found(request)
    ballot = {c.category: c for c in await site_of(request).services.ballot(edition.year)}
    nominees = ballot[chosen_category].nominees if chosen_category in ballot else []
    votes = await _my_votes(request, edition.year)
    chosen = next((n for n in nominees if n.entry_id == choose), None)
    page = render(
        request,
        "category.html",
        edition=edition,
        category=chosen_category,
        nominees=nominees,
        receipt=(votes or {}).get(chosen_category),
        signed_in=votes is not None,
        chosen=chosen,
        idempotency_key=uuid.uuid4().hex,
        error=request.query_params.get("error"),
    )
    return _forget_expired_voter(request, page)


@router.post("/vote/{year}/{category}")
async def cast(
    request: Request,
    year: str,
    category: str,
    entry_id: FormField,
    csrf: FormField,
    idempotency_key: FormField,
) -> Response:
    number, chosen_category = parse_year(year), parse_category(category)
    if number is None or chosen_category is None:
        return not_found(request)
    if not csrf_valid(request, csrf):
        return bad_form(request)
    here = f"/vote/{number}/{chosen_category.value}"
    token = request.cookies.get(VOTER_COOKIE)
    if token is None:
        # Sign in first; the choice waits in the address the code page comes back to.
        back = f"{here}?choose={entry_id[:64]}"
        return redirect(request, f"/sign-in?next={back}")
    client = _client(request)
    try:
        receipt = await site_of(request).services.cast_vote(
            number, chosen_category, entry_id[:200], token, idempotency_key[:200], client
        )
    except Problem as problem:
        if problem.status in (401, 403):
            response = redirect(request, f"/sign-in?next={here}?choose={entry_id[:64]}")
            response.delete_cookie(VOTER_COOKIE, path="/")
            return response
        if problem.status == 409 and problem.reason != "phase-closed":
            return redirect(request, here)  # already voted: the page shows the receipt
        reason = {409: "closed", 422: "not-nominee", 429: "too-many"}.get(problem.status, "refused")
        return redirect(request, f"{here}?error={reason}")
    return redirect(request, f"/vote/{number}/{chosen_category.value}/receipt/{receipt.receipt_id}")


@router.get("/vote/{year}/{category}/receipt/{receipt_id}")
async def receipt_page(request: Request, year: str, category: str, receipt_id: str) -> Response:
    number, chosen_category = parse_year(year), parse_category(category)
    if number is None or chosen_category is None:
        return not_found(request)
    votes = await _my_votes(request, number)
    receipt = (votes or {}).get(chosen_category)
    if receipt is None or receipt.receipt_id != receipt_id:
        return _forget_expired_voter(request, not_found(request))
    ballot = {c.category: c for c in await site_of(request).services.ballot(number)}
    nominee = (
        next((n for n in ballot[chosen_category].nominees if n.entry_id == receipt.entry_id), None)
        if chosen_category in ballot
        else None
    )
    return render(request, "receipt.html", receipt=receipt, nominee=nominee, year=number)


@router.get("/sign-in")
async def sign_in_page(request: Request, next: str | None = None) -> Response:
    return render(request, "sign_in.html", next=safe_next(next), error=None, email="")


@router.post("/sign-in")
async def sign_in(
    request: Request, email: FormField, csrf: FormField, next: OptionalField = None
) -> Response:
    if not csrf_valid(request, csrf):
        return bad_form(request)
    target = safe_next(next)
    address = email.strip()[:MAX_FIELD]
    if "@" not in address:
        return render(
            request, "sign_in.html", 422, next=target, error="not-an-address", email=address
        )
    try:
        await site_of(request).services.request_code(address, _client(request))
    except Problem as problem:
        error = {422: "not-an-address", 429: "too-many"}.get(problem.status, "refused")
        return render(
            request,
            "sign_in.html",
            problem.status,
            next=target,
            error=error,
            email=address,
            retry_after=problem.retry_after,
        )
    response = redirect(request, f"/sign-in/code?next={target}")
    # The address is needed once more, with the code; kept out of URLs (and so out of logs).
    response.set_cookie(
        SIGN_IN_COOKIE,
        # Percent-encoded: a header is Latin-1, and "имя@пример.рф" is an address too.
        quote(address, safe="@"),
        max_age=900,
        httponly=True,
        samesite="lax",
        secure=secure(request),
        path="/sign-in",
    )
    return response


def _remembered_address(request: Request) -> str | None:
    """The address the code was sent to, as the sign-in form stored it."""
    stored = request.cookies.get(SIGN_IN_COOKIE)
    return unquote(stored) if stored is not None else None


@router.get("/sign-in/code")
async def code_page(request: Request, next: str | None = None) -> Response:
    address = _remembered_address(request)
    if address is None:
        return redirect(request, f"/sign-in?next={safe_next(next)}")
    return render(request, "code.html", next=safe_next(next), email=address, error=None)


@router.post("/sign-in/code")
async def enter_code(
    request: Request, code: FormField, csrf: FormField, next: OptionalField = None
) -> Response:
    if not csrf_valid(request, csrf):
        return bad_form(request)
    target = safe_next(next)
    address = _remembered_address(request)
    if address is None:
        return redirect(request, f"/sign-in?next={target}")
    typed = code.strip()[:32]
    digits = "".join(ch for ch in typed if ch not in " -")
    if not (digits.isdecimal() and len(digits) == 6):
        return render(request, "code.html", 422, next=target, email=address, error="not-six-digits")
    try:
        token = await site_of(request).services.verify_code(address, digits, _client(request))
    except Problem as problem:
        error = {
            400: "incorrect",
            409: "already-used",
            410: "expired",
            429: "too-many-attempts",
        }.get(problem.status, "not-six-digits" if problem.status == 422 else "refused")
        return render(
            request,
            "code.html",
            problem.status,
            next=target,
            email=address,
            error=error,
            attempts_left=problem.body.get("attempts_left"),
        )
    response = redirect(request, target)
    set_voter_cookie(request, response, token.token, token.expires_at)
    response.delete_cookie(SIGN_IN_COOKIE, path="/sign-in")
    return response


@router.post("/sign-in/resend")
async def resend_code(request: Request, csrf: FormField, next: OptionalField = None) -> Response:
    if not csrf_valid(request, csrf):
        return bad_form(request)
    target = safe_next(next)
    address = _remembered_address(request)
    if address is None:
        return redirect(request, f"/sign-in?next={target}")
    try:
        await site_of(request).services.request_code(address, _client(request), resend=True)
    except Problem as problem:
        return render(
            request,
            "code.html",
            problem.status,
            next=target,
            email=address,
            error="resend-too-soon" if problem.status == 429 else "refused",
            retry_after=problem.retry_after,
        )
    return render(request, "code.html", next=target, email=address, error=None, resent=True)


@router.get("/results/{year}")
async def results_index(request: Request, year: str) -> Response:
    edition = await edition_or_none(request, year)
    if edition is None:
        return not_found(request)
    return render(request, "results_index.html", edition=edition)


@router.get("/results/{year}/{category}")
async def results_page(request: Request, year: str, category: str) -> Response:
    chosen_category = parse_category(category)
    edition = await edition_or_none(request, year)
    if edition is None or chosen_category is None:
        return not_found(request)
    results = await site_of(request).services.results(edition.year, chosen_category)
    ranked = sorted(results.nominees, key=lambda n: (-(n.votes or 0), n.nominee.title))
    return render(
        request,
        "results.html",
        edition=edition,
        category=chosen_category,
        results=results,
        nominees=ranked if results.counts_public else results.nominees,
    )


@router.get("/live/{year}/{category}")
async def live_results(request: Request, year: str, category: str) -> Response:
    """The voting service's Server-Sent Events, relayed byte for byte from this origin."""
    number, chosen_category = parse_year(year), parse_category(category)
    if number is None or chosen_category is None:
        return Response(status_code=404)
    site = site_of(request)
    url = f"{site.services.urls['voting']}/editions/{number}/results/{chosen_category.value}/stream"
    upstream = site.services.http.build_request(
        "GET",
        url,
        headers={"Accept": "text/event-stream", "Accept-Encoding": "identity"},
    )
    try:
        answer = await site.services.http.send(upstream, stream=True)
    except httpx.TransportError:
        return Response(status_code=503, headers={"Retry-After": "5"})
    if answer.status_code != 200:
        await answer.aclose()
        return Response(status_code=answer.status_code)

    async def relay() -> AsyncIterator[bytes]:
        try:
            async for chunk in answer.aiter_bytes():
                yield chunk
        except httpx.HTTPError:
            return  # the browser's EventSource reconnects by itself
        finally:
            await answer.aclose()

    return StreamingResponse(
        relay(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/champions/{year}")
async def champions_page(request: Request, year: str) -> Response:
    edition = await edition_or_none(request, year)
    if edition is None:
        return not_found(request)
    champions = await site_of(request).services.champions(edition.year)
    ballot = {c.category: c for c in await site_of(request).services.ballot(edition.year)}
    cards = {n.entry_id: n for c in ballot.values() for n in c.nominees}
    return render(
        request,
        "champions.html",
        edition=edition,
        champions=champions,
        cards=cards,
        winners=await _winners(request, edition.year),
    )


async def _winners(request: Request, year: int) -> frozenset[str]:
    """The winners the expert group chose, as the public Stocktaking database records them;
    without it the page still lists the finalists."""
    try:
        page = await site_of(request).services.search(
            [("edition", str(year)), ("status", "winner"), ("limit", "100")]
        )
    except (Problem, Unavailable):
        return frozenset()
    return frozenset(item.entry_id for item in page.items)
