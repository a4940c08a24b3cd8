"""The admins' pages: editions and their phases (list, create with a schedule, change the title,
the running counts and the dates still to come, move the phase after a confirmation), the import
of reviewers from a CSV file with a report on every row, and the dead letters of the message
broker (counts per topic, the latest, and the replay command to run). Every page asks the
services with the admin's own token; every form works without JavaScript."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from wsis_shared.vocabulary import Category, Phase
from wsis_web.accounts import Admin, SignedIn
from wsis_web.chair_pages import get_json, here, refusal
from wsis_web.rendering import (
    bad_form,
    csrf_valid,
    edition_or_none,
    not_found,
    parse_year,
    redirect,
    render,
    site_of,
)
from wsis_web.services import Edition, Problem, Unavailable

router = APIRouter(prefix="/admin")
FormField = Annotated[str, Form()]
OptionalField = Annotated[str, Form()]
SCHEDULE_FIELDS: Final = (
    "submission_opens",
    "submission_closes",
    "review_closes",
    "voting_opens",
    "voting_closes",
    "results_at",
    "ceremony_at",
)
IMPORT_LIMIT: Final = 2 * 1024 * 1024


@router.get("")
async def admin_home(request: Request, person: Admin) -> Response:
    return render(request, "admin/index.html")


# --- editions -------------------------------------------------------------------------------


def _blank_edition() -> dict[str, Any]:
    return {
        "year": "",
        "title": "",
        **dict.fromkeys(SCHEDULE_FIELDS, ""),
        "categories": [c.value for c in Category],
        "show_running_counts": False,
    }


async def _editions_page(
    request: Request,
    *,
    status_code: int = 200,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    problem: dict[str, Any] | None = None,
) -> Response:
    editions = sorted(await site_of(request).services.editions(), key=lambda e: -e.year)
    return render(
        request,
        "admin/editions.html",
        status_code,
        editions=editions,
        values=values or _blank_edition(),
        errors=errors or {},
        problem=problem,
        schedule_fields=SCHEDULE_FIELDS,
        categories=list(Category),
        done=request.query_params.get("done"),
        done_year=request.query_params.get("year"),
    )


@router.get("/editions")
async def editions_page(request: Request, person: Admin) -> Response:
    return await _editions_page(request)


def _moment_of(value: str) -> datetime | None:
    """A `datetime-local` value, read as UTC, or None."""
    value = value.strip()
    for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _utc(value: str) -> str | None:
    """A `datetime-local` value (read as UTC) in ISO 8601 with its zone, or None."""
    moment = _moment_of(value)
    return _iso(moment) if moment is not None else None


def _local(moment: datetime | None) -> str:
    """A schedule date as a `datetime-local` input shows it (UTC, to the minute)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M") if moment is not None else ""


def schedule_error(detail: str) -> tuple[str, str] | None:
    """The schedule field a refusal names first, and whether it is about the order
    (`schedule.voting_opens must not be after …`) or another reason the service gives (a date
    too far from the edition's year): (field, "order" | "reason")."""
    for part in detail.replace(",", " ").split():
        name = part.removeprefix("schedule.")
        if part.startswith("schedule.") and name in SCHEDULE_FIELDS:
            return name, "order" if "must not be after" in detail else "reason"
    return None


@router.post("/editions")
async def create_edition(request: Request, person: Admin) -> Response:
    form = await request.form(max_fields=60)
    if not csrf_valid(request, str(form.get("csrf", ""))):
        return bad_form(request)
    values: dict[str, Any] = {
        "year": str(form.get("year", "")).strip()[:12],
        "title": str(form.get("title", "")).strip()[:300],
        **{name: str(form.get(name, "")).strip()[:30] for name in SCHEDULE_FIELDS},
        "categories": [str(c) for c in form.getlist("categories")],
        "show_running_counts": form.get("show_running_counts") == "yes",
    }
    errors: dict[str, str] = {}
    year = parse_year(values["year"])
    if year is None:
        errors["year"] = "year"
    if not 3 <= len(values["title"]) <= 200:
        errors["title"] = "title"
    schedule: dict[str, str] = {}
    for name in SCHEDULE_FIELDS:
        moment = _utc(values[name])
        if moment is not None:
            schedule[name] = moment
        elif values[name] or name != "ceremony_at":
            errors[name] = "date"
    chosen = [c.value for c in Category if c.value in values["categories"]]
    if not chosen:
        errors["categories"] = "categories"
    if not errors:
        try:
            await site_of(request).services.call(
                "POST",
                "submissions",
                "/editions",
                token=person.token,
                json={
                    "year": year,
                    "title": values["title"],
                    "schedule": schedule,
                    "categories": chosen,
                    "show_running_counts": values["show_running_counts"],
                },
            )
        except Problem as refused:
            if refused.status not in (409, 422):
                raise
            problem = refusal(refused)
            if refused.status == 409:
                errors["year"] = "exists"
            for name, detail in problem["fields"].items():
                if name in SCHEDULE_FIELDS or name in ("year", "title", "categories"):
                    errors.setdefault(name, "service")
                else:
                    at_fault = schedule_error(detail)
                    if at_fault:
                        errors.setdefault(*at_fault)
            return await _editions_page(
                request, status_code=refused.status, values=values, errors=errors, problem=problem
            )
        return redirect(request, here(f"/admin/editions/{year}", done="created"))
    return await _editions_page(request, status_code=422, values=values, errors=errors)


# --- one edition: its change and its phase --------------------------------------------------


def passed_dates(edition: Edition, now: datetime) -> frozenset[str]:
    """The schedule's dates that have passed: they stay as they were (what they began
    happened), so the form shows them without an input."""
    return frozenset(
        name
        for name in SCHEDULE_FIELDS
        if (moment := getattr(edition.schedule, name)) is not None and moment <= now
    )


def change_values(edition: Edition) -> dict[str, Any]:
    """The change form as the edition is: what an unchanged form posts back."""
    return {
        "title": edition.title,
        "show_running_counts": edition.show_running_counts,
        **{name: _local(getattr(edition.schedule, name)) for name in SCHEDULE_FIELDS},
        "no_ceremony": edition.schedule.ceremony_at is None,
    }


def _same_minute(typed: datetime, moment: datetime) -> bool:
    return typed == moment.astimezone(UTC).replace(second=0, microsecond=0)


def edition_changes(
    edition: Edition, values: dict[str, Any], now: datetime
) -> tuple[dict[str, Any], dict[str, str]]:
    """What the change form asks of the service — only what differs from the edition as read
    (`PATCH /editions/{year}`'s body; empty when nothing does) — and the fields it cannot send
    as typed, by name: `title`, `date` (not a date), `passed` (a date that has passed, changed
    on a page opened before), `untick` (a ceremony date with "No ceremony" ticked),
    `date-or-none` (no ceremony date and "No ceremony" not ticked)."""
    body: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if values["title"] != edition.title:
        if 3 <= len(values["title"]) <= 200:
            body["title"] = values["title"]
        else:
            errors["title"] = "title"
    if values["show_running_counts"] != edition.show_running_counts:
        body["show_running_counts"] = values["show_running_counts"]
    schedule: dict[str, str | None] = {}
    passed = passed_dates(edition, now)
    for name in SCHEDULE_FIELDS:
        old: datetime | None = getattr(edition.schedule, name)
        typed_text: str = values[name]
        typed = _moment_of(typed_text)
        same = typed_text == _local(old) or (
            typed is not None and old is not None and _same_minute(typed, old)
        )
        if name in passed:
            if not same:
                errors[name] = "passed"
            continue
        if name == "ceremony_at" and values["no_ceremony"]:
            if typed_text and not same:
                errors[name] = "untick"
            elif old is not None:
                schedule[name] = None
            continue
        if same:
            continue
        if typed is None:
            errors[name] = "date-or-none" if name == "ceremony_at" and not typed_text else "date"
        else:
            schedule[name] = _iso(typed)
    if schedule:
        body["schedule"] = schedule
    return body, errors


def _change_refusal(problem: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """The service's 422 at its field: the kind of refusal (`order`, `passed`, `past`, `reason`
    with the service's words, `title`) and the service's words per field."""
    errors: dict[str, str] = {}
    details: dict[str, str] = {}
    fields = dict(problem["fields"])
    if not any(name in SCHEDULE_FIELDS or name == "title" for name in fields):
        at_fault = schedule_error(problem["detail"])
        if at_fault:
            fields[at_fault[0]] = problem["detail"]
    for name, detail in fields.items():
        if name == "title":
            errors[name] = "title"
        elif name in SCHEDULE_FIELDS:
            if "must not be after" in detail:
                errors[name] = "order"
            elif " passed on " in detail:
                errors[name] = "passed"
            elif "which has passed" in detail:
                errors[name] = "past"
            else:
                errors[name] = "reason"
                details[name] = detail or problem["detail"]
    return errors, details


def _edition_page(
    request: Request,
    edition: Edition,
    status_code: int = 200,
    *,
    problem: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
    change_errors: dict[str, str] | None = None,
    change_details: dict[str, str] | None = None,
    change_problem: dict[str, Any] | None = None,
) -> Response:
    return render(
        request,
        "admin/edition.html",
        status_code,
        edition=edition,
        phases=list(Phase),
        problem=problem,
        done=request.query_params.get("done") if request.method == "GET" else None,
        schedule_fields=SCHEDULE_FIELDS,
        passed=passed_dates(edition, datetime.now(UTC)),
        values=values or change_values(edition),
        change_errors=change_errors or {},
        change_details=change_details or {},
        change_problem=change_problem,
    )


@router.get("/editions/{year}")
async def edition_page(request: Request, person: Admin, year: str) -> Response:
    edition = await edition_or_none(request, year)
    if edition is None:
        return not_found(request)
    return _edition_page(request, edition)


@router.post("/editions/{year}/change")
async def change_edition(request: Request, person: Admin, year: str) -> Response:
    """Sends the service only what the admin changed; its refusal is shown at the field it
    names, with what was typed kept."""
    edition = await edition_or_none(request, year)
    if edition is None:
        return not_found(request)
    form = await request.form(max_fields=30)
    if not csrf_valid(request, str(form.get("csrf", ""))):
        return bad_form(request)
    values: dict[str, Any] = change_values(edition) | {
        "title": str(form.get("title", "")).strip()[:300],
        "show_running_counts": form.get("show_running_counts") == "yes",
        "no_ceremony": form.get("no_ceremony") == "yes",
        # A date shown without an input (it has passed) posts nothing: it stays as read.
        **{name: str(form[name]).strip()[:30] for name in SCHEDULE_FIELDS if name in form},
    }
    body, errors = edition_changes(edition, values, datetime.now(UTC))
    if errors:
        return _edition_page(request, edition, 422, values=values, change_errors=errors)
    if not body:
        return redirect(request, here(f"/admin/editions/{edition.year}", done="unchanged"))
    try:
        await site_of(request).services.call(
            "PATCH", "submissions", f"/editions/{edition.year}", token=person.token, json=body
        )
    except Problem as refused:
        if refused.status not in (409, 422):
            raise  # 403, 404: the pages every admin page shows for them
        problem = refusal(refused)
        errors, details = _change_refusal(problem) if refused.status == 422 else ({}, {})
        fresh = await edition_or_none(request, year) or edition
        return _edition_page(
            request,
            fresh,
            refused.status,
            values=values,
            change_errors=errors,
            change_details=details,
            change_problem=problem,
        )
    return redirect(request, here(f"/admin/editions/{edition.year}", done="changed"))


@router.post("/editions/{year}/phase")
async def move_phase(
    request: Request,
    person: Admin,
    year: str,
    csrf: FormField,
    phase: FormField,
    confirmed: OptionalField = "",
) -> Response:
    """Without `confirmed`: the confirmation page; with it: the override."""
    edition = await edition_or_none(request, year)
    if edition is None:
        return not_found(request)
    if not csrf_valid(request, csrf):
        return bad_form(request)
    target = next((p for p in Phase if p.value == phase), None)
    if target is None or target == edition.phase:
        problem = {"status": 422, "code": "choose", "detail": "", "fields": {"phase": ""}}
        return _edition_page(request, edition, 422, problem=problem)
    if confirmed != "yes":
        return render(request, "admin/phase_confirm.html", edition=edition, target=target)
    try:
        await site_of(request).services.call(
            "POST",
            "submissions",
            f"/editions/{edition.year}/phase",
            token=person.token,
            json={"phase": target.value},
        )
    except Problem as refused:
        if refused.status not in (409, 422):
            raise
        fresh = await edition_or_none(request, year) or edition
        return _edition_page(request, fresh, refused.status, problem=refusal(refused))
    return redirect(request, here(f"/admin/editions/{edition.year}", done="moved"))


# --- reviewers import -----------------------------------------------------------------------


async def _reviewers(request: Request, person: SignedIn) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await get_json(request, person, "review", "/reviewers")
    return sorted(found, key=lambda r: str(r["reviewer_id"]))


@router.get("/reviewers")
async def reviewers_page(request: Request, person: Admin) -> Response:
    return render(
        request,
        "admin/reviewers.html",
        reviewers=await _reviewers(request, person),
        report=None,
        error=None,
        dry_run=True,
    )


@router.post("/reviewers/import")
async def import_reviewers(
    request: Request,
    person: Admin,
    csrf: FormField,
    file: Annotated[UploadFile | None, File()] = None,
    dry_run: OptionalField = "",
) -> Response:
    if not csrf_valid(request, csrf):
        return bad_form(request)
    check_only = dry_run == "yes"
    error: str | None = None
    detail = ""
    report: dict[str, Any] | None = None
    data = await file.read(IMPORT_LIMIT + 1) if file is not None else b""
    if file is None or not file.filename or not data:
        error = "missing"
    elif len(data) > IMPORT_LIMIT:
        error = "too-large"
    else:
        try:
            response = await site_of(request).services.call(
                "POST",
                "review",
                "/reviewers/import",
                token=person.token,
                params={"dry_run": "true" if check_only else "false"},
                files={"file": (file.filename[:200], data, "text/csv")},
            )
        except Problem as refused:
            if refused.status not in (413, 422):
                raise
            error = "too-large" if refused.status == 413 else "refused"
            detail = refusal(refused)["detail"]
        else:
            report = response.json()
    status_code = 200 if report is not None else 422
    return render(
        request,
        "admin/reviewers.html",
        status_code,
        reviewers=await _reviewers(request, person),
        report=report,
        error=error,
        detail=detail,
        dry_run=check_only,
    )


# --- dead letters ---------------------------------------------------------------------------


def _moment(value: object) -> datetime | None:
    """An ISO 8601 time from a service, to be written in the reader's language."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@router.get("/dead-letters")
async def dead_letters_page(request: Request, person: Admin) -> Response:
    overview: dict[str, Any] | None = None
    try:
        overview = await get_json(request, person, "submissions", "/dead-letters", latest=5)
    except Unavailable:
        overview = None  # the broker (or the service) did not answer: the page says so
    if overview is not None:
        overview["checked_at"] = _moment(overview.get("checked_at"))
        for topic in overview["topics"]:
            for letter in topic["latest"]:
                letter["failed_at"] = _moment(letter.get("failed_at"))
    return render(
        request,
        "admin/dead_letters.html",
        200 if overview is not None else 503,
        overview=overview,
    )
