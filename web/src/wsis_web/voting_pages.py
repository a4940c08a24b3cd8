"""Home, the ballot, signing in with an emailed code, casting a vote, the receipt (checked in the
published bulletin once there is one), the voter's own votes, results (with their live stream),
the bulletin and the champions. Every form works without JavaScript (POST-redirect-GET)."""

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
    ENTRY_ID,
    SIGN_IN_COOKIE,
    VOTER_COOKIE,
    bad_form,
    csrf_valid,
    edition_or_none,
    not_found,
    parse_category,
    parse_year,
    personal,
    redirect,
    render,
    retry_after_s,
    safe_next,
    secure,
    set_voter_cookie,
    site_of,
    voter_signed_in,
)
from wsis_web.services import Edition, Problem, Receipt, Unavailable

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
        Phase=Phase,
    )
    if votes is not None:
        personal(page)
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
        Phase=Phase,
    )
    if votes is not None:
        personal(page)  # the choice to confirm, the receipt: Back must not show them stale
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
        await site_of(request).services.cast_vote(
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
    return redirect(request, f"/vote/{number}/{chosen_category.value}/receipt")


async def _titles(request: Request, year: int, entry_ids: set[str]) -> dict[str, str]:
    """The projects' titles: from the ballot, else (a nomination withdrawn during the vote)
    from the public Stocktaking database; an id found in neither is left out."""
    services = site_of(request).services
    titles = {
        nominee.entry_id: nominee.title
        for item in await services.ballot(year)
        for nominee in item.nominees
        if nominee.entry_id in entry_ids
    }
    for entry_id in sorted(entry_ids - titles.keys()):
        if not ENTRY_ID.match(entry_id):
            continue
        try:
            titles[entry_id] = (await services.catalogue_entry(entry_id)).entry.title
        except (Problem, Unavailable):
            continue
    return titles


@router.get("/vote/{year}/{category}/receipt/{receipt_id}")
async def receipt_page_of_old_links(
    request: Request, year: str, category: str, receipt_id: str
) -> Response:
    """Links from before receipts left URLs (a proxy's log, holding the address, would tie it
    to the vote through the published hashes): on to the page without it."""
    number, chosen_category = parse_year(year), parse_category(category)
    if number is None or chosen_category is None:
        return not_found(request)
    return redirect(request, f"/vote/{number}/{chosen_category.value}/receipt")


@router.get("/vote/{year}/{category}/receipt")
async def receipt_page(request: Request, year: str, category: str) -> Response:
    """The signed-in voter's own receipt in the category: the receipt number is never in the
    URL, so no log along the way holds it."""
    chosen_category = parse_category(category)
    edition = await edition_or_none(request, year)
    if edition is None or chosen_category is None:
        return not_found(request)
    number = edition.year
    votes = await _my_votes(request, number)
    receipt = (votes or {}).get(chosen_category)
    if receipt is None:
        return _forget_expired_voter(request, not_found(request))
    if edition.phase.order <= Phase.VOTING.order:
        # Published at the close: no request for it on the vote's busiest page.
        state, bulletin = "not-yet", None
    else:
        state, bulletin = await site_of(request).services.bulletin(number, chosen_category)
    digest, counted_for = bulletin.find(receipt.receipt_id) if bulletin else (None, None)
    titles = await _titles(request, number, {receipt.entry_id} | {counted_for or receipt.entry_id})
    page = render(
        request,
        "receipt.html",
        receipt=receipt,
        title=titles.get(receipt.entry_id),
        year=number,
        edition=edition,
        bulletin_state=state,
        bulletin=bulletin,
        digest=digest,
        counted_for=counted_for,
        counted_title=titles.get(counted_for) if counted_for else None,
        Phase=Phase,
    )
    return personal(page)


@router.get("/my-votes")
async def my_votes_page(request: Request) -> Response:
    """The categories the voter voted in, per edition, with their receipts: where a voter
    signing in on a new device lands."""
    if VOTER_COOKIE not in request.cookies:
        return redirect(request, "/sign-in?next=/my-votes")
    services = site_of(request).services
    editions = sorted(await services.editions(), key=lambda e: -e.year)
    shown: list[tuple[Edition, list[Receipt], dict[str, str]]] = []
    for edition in editions:
        if edition.phase.order < Phase.VOTING.order:
            continue
        votes = await _my_votes(request, edition.year)
        if votes is None:  # the token expired: sign in again, and come back here
            response = redirect(request, "/sign-in?next=/my-votes")
            response.delete_cookie(VOTER_COOKIE, path="/")
            return response
        receipts = sorted(votes.values(), key=lambda r: r.category.value)
        titles = await _titles(request, edition.year, {r.entry_id for r in receipts})
        shown.append((edition, receipts, titles))
    page = render(request, "my_votes.html", shown=shown, Phase=Phase)
    return personal(page)


@router.get("/sign-in")
async def sign_in_page(request: Request, next: str | None = None) -> Response:
    page = render(
        request,
        "sign_in.html",
        next=safe_next(next),
        error=None,
        email="",
        already=voter_signed_in(request),
    )
    return personal(page)


def _limit_refused(problem: Problem) -> str | None:
    """Which limit a 429 names, as the page explains it (the voting service's problem `code`,
    and for its per-window limits the `limit`)."""
    if problem.status != 429:
        return None
    if problem.reason == "too-many-requests":
        limit = problem.body.get("limit")
        return {
            "codes-ip": "network-codes",
            "verifications-ip": "network-entries",
            "codes-address": "address-codes",
        }.get(limit if isinstance(limit, str) else "", "too-many-requests")
    if problem.reason == "code-resend-too-soon":
        # Within the minute after the last code, or the address's five codes are used up.
        wait = retry_after_s(problem)
        return "resend-too-soon" if wait is None or wait <= 60 else "codes-used-up"
    if problem.reason == "too-many-attempts":
        return "too-many-attempts"
    return "too-many-requests"


@router.post("/sign-in")
async def sign_in(
    request: Request, email: FormField, csrf: FormField, next: OptionalField = None
) -> Response:
    if not csrf_valid(request, csrf):
        return bad_form(request)
    target = safe_next(next)
    address = email.strip()[:MAX_FIELD]
    if "@" not in address:
        return personal(
            render(request, "sign_in.html", 422, next=target, error="not-an-address", email=address)
        )
    try:
        await site_of(request).services.request_code(address, _client(request))
    except Problem as problem:
        refused = "not-an-address" if problem.status == 422 else "refused"
        error = _limit_refused(problem) or refused
        page = render(
            request,
            "sign_in.html",
            problem.status,
            next=target,
            error=error,
            email=address,
            retry_after=retry_after_s(problem),
        )
        return personal(page)
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


def _code_page(request: Request, status_code: int = 200, **context: object) -> Response:
    context.setdefault("error", None)
    context.setdefault("already", voter_signed_in(request))
    return personal(render(request, "code.html", status_code, **context))


@router.get("/sign-in/code")
async def code_page(request: Request, next: str | None = None) -> Response:
    address = _remembered_address(request)
    if address is None:
        # Signed in meanwhile (by the code, in another tab): go on to the page it was for.
        if voter_signed_in(request):
            return redirect(request, safe_next(next))
        return redirect(request, f"/sign-in?next={safe_next(next)}")
    return _code_page(request, next=safe_next(next), email=address)


@router.post("/sign-in/code")
async def enter_code(
    request: Request, code: FormField, csrf: FormField, next: OptionalField = None
) -> Response:
    if not csrf_valid(request, csrf):
        return bad_form(request)
    target = safe_next(next)
    address = _remembered_address(request)
    if address is None:
        # The code was entered in another tab of this browser, which is signed in now: the
        # page this one was for, rather than an empty sign-in form.
        if voter_signed_in(request):
            return redirect(request, target)
        return redirect(request, f"/sign-in?next={target}")
    typed = code.strip()[:32]
    digits = "".join(ch for ch in typed if ch not in " -")
    if not (digits.isdecimal() and len(digits) == 6):
        return _code_page(request, 422, next=target, email=address, error="not-six-digits")
    try:
        token = await site_of(request).services.verify_code(address, digits, _client(request))
    except Problem as problem:
        error = _limit_refused(problem) or {
            400: "incorrect",
            409: "already-used",
            410: "expired",
        }.get(problem.status, "not-six-digits" if problem.status == 422 else "refused")
        return _code_page(
            request,
            problem.status,
            next=target,
            email=address,
            error=error,
            attempts_left=problem.body.get("attempts_left"),
            retry_after=retry_after_s(problem),
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
        return _code_page(
            request,
            problem.status,
            next=target,
            email=address,
            error=_limit_refused(problem) or "not-sent",
            retry_after=retry_after_s(problem),
        )
    return _code_page(request, next=target, email=address, resent=True)


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
    services = site_of(request).services
    results = await services.results(edition.year, chosen_category)
    ranked = sorted(results.nominees, key=lambda n: (-(n.votes or 0), n.nominee.title))
    # After the close, the published totals: every valid vote, those for nominations withdrawn
    # during the vote included (they are not on the ballot any more, so not in the results).
    decided = None
    if results.counts_public and edition.phase.order > Phase.VOTING.order:
        decided = next(
            (c for c in await services.champions(edition.year) if c.category == chosen_category),
            None,
        )
    return render(
        request,
        "results.html",
        edition=edition,
        category=chosen_category,
        results=results,
        nominees=ranked if results.counts_public else results.nominees,
        decided=decided,
        Phase=Phase,
    )


@router.get("/results/{year}/{category}/bulletin")
async def bulletin_page(request: Request, year: str, category: str) -> Response:
    """The published list of votes of a category: per project its count and whether it was
    withdrawn, the salt, how to check a receipt (a form does it here), the JSON to download."""
    return await _bulletin_page(request, year, category, "")


@router.post("/results/{year}/{category}/bulletin")
async def check_receipt(
    request: Request, year: str, category: str, csrf: FormField, receipt: OptionalField = None
) -> Response:
    """A receipt number checked in the list: posted, so it stays out of addresses and logs
    (a receipt is its voter's secret); nothing changes, so the answer is the page itself."""
    if not csrf_valid(request, csrf):
        return bad_form(request)
    return personal(await _bulletin_page(request, year, category, (receipt or "").strip()[:64]))


async def _bulletin_page(request: Request, year: str, category: str, typed: str) -> Response:
    chosen_category = parse_category(category)
    edition = await edition_or_none(request, year)
    if edition is None or chosen_category is None:
        return not_found(request)
    state, bulletin = await site_of(request).services.bulletin(edition.year, chosen_category)
    titles = (
        await _titles(request, edition.year, {line.entry_id for line in bulletin.lines})
        if bulletin
        else {}
    )
    checked = bulletin.find(typed) if bulletin and typed else None
    return render(
        request,
        "bulletin.html",
        edition=edition,
        category=chosen_category,
        bulletin_state=state,
        bulletin=bulletin,
        titles=titles,
        typed=typed,
        checked=checked,
        Phase=Phase,
    )


async def _from_voting(
    request: Request, path: str, headers: dict[str, str], *, retry_after: int
) -> httpx.Response | Response:
    """An answer of the voting service opened as a stream, to relay byte for byte from this
    origin; a 503 page when the service cannot be reached."""
    services = site_of(request).services
    upstream = services.http.build_request(
        "GET", services.urls["voting"] + path, headers=headers | {"Accept-Encoding": "identity"}
    )
    try:
        return await services.http.send(upstream, stream=True)
    except httpx.TransportError:
        return Response(status_code=503, headers={"Retry-After": str(retry_after)})


async def _relayed(answer: httpx.Response, *, end_quietly: bool) -> AsyncIterator[bytes]:
    try:
        async for chunk in answer.aiter_bytes():
            yield chunk
    except httpx.HTTPError:
        if not end_quietly:
            raise
    finally:
        await answer.aclose()


@router.get("/results/{year}/{category}/bulletin.json")
async def bulletin_download(request: Request, year: str, category: str) -> Response:
    """The voting service's bulletin, relayed as it comes (streamed: 13 MB for 200,000 votes),
    with its ETag and caching rules, so the browser never talks to another host."""
    number, chosen_category = parse_year(year), parse_category(category)
    if number is None or chosen_category is None:
        return not_found(request)
    headers = {}
    if "if-none-match" in request.headers:
        headers["If-None-Match"] = request.headers["if-none-match"]
    answer = await _from_voting(
        request, f"/editions/{number}/bulletins/{chosen_category.value}", headers, retry_after=10
    )
    if isinstance(answer, Response):
        return answer
    kept = {
        name: answer.headers[name] for name in ("etag", "cache-control") if name in answer.headers
    }
    if answer.status_code != 200:
        await answer.aclose()
        if answer.status_code == 304:
            return Response(status_code=304, headers=kept)
        return not_found(request)

    filename = f"wsis-{number}-{chosen_category.value}-bulletin.json"
    return StreamingResponse(
        # A download cut short fails as a whole, never as a shorter file that looks complete.
        _relayed(answer, end_quietly=False),
        media_type="application/json",
        headers=kept | {"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/live/{year}/{category}")
async def live_results(request: Request, year: str, category: str) -> Response:
    """The voting service's Server-Sent Events, relayed byte for byte from this origin."""
    number, chosen_category = parse_year(year), parse_category(category)
    if number is None or chosen_category is None:
        return Response(status_code=404)
    answer = await _from_voting(
        request,
        f"/editions/{number}/results/{chosen_category.value}/stream",
        {"Accept": "text/event-stream"},
        retry_after=5,
    )
    if isinstance(answer, Response):
        return answer
    if answer.status_code != 200:
        await answer.aclose()
        return Response(status_code=answer.status_code)

    return StreamingResponse(
        # Cut short, the stream just ends: the browser's EventSource reconnects by itself.
        _relayed(answer, end_quietly=True),
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
