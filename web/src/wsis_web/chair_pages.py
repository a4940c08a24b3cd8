"""The chair's pages: the ranking of each category with its normalised scores and disagreement
flags, nominations one by one and in bulk (each with a confirmation step), the assignment
overview with "run assignment", and the selection of each category's winner among the finalists.

Every page asks the review service with the chair's own token, so its role and phase rules apply
unchanged; a refusal is explained where it happened. Every form works without JavaScript
(POST-redirect-GET, or an answer page for a one-off report such as an assignment run).
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any, Final
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from wsis_shared.vocabulary import Category, Phase
from wsis_web.accounts import Chair, SignedIn
from wsis_web.rendering import (
    bad_form,
    csrf_valid,
    edition_or_none,
    not_found,
    parse_category,
    redirect,
    render,
    site_of,
)
from wsis_web.services import Edition, Problem

router = APIRouter(prefix="/chair")
FormField = Annotated[str, Form()]
OptionalField = Annotated[str, Form()]
MAX_REASON: Final = 2000
MAX_ID: Final = 200
DEFAULT_TOP: Final = 5
IN_REVIEW: Final = frozenset({"eligible", "nominated", "not_nominated"})  # found eligible


# --- helpers shared with the admin pages ---------------------------------------------------------


def refusal(problem: Problem) -> dict[str, Any]:
    """What a page shows of a service's refusal: the reason code (explained by the template in
    the reader's language), the service's own detail (in English, marked so), and the invalid
    fields by name (the last part of each JSON pointer or parameter)."""
    fields: dict[str, str] = {}
    for error in problem.body.get("errors", []) or []:
        if not isinstance(error, dict):
            continue
        where = str(error.get("pointer") or error.get("parameter") or "")
        name = where.rstrip("/").rsplit("/", 1)[-1] if where else ""
        fields.setdefault(name, str(error.get("detail", "")))
    detail = problem.body.get("detail")
    return {
        "status": problem.status,
        "code": problem.reason,
        "detail": detail if isinstance(detail, str) else "",
        "fields": fields,
    }


async def get_json(
    request: Request, person: SignedIn, service: str, path: str, **params: Any
) -> Any:
    response = await site_of(request).services.call(
        "GET", service, path, token=person.token, params=params or None
    )
    return response.json()


async def optional_json(
    request: Request, person: SignedIn, service: str, path: str, default: Any, **params: Any
) -> Any:
    """The answer, or `default` when the service has nothing yet (404: an edition the review
    service has not heard of, say)."""
    try:
        return await get_json(request, person, service, path, **params)
    except Problem as problem:
        if problem.status == 404:
            return default
        raise


def here(path: str, **query: str | int | None) -> str:
    kept = {k: v for k, v in query.items() if v not in (None, "")}
    return f"{path}?{urlencode(kept)}" if kept else path


# --- the chair's home -------------------------------------------------------------------------


@router.get("")
async def chair_home(request: Request, person: Chair) -> Response:
    editions = sorted(await site_of(request).services.editions(), key=lambda e: -e.year)
    return render(request, "chair/index.html", editions=editions, Phase=Phase)


# --- ranking and nominations ------------------------------------------------------------------


async def _ranking(
    request: Request, person: SignedIn, year: int, category: Category
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await optional_json(
        request,
        person,
        "review",
        f"/editions/{year}/ranking",
        [],
        category=category.value,
    )
    return rows


async def _threshold(request: Request, person: SignedIn, year: int) -> float | None:
    settings = await optional_json(
        request, person, "review", f"/editions/{year}/review-settings", None
    )
    if not isinstance(settings, dict):
        return None
    value = settings.get("rules", {}).get("disagreement_threshold")
    return float(value) if isinstance(value, int | float) else None


def _chosen_category(edition: Edition, value: str | None) -> Category | None:
    if not edition.categories:
        return None
    if value is None or value == "":
        return edition.categories[0]
    category = parse_category(value)
    return category if category in edition.categories else None


async def _ranking_page(
    request: Request,
    person: SignedIn,
    edition: Edition,
    category: Category,
    *,
    status_code: int = 200,
    bulk: dict[str, str] | None = None,
    bulk_errors: dict[str, str] | None = None,
    problem: dict[str, Any] | None = None,
) -> Response:
    rows = await _ranking(request, person, edition.year, category)
    counts = Counter(row["candidate"]["status"] for row in rows)
    ranked = {row["candidate"]["entry"]["entry_id"] for row in rows}
    # Entries outside the ranking: eligibility not decided yet, not eligible, withdrawn.
    others = [
        c
        for c in await optional_json(
            request,
            person,
            "review",
            f"/editions/{edition.year}/candidates",
            [],
            category=category.value,
        )
        if c["entry"]["entry_id"] not in ranked
    ]
    query = request.query_params
    return render(
        request,
        "chair/ranking.html",
        status_code,
        edition=edition,
        category=category,
        rows=rows,
        others=others,
        counts=counts,
        threshold=await _threshold(request, person, edition.year),
        bulk=bulk or {"top": str(DEFAULT_TOP), "min_score": "", "scope": "category", "reason": ""},
        bulk_errors=bulk_errors or {},
        problem=problem,
        done=query.get("done"),
        done_entry=query.get("entry"),
        done_count=query.get("count"),
        Phase=Phase,
    )


@router.get("/{year}")
async def ranking_page(
    request: Request, person: Chair, year: str, category: str | None = None
) -> Response:
    edition = await edition_or_none(request, year)
    if edition is None:
        return not_found(request)
    chosen = _chosen_category(edition, category)
    if chosen is None:
        return not_found(request)
    return await _ranking_page(request, person, edition, chosen)


def _row_of(rows: list[dict[str, Any]], entry_id: str) -> dict[str, Any] | None:
    return next((r for r in rows if r["candidate"]["entry"]["entry_id"] == entry_id), None)


@router.get("/{year}/nominate/{entry_id}")
async def nominate_page(
    request: Request, person: Chair, year: str, entry_id: str, category: str = ""
) -> Response:
    edition = await edition_or_none(request, year)
    chosen = _chosen_category(edition, category) if edition else None
    if edition is None or chosen is None:
        return not_found(request)
    row = _row_of(await _ranking(request, person, edition.year, chosen), entry_id)
    if row is None:
        return not_found(request)
    decision = request.query_params.get("decision", "yes")
    return render(
        request,
        "chair/nominate.html",
        edition=edition,
        category=chosen,
        row=row,
        values={"decision": decision if decision in ("yes", "no") else "yes", "reason": ""},
        problem=None,
        threshold=await _threshold(request, person, edition.year),
    )


@router.post("/{year}/nominate/{entry_id}")
async def nominate(
    request: Request,
    person: Chair,
    year: str,
    entry_id: str,
    csrf: FormField,
    category: FormField,
    decision: FormField,
    reason: OptionalField = "",
) -> Response:
    edition = await edition_or_none(request, year)
    chosen = _chosen_category(edition, category) if edition else None
    if edition is None or chosen is None:
        return not_found(request)
    if not csrf_valid(request, csrf):
        return bad_form(request)
    values = {"decision": decision, "reason": reason}
    problem: dict[str, Any] | None = None
    if decision not in ("yes", "no"):
        problem = {"status": 422, "code": "", "detail": "", "fields": {"nominated": ""}}
    elif len(reason) > MAX_REASON:
        problem = {"status": 422, "code": "", "detail": "", "fields": {"reason": ""}}
    else:
        body: dict[str, Any] = {"nominated": decision == "yes"}
        if reason.strip():
            body["reason"] = reason.strip()
        try:
            await site_of(request).services.call(
                "POST",
                "review",
                f"/candidates/{quote(entry_id[:MAX_ID], safe='')}/nomination",
                token=person.token,
                json=body,
            )
        except Problem as refused:
            if refused.status not in (409, 422):
                raise
            problem = refusal(refused)
    if problem is not None:
        row = _row_of(await _ranking(request, person, edition.year, chosen), entry_id)
        if row is None:
            return not_found(request)
        return render(
            request,
            "chair/nominate.html",
            int(problem["status"]),
            edition=edition,
            category=chosen,
            row=row,
            values=values,
            problem=problem,
            threshold=await _threshold(request, person, edition.year),
        )
    done = "nominated" if decision == "yes" else "not-nominated"
    return redirect(
        request,
        here(f"/chair/{edition.year}", category=chosen.value, done=done, entry=entry_id[:MAX_ID])
        + f"#entry-{entry_id[:MAX_ID]}",
    )


def _bulk_body(
    edition: Edition, category: Category, top: str, min_score: str, scope: str, reason: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """The bulk nomination asked for, or the fields at fault (checked again by the service)."""
    errors: dict[str, str] = {}
    body: dict[str, Any] = {}
    top, min_score = top.strip(), min_score.strip().replace(",", ".").replace("−", "-")
    if top:
        if not top.isdecimal() or not 1 <= int(top) <= 1000:
            errors["top"] = "range"
        else:
            body["top_per_category"] = int(top)
    if min_score:
        try:
            score = float(min_score)
        except ValueError:
            errors["min_score"] = "number"
        else:
            if not -10 <= score <= 10:
                errors["min_score"] = "number"
            else:
                body["min_normalised_score"] = score
    if not top and not min_score:
        errors["top"] = "one-of"
    if scope not in ("category", "all"):
        errors["scope"] = "choose"
    if len(reason) > MAX_REASON:
        errors["reason"] = "long"
    body["categories"] = (
        [category.value] if scope == "category" else [c.value for c in edition.categories]
    )
    if reason.strip():
        body["reason"] = reason.strip()
    return body, errors


_BULK_FIELDS: Final = {
    "top_per_category": "top",
    "min_normalised_score": "min_score",
    "categories": "scope",
    "reason": "reason",
}


@router.post("/{year}/nominations")
async def nominate_in_bulk(
    request: Request,
    person: Chair,
    year: str,
    csrf: FormField,
    category: FormField,
    top: OptionalField = "",
    min_score: OptionalField = "",
    scope: OptionalField = "category",
    reason: OptionalField = "",
    confirmed: OptionalField = "",
) -> Response:
    """Without `confirmed`: a dry run, shown for confirmation; with it: the nominations."""
    edition = await edition_or_none(request, year)
    chosen = _chosen_category(edition, category) if edition else None
    if edition is None or chosen is None:
        return not_found(request)
    if not csrf_valid(request, csrf):
        return bad_form(request)
    values = {"top": top, "min_score": min_score, "scope": scope, "reason": reason}
    body, errors = _bulk_body(edition, chosen, top, min_score, scope, reason)
    if errors:
        return await _ranking_page(
            request, person, edition, chosen, status_code=422, bulk=values, bulk_errors=errors
        )
    dry_run = confirmed != "yes"
    try:
        response = await site_of(request).services.call(
            "POST",
            "review",
            f"/editions/{edition.year}/nominations",
            token=person.token,
            json=body | {"dry_run": dry_run},
        )
    except Problem as refused:
        if refused.status not in (409, 422):
            raise
        problem = refusal(refused)
        at_fault = {
            _BULK_FIELDS[name]: "service" for name in problem["fields"] if name in _BULK_FIELDS
        }
        return await _ranking_page(
            request,
            person,
            edition,
            chosen,
            status_code=refused.status,
            bulk=values,
            bulk_errors=at_fault,
            problem=problem,
        )
    chosen_entries: list[dict[str, Any]] = response.json()["nominated"]
    if dry_run:
        return render(
            request,
            "chair/bulk_confirm.html",
            edition=edition,
            category=chosen,
            values=values,
            entries=chosen_entries,
        )
    return redirect(
        request,
        here(
            f"/chair/{edition.year}",
            category=chosen.value,
            done="bulk",
            count=len(chosen_entries),
        ),
    )


# --- assignment overview --------------------------------------------------------------------


async def _assignment_page(
    request: Request,
    person: SignedIn,
    edition: Edition,
    *,
    status_code: int = 200,
    run: dict[str, Any] | None = None,
    problem: dict[str, Any] | None = None,
) -> Response:
    year = edition.year
    empty_progress: dict[str, Any] = {"by_reviewer": {}, "by_category": {}}
    progress = await optional_json(
        request, person, "review", f"/editions/{year}/progress", empty_progress
    )
    reviewers = {
        r["reviewer_id"]: r for r in await get_json(request, person, "review", "/reviewers")
    }
    assignments = await optional_json(
        request, person, "review", f"/editions/{year}/assignments", []
    )
    candidates = await optional_json(request, person, "review", f"/editions/{year}/candidates", [])
    settings = await optional_json(
        request, person, "review", f"/editions/{year}/review-settings", None
    )
    k = int(settings["rules"]["reviewers_per_entry"]) if isinstance(settings, dict) else None
    active = Counter(a["entry_id"] for a in assignments if a["status"] == "active")
    titles = {c["entry"]["entry_id"]: c["entry"]["title"] for c in candidates}
    unfilled = (
        [
            {
                "entry_id": c["entry"]["entry_id"],
                "title": c["entry"]["title"],
                "category": c["entry"]["category"],
                "has": active[c["entry"]["entry_id"]],
                "missing": k - active[c["entry"]["entry_id"]],
            }
            for c in candidates
            if c["status"] == "eligible" and active[c["entry"]["entry_id"]] < k
        ]
        if k is not None
        else []
    )
    loads = run["loads"] if run else {}
    by_reviewer = [
        {
            "reviewer_id": reviewer_id,
            "name": counts.get("name") or reviewers.get(reviewer_id, {}).get("name"),
            "max_load": reviewers.get(reviewer_id, {}).get("max_load"),
            **{key: counts[key] for key in ("assigned", "submitted", "drafts", "pending")},
            "declined": counts["declined"],
        }
        for reviewer_id, counts in sorted(progress["by_reviewer"].items())
    ]
    return render(
        request,
        "chair/assignments.html",
        status_code,
        edition=edition,
        by_reviewer=by_reviewer,
        unfilled=unfilled,
        reviewers_per_entry=k,
        eligible=sum(1 for c in candidates if c["status"] in IN_REVIEW),
        run=run,
        loads=loads,
        titles=titles,
        problem=problem,
        Phase=Phase,
    )


@router.get("/{year}/assignments")
async def assignments_page(request: Request, person: Chair, year: str) -> Response:
    edition = await edition_or_none(request, year)
    if edition is None:
        return not_found(request)
    return await _assignment_page(request, person, edition)


@router.post("/{year}/assignments")
async def run_assignment(request: Request, person: Chair, year: str, csrf: FormField) -> Response:
    """Runs the solver and answers with its report (a re-run only fills gaps, so a reload that
    posts again changes nothing that should not change)."""
    edition = await edition_or_none(request, year)
    if edition is None:
        return not_found(request)
    if not csrf_valid(request, csrf):
        return bad_form(request)
    try:
        response = await site_of(request).services.call(
            "POST", "review", f"/editions/{edition.year}/assignments/run", token=person.token
        )
    except Problem as refused:
        if refused.status not in (404, 409, 422):
            raise
        return await _assignment_page(
            request, person, edition, status_code=refused.status, problem=refusal(refused)
        )
    return await _assignment_page(request, person, edition, run=response.json())


# --- winners --------------------------------------------------------------------------------


async def _winners_page(
    request: Request,
    person: SignedIn,
    edition: Edition,
    *,
    status_code: int = 200,
    problem: dict[str, Any] | None = None,
    problem_category: str | None = None,
) -> Response:
    year = edition.year
    finalists = await optional_json(request, person, "review", f"/editions/{year}/finalists", [])
    candidates = await optional_json(request, person, "review", f"/editions/{year}/candidates", [])
    entries = {c["entry"]["entry_id"]: c["entry"] for c in candidates}
    query = request.query_params
    return render(
        request,
        "chair/winners.html",
        status_code,
        edition=edition,
        finalists=finalists,
        entries=entries,
        problem=problem,
        problem_category=problem_category,
        done_category=query.get("done"),
        Phase=Phase,
    )


@router.get("/{year}/winners")
async def winners_page(request: Request, person: Chair, year: str) -> Response:
    edition = await edition_or_none(request, year)
    if edition is None:
        return not_found(request)
    return await _winners_page(request, person, edition)


@router.post("/{year}/winners/{category}")
async def select_winner(
    request: Request,
    person: Chair,
    year: str,
    category: str,
    csrf: FormField,
    entry_id: OptionalField = "",
    confirmed: OptionalField = "",
) -> Response:
    """Without `confirmed`: the confirmation page; with it: the selection (final)."""
    edition = await edition_or_none(request, year)
    chosen = parse_category(category)
    if edition is None or chosen is None:
        return not_found(request)
    if not csrf_valid(request, csrf):
        return bad_form(request)
    if not entry_id:
        problem = {"status": 422, "code": "choose", "detail": "", "fields": {"entry_id": ""}}
        return await _winners_page(
            request, person, edition, status_code=422, problem=problem, problem_category=category
        )
    if confirmed != "yes":
        finalists = await optional_json(
            request, person, "review", f"/editions/{edition.year}/finalists", []
        )
        found = next((f for f in finalists if f["category"] == chosen.value), None)
        finalist = (
            next((f for f in found["finalists"] if f["entry_id"] == entry_id), None)
            if found
            else None
        )
        if found is None or finalist is None:
            return not_found(request)
        candidates = await optional_json(
            request, person, "review", f"/editions/{edition.year}/candidates", []
        )
        entries = {c["entry"]["entry_id"]: c["entry"] for c in candidates}
        return render(
            request,
            "chair/winner_confirm.html",
            edition=edition,
            category=chosen,
            finalist=finalist,
            others=[f for f in found["finalists"] if f["entry_id"] != entry_id],
            entries=entries,
        )
    try:
        await site_of(request).services.call(
            "POST",
            "review",
            f"/editions/{edition.year}/categories/{chosen.value}/winner",
            token=person.token,
            json={"entry_id": entry_id[:100]},
        )
    except Problem as refused:
        if refused.status not in (404, 409, 422):
            raise
        return await _winners_page(
            request,
            person,
            edition,
            status_code=refused.status,
            problem=refusal(refused),
            problem_category=chosen.value,
        )
    return redirect(
        request, here(f"/chair/{edition.year}/winners", done=chosen.value) + f"#{chosen.value}"
    )
