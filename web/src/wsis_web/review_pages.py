"""The reviewers' pages: their assignments per edition with their progress, one assignment with
the entry, the team's files and the rubric form (save a draft, submit after a confirmation,
read-only once submitted), and giving an assignment back — declined with a reason or a declared
conflict of interest — after a confirmation step. Every form works without JavaScript
(POST-redirect-GET); `review.js` only adds a draft autosave.

Every call goes to the review service with the reviewer's own token: the service decides what
they may see and do (another reviewer's assignment is a 404, a closed review a 409). The team's
files come from the submissions service, with the same token, and only for an entry the review
service lists as the reviewer's: each opens through this site (the browser never meets the
service), by a signed link asked for when the reviewer clicks, so a page left open for hours
still opens them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Final, Literal
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response
from pydantic import TypeAdapter

from wsis_shared.vocabulary import Phase
from wsis_web.accounts import Reviewer, SignedIn
from wsis_web.rendering import (
    bad_form,
    csrf_valid,
    not_found,
    parse_year,
    redirect,
    render,
    site_of,
)
from wsis_web.services import Answer, Edition, Problem, Unavailable

router = APIRouter(prefix="/review")
FormField = Annotated[str, Form()]

RECOMMENDATIONS: Final = ("nominate", "consider", "do_not_nominate")
MAX_COMMENT: Final = 5000
MAX_OVERALL: Final = 10000
MAX_REASON: Final = 2000
MIN_REASON: Final = 3
# Editions a reviewer can have assignments in: the review service knows them from this phase on.
REVIEWED_PHASES: Final = frozenset(Phase) - {Phase.PLANNED, Phase.SUBMISSION}


class Criterion(Answer):
    key: str
    name: str
    description: str = ""
    weight: float
    scale_min: int
    scale_max: int


class Rubric(Answer):
    criteria: tuple[Criterion, ...]

    def criterion_of(self, key: str) -> Criterion | None:
        return next((c for c in self.criteria if c.key == key), None)


class Rules(Answer):
    blind: bool = False
    reviewers_per_entry: int = 3


class ReviewSettings(Answer):
    year: int
    phase: Phase
    review_closes: datetime | None
    rules: Rules
    rubric: Rubric


class CriterionScore(Answer):
    score: int | None = None
    comment: str | None = None


class MyReview(Answer):
    scores: dict[str, CriterionScore] = {}
    overall_comment: str | None = None
    recommendation: str | None = None
    status: Literal["draft", "submitted"]
    updated_at: datetime
    submitted_at: datetime | None = None


class MyAssignment(Answer):
    entry: dict[str, Any]
    blind: bool
    assigned_at: datetime
    review_status: Literal["draft", "submitted"] | None
    review: MyReview | None

    @property
    def entry_id(self) -> str:
        return str(self.entry.get("entry_id", ""))

    @property
    def title(self) -> str:
        return str(self.entry.get("title", ""))


_ASSIGNMENTS = TypeAdapter(list[MyAssignment])


class TeamFile(Answer):
    """One of the entry's attachments, as the submissions service lists them for reviewers."""

    attachment_id: str
    filename: str
    content_type: str
    size: int


_FILES = TypeAdapter(list[TeamFile])


@dataclass(frozen=True)
class Progress:
    assigned: int
    submitted: int
    drafts: int
    not_started: int

    @classmethod
    def of(cls, assignments: list[MyAssignment]) -> Progress:
        statuses = [a.review_status for a in assignments]
        return cls(
            assigned=len(statuses),
            submitted=statuses.count("submitted"),
            drafts=statuses.count("draft"),
            not_started=statuses.count(None),
        )


@dataclass
class FormState:
    """What the rubric form shows: the values (as typed, so a mistake can be corrected) and
    each field's error, keyed by the field's id."""

    scores: dict[str, str] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    overall_comment: str = ""
    recommendation: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    problem: str | None = None  # a refusal that belongs to no field: "phase-closed", …

    @classmethod
    def of(cls, review: MyReview | None) -> FormState:
        if review is None:
            return cls()
        return cls(
            scores={k: "" if v.score is None else str(v.score) for k, v in review.scores.items()},
            comments={k: v.comment or "" for k, v in review.scores.items()},
            overall_comment=review.overall_comment or "",
            recommendation=review.recommendation or "",
        )


async def _my_assignments(request: Request, person: SignedIn, year: int) -> list[MyAssignment]:
    response = await site_of(request).services.call(
        "GET", "review", "/me/assignments", token=person.token, params={"year": year}
    )
    return _ASSIGNMENTS.validate_json(response.content)


async def _assignments_or_none(
    request: Request, person: SignedIn, year: int
) -> list[MyAssignment] | None:
    """None when the review service does not know the edition (yet)."""
    try:
        return await _my_assignments(request, person, year)
    except Problem as problem:
        if problem.status == 404:
            return None
        raise


async def _settings(request: Request, person: SignedIn, year: int) -> ReviewSettings:
    response = await site_of(request).services.call(
        "GET", "review", f"/editions/{year}/review-settings", token=person.token
    )
    return ReviewSettings.model_validate_json(response.content)


async def _edition(request: Request, year: int) -> Edition | None:
    """The edition's public record, for its title and dates (None if the service lacks it)."""
    try:
        return await site_of(request).services.edition(year)
    except Problem:
        return None


@dataclass(frozen=True)
class Place:
    """One assignment with what its page needs around it."""

    year: int
    assignment: MyAssignment
    settings: ReviewSettings
    edition: Edition | None
    position: int
    total: int
    next_open: MyAssignment | None


async def _place(request: Request, person: SignedIn, year_text: str, entry_id: str) -> Place | None:
    """The reviewer's assignment of this entry in this edition, or None: a missing edition, an
    entry not assigned to them (another reviewer's looks the same) or one they gave back."""
    year = parse_year(year_text)
    if year is None or not entry_id or len(entry_id) > 100:
        return None
    assignments = await _assignments_or_none(request, person, year)
    if assignments is None:
        return None
    position = next((i for i, a in enumerate(assignments) if a.entry_id == entry_id), None)
    if position is None:
        return None
    settings, edition = await asyncio.gather(
        _settings(request, person, year), _edition(request, year)
    )
    later = assignments[position + 1 :] + assignments[:position]
    return Place(
        year=year,
        assignment=assignments[position],
        settings=settings,
        edition=edition,
        position=position + 1,
        total=len(assignments),
        next_open=next((a for a in later if a.review_status != "submitted"), None),
    )


async def _team_files(request: Request, person: SignedIn, entry_id: str) -> list[TeamFile] | None:
    """The entry's files; None when the submissions service cannot say just now (the page still
    serves the review, which needs only the review service). An entry it does not know as
    submitted has none to read."""
    try:
        response = await site_of(request).services.call(
            "GET",
            "submissions",
            f"/entries/{quote(entry_id, safe='')}/attachments",
            token=person.token,
        )
    except Problem as problem:
        if problem.status == 404:
            return []
        return None
    except Unavailable:
        return None
    return _FILES.validate_json(response.content)


def _here(place: Place) -> str:
    return f"/review/{place.year}/{quote(place.assignment.entry_id, safe='')}"


def _is_open(place: Place) -> bool:
    return place.settings.phase is Phase.REVIEW


# -- the list ---------------------------------------------------------------------------------


@router.get("")
async def my_assignments(request: Request, person: Reviewer) -> Response:
    site = site_of(request)
    editions = sorted(
        (e for e in await site.services.editions() if e.phase in REVIEWED_PHASES),
        key=lambda e: -e.year,
    )
    found = await asyncio.gather(*(_assignments_or_none(request, person, e.year) for e in editions))
    mine = [(e, a) for e, a in zip(editions, found, strict=True) if a]
    asked = parse_year(request.query_params.get("year", ""))
    chosen = next((pair for pair in mine if pair[0].year == asked), None)
    if chosen is None:
        # The edition under review first, then the latest with assignments.
        chosen = next((pair for pair in mine if pair[0].phase is Phase.REVIEW), None) or (
            mine[0] if mine else None
        )
    edition, assignments = chosen if chosen else (None, [])
    done = request.query_params.get("done")
    return render(
        request,
        "review/index.html",
        editions=[e for e, _ in mine],
        edition=edition,
        assignments=assignments,
        progress=Progress.of(assignments),
        done=done if done in ("declined", "conflict") else None,
        Phase=Phase,
    )


# -- one assignment: the entry and the rubric form ---------------------------------------------


async def _page(
    request: Request,
    place: Place,
    state: FormState,
    status_code: int = 200,
    *,
    person: SignedIn,
    **extra: Any,
) -> Response:
    files = await _team_files(request, person, place.assignment.entry_id)
    review = place.assignment.review
    submitted = review is not None and review.status == "submitted"
    editing = _is_open(place) and (not submitted or extra.pop("edit", False))
    return render(
        request,
        "review/assignment.html",
        status_code,
        place=place,
        assignment=place.assignment,
        entry=place.assignment.entry,
        criteria=place.settings.rubric.criteria,
        review=review,
        submitted=submitted,
        editing=editing,
        state=state,
        here=_here(place),
        recommendations=RECOMMENDATIONS,
        max_comment=MAX_COMMENT,
        max_overall=MAX_OVERALL,
        files=files,
        Phase=Phase,
        **extra,
    )


@router.get("/{year}/{entry_id}")
async def assignment_page(request: Request, person: Reviewer, year: str, entry_id: str) -> Response:
    place = await _place(request, person, year, entry_id)
    if place is None:
        return not_found(request)
    flash = request.query_params.get("done")
    return await _page(
        request,
        place,
        FormState.of(place.assignment.review),
        person=person,
        edit=request.query_params.get("edit") == "1",
        flash=flash if flash in ("saved", "corrected", "submitted") else None,
    )


@router.get("/{year}/{entry_id}/attachments/{attachment_id}")
async def team_file(
    request: Request, person: Reviewer, year: str, entry_id: str, attachment_id: str
) -> Response:
    """One of the team's files, relayed: a fresh signed link (the service checks the entry is
    submitted and has the file), then the file through it."""
    place = await _place(request, person, year, entry_id)
    if place is None or not attachment_id or len(attachment_id) > 100:
        return not_found(request)
    services = site_of(request).services
    try:
        link = await services.call(
            "POST",
            "submissions",
            f"/entries/{quote(place.assignment.entry_id, safe='')}/attachments/"
            f"{quote(attachment_id, safe='')}/link",
            token=person.token,
        )
        # The link names the service as this site reached it; the token is what counts.
        token = urlsplit(str(link.json()["url"])).path.rsplit("/", 1)[-1]
        response = await services.call("GET", "submissions", f"/attachments/{quote(token)}")
    except Problem as problem:
        if problem.status == 404:
            return not_found(request)
        raise
    return Response(
        response.content,
        media_type=response.headers.get("content-type", "application/octet-stream"),
        headers={
            "Content-Disposition": response.headers.get("content-disposition", "attachment"),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


def _changes(form: dict[str, str], place: Place, state: FormState) -> dict[str, Any]:
    """The PATCH body the form asks for: every criterion (the form shows them all, so a cleared
    field clears the score). A score the reviewer typed goes as typed when it is not a whole
    number, so the service's own check answers for it."""
    scores: dict[str, Any] = {}
    for criterion in place.settings.rubric.criteria:
        typed = form.get(f"score-{criterion.key}", "").strip()[:20]
        comment = form.get(f"comment-{criterion.key}", "").strip()
        state.scores[criterion.key] = typed
        state.comments[criterion.key] = comment
        number: int | str | None = None
        if typed:
            try:
                number = int(typed)  # ٣ and ३ too
            except ValueError:  # "--5", "seven": as typed, the service names the problem
                number = typed
        scores[criterion.key] = {"score": number, "comment": comment or None}
    state.overall_comment = form.get("overall_comment", "").strip()
    state.recommendation = form.get("recommendation", "")
    body: dict[str, Any] = {"scores": scores, "overall_comment": state.overall_comment}
    if state.recommendation:
        body["recommendation"] = state.recommendation
    return body


def _field_errors(problem: Problem, place: Place, state: FormState) -> None:
    """The service's 422, each error at its field (by its JSON pointer), in the page's words
    (the template writes them; here only which field and what kind)."""
    for error in problem.body.get("errors") or []:
        pointer = str(error.get("pointer", "")) if isinstance(error, dict) else ""
        parts = pointer.strip("/").split("/")
        if len(parts) >= 2 and parts[0] == "scores":
            key = parts[1]
            if place.settings.rubric.criterion_of(key) is None:
                state.problem = state.problem or "invalid"
            elif len(parts) >= 3 and parts[2] == "comment":
                state.errors.setdefault(f"comment-{key}", "comment-too-long")
            else:
                kind = "score-invalid" if state.scores.get(key) else "score-missing"
                state.errors.setdefault(f"score-{key}", kind)
        elif parts[0] == "recommendation":
            state.errors.setdefault("recommendation", "recommendation")
        elif parts[0] == "overall_comment":
            state.errors.setdefault("overall_comment", "overall-too-long")
        else:
            state.problem = state.problem or "invalid"
    if not state.errors and state.problem is None:
        state.problem = "invalid"


def _refused(problem: Problem, state: FormState) -> None:
    """A 409: the review is closed (or not open yet), or the state changed under the page."""
    state.problem = "phase-closed" if problem.reason == "phase-closed" else "conflict"


def _wants_json(request: Request) -> bool:
    return request.headers.get("x-requested-with") == "review-autosave"


@router.post("/{year}/{entry_id}")
async def save_review(request: Request, person: Reviewer, year: str, entry_id: str) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    if not csrf_valid(request, form.get("csrf")):
        if _wants_json(request):
            return JSONResponse({"saved": False, "reason": "expired-form"}, status_code=400)
        return bad_form(request)
    place = await _place(request, person, year, entry_id)
    if place is None:
        if _wants_json(request):
            return JSONResponse({"saved": False, "reason": "not-found"}, status_code=404)
        return not_found(request)
    action = form.get("action", "save")
    state = FormState()
    body = _changes(form, place, state)
    try:
        await site_of(request).services.call(
            "PATCH",
            "review",
            f"/me/assignments/{quote(place.assignment.entry_id, safe='')}/review",
            token=person.token,
            json=body,
        )
    except Problem as problem:
        if problem.status == 404:
            return not_found(request)
        if problem.status == 422:
            _field_errors(problem, place, state)
        elif problem.status == 409:
            _refused(problem, state)
        else:
            raise
        if _wants_json(request):
            # The autosave says only that it could not save; the reviewer's own "Save draft"
            # then shows each error at its field.
            return JSONResponse({"saved": False, "reason": state.problem or "invalid"}, 422)
        status = 409 if problem.status == 409 else 422
        return await _page(request, place, state, status, person=person, edit=True)
    if _wants_json(request):
        return JSONResponse({"saved": True})
    if action == "submit":
        return redirect(request, _here(place) + "/submit")
    submitted = place.assignment.review_status == "submitted"
    return redirect(request, _here(place) + ("?done=corrected" if submitted else "?done=saved"))


# -- submitting: a confirmation step, then read-only -------------------------------------------


@router.get("/{year}/{entry_id}/submit")
async def confirm_submit(request: Request, person: Reviewer, year: str, entry_id: str) -> Response:
    place = await _place(request, person, year, entry_id)
    if place is None:
        return not_found(request)
    if place.assignment.review_status == "submitted" or not _is_open(place):
        return redirect(request, _here(place))
    return render(
        request,
        "review/submit.html",
        place=place,
        assignment=place.assignment,
        review=place.assignment.review,
        criteria=place.settings.rubric.criteria,
        here=_here(place),
    )


@router.post("/{year}/{entry_id}/submit")
async def submit_review(
    request: Request, person: Reviewer, year: str, entry_id: str, csrf: FormField
) -> Response:
    if not csrf_valid(request, csrf):
        return bad_form(request)
    place = await _place(request, person, year, entry_id)
    if place is None:
        return not_found(request)
    try:
        await site_of(request).services.call(
            "POST",
            "review",
            f"/me/assignments/{quote(place.assignment.entry_id, safe='')}/review/submit",
            token=person.token,
        )
    except Problem as problem:
        state = FormState.of(place.assignment.review)
        if problem.status == 404:
            return not_found(request)
        if problem.status == 422:
            _field_errors(problem, place, state)
        elif problem.status == 409:
            _refused(problem, state)
        else:
            raise
        return await _page(request, place, state, problem.status, person=person, edit=True)
    return redirect(request, _here(place) + "?done=submitted")


# -- giving an assignment back ------------------------------------------------------------------


def _decline_page(
    request: Request,
    place: Place,
    status_code: int = 200,
    *,
    kind: str = "",
    reason: str = "",
    error: str | None = None,
    confirming: bool = False,
) -> Response:
    return render(
        request,
        "review/decline.html",
        status_code,
        place=place,
        assignment=place.assignment,
        here=_here(place),
        kind=kind,
        reason=reason,
        error=error,
        confirming=confirming,
        max_reason=MAX_REASON,
    )


@router.get("/{year}/{entry_id}/decline")
async def decline_page(request: Request, person: Reviewer, year: str, entry_id: str) -> Response:
    place = await _place(request, person, year, entry_id)
    if place is None:
        return not_found(request)
    return _decline_page(request, place)


@router.post("/{year}/{entry_id}/decline")
async def decline(
    request: Request,
    person: Reviewer,
    year: str,
    entry_id: str,
    csrf: FormField,
    kind: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    confirmed: Annotated[str, Form()] = "",
) -> Response:
    if not csrf_valid(request, csrf):
        return bad_form(request)
    place = await _place(request, person, year, entry_id)
    if place is None:
        return not_found(request)
    reason = reason.strip()
    if kind not in ("decline", "conflict"):
        return _decline_page(request, place, 422, reason=reason, error="kind")
    if len(reason) < MIN_REASON or len(reason) > MAX_REASON:
        return _decline_page(
            request,
            place,
            422,
            kind=kind,
            reason=reason,
            error="reason-short" if len(reason) < MIN_REASON else "reason-long",
        )
    if confirmed != "yes":
        return _decline_page(request, place, kind=kind, reason=reason, confirming=True)
    quoted = quote(place.assignment.entry_id, safe="")
    try:
        if kind == "decline":
            await site_of(request).services.call(
                "POST",
                "review",
                f"/me/assignments/{quoted}/decline",
                token=person.token,
                json={"reason": reason},
            )
        else:
            await site_of(request).services.call(
                "POST",
                "review",
                "/me/conflicts",
                token=person.token,
                json={"entry_id": place.assignment.entry_id, "note": reason[:1000]},
            )
    except Problem as problem:
        if problem.status == 404:
            return not_found(request)
        if problem.status == 422:
            return _decline_page(request, place, 422, kind=kind, reason=reason, error="reason")
        if problem.status == 409:
            error = "phase-closed" if problem.reason == "phase-closed" else "submitted"
            return _decline_page(request, place, 409, kind=kind, reason=reason, error=error)
        raise
    done = "declined" if kind == "decline" else "conflict"
    return redirect(request, f"/review?year={place.year}&done={done}")
