"""The admins' pages: editions and their phases (list, create with a schedule, change the title,
the running counts and the dates still to come, move the phase after a confirmation), the import
of reviewers from a CSV file with a report on every row, and the dead letters of the message
broker (counts per topic, the latest, and the replay command to run). Every page asks the
services with the admin's own token; every form works without JavaScript."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from starlette.datastructures import FormData

from wsis_shared.text import single_line
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
        title_character=invisible_character(str((values or {}).get("title", ""))),
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
    elif invisible_character(values["title"]) is not None:
        errors["title"] = "invisible"
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
                    invisible = name == "title" and "invisible character" in detail
                    errors.setdefault(name, "invisible" if invisible else "service")
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


def change_values(edition: Edition) -> dict[str, Any]:
    """The change form as the edition is: what an unchanged form posts back."""
    return {
        "title": edition.title,
        "show_running_counts": edition.show_running_counts,
        **{name: _local(getattr(edition.schedule, name)) for name in SCHEDULE_FIELDS},
        "no_ceremony": edition.schedule.ceremony_at is None,
    }


def _same(typed_text: str, shown_text: str) -> bool:
    """Whether a date typed is the one the page showed (to the minute, as the form shows it)."""
    if typed_text == shown_text:
        return True
    typed, shown = _moment_of(typed_text), _moment_of(shown_text)
    return typed is not None and shown is not None and typed == shown


def invisible_character(title: str) -> str | None:
    """The first character a title cannot hold (a control character or a bidirectional
    override: the services' rule for every name and title), as `U+XXXX`, or None."""
    try:
        single_line(title)
    except ValueError as refused:
        found = _CODE_POINT.search(str(refused))
        return found.group(0) if found else "U+FFFD"
    return None


def edition_changes(
    shown: dict[str, Any], values: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """What the change form asks of the service: only what the admin changed from what the page
    showed (`shown`, as `change_values` made it when the page was rendered), so a field another
    admin changed since is not sent back as it was (`PATCH /editions/{year}`'s body; empty when
    nothing differs); and the fields it cannot send as typed, by name: `title` (its length),
    `invisible` (the title holds an invisible character), `date` (not a date), `untick` (a
    ceremony date with "No ceremony" ticked), `date-or-none` (no ceremony date and "No
    ceremony" not ticked)."""
    body: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if values["title"] != shown["title"]:
        if not 3 <= len(values["title"]) <= 200:
            errors["title"] = "title"
        elif invisible_character(values["title"]) is not None:
            errors["title"] = "invisible"
        else:
            body["title"] = values["title"]
    if values["show_running_counts"] != shown["show_running_counts"]:
        body["show_running_counts"] = values["show_running_counts"]
    schedule: dict[str, str | None] = {}
    for name in SCHEDULE_FIELDS:
        typed_text: str = values[name]
        same = _same(typed_text, shown[name])
        if name == "ceremony_at" and values["no_ceremony"]:
            if typed_text and not same:
                errors[name] = "untick"
            elif shown[name]:
                schedule[name] = None
            continue
        if same:
            continue
        typed = _moment_of(typed_text)
        if typed is None:
            errors[name] = "date-or-none" if name == "ceremony_at" and not typed_text else "date"
        else:
            schedule[name] = _iso(typed)
    if schedule:
        body["schedule"] = schedule
    return body, errors


_CODE_POINT: Final = re.compile(r"U\+[0-9A-F]{4,6}")
_ORDER: Final = re.compile(r"schedule\.(\w+) must not be after schedule\.(\w+)")
# The service's reasons, by the words that tell them apart, and what the page says of each.
_DATE_REFUSALS: Final = (
    (" passed on ", "passed"),  # a date that has passed stays
    ("which has passed", "past"),  # a date moved into the past
    ("less than a minute from now", "soon"),
    ("has already left", "left"),  # it ends a phase the edition has left
    ("not a date MongoDB can store", "date"),
)


def _change_refusal(problem: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """The service's 422 at its field: the kind of refusal (`order` for the earlier date of a
    pair out of order, `order-later` for the later one, `passed`, `past`, `soon`, `left`,
    `date`, `title`, `invisible` with the character, `reason` with the service's words) and
    what the page shows with it, per field."""
    errors: dict[str, str] = {}
    details: dict[str, str] = {}
    fields = dict(problem["fields"])
    if not any(name in SCHEDULE_FIELDS or name == "title" for name in fields):
        at_fault = schedule_error(problem["detail"])
        if at_fault:
            fields[at_fault[0]] = problem["detail"]
    for name, detail in fields.items():
        if name == "title":
            code_point = _CODE_POINT.search(detail) if "invisible character" in detail else None
            errors[name] = "invisible" if code_point else "title"
            if code_point:
                details[name] = code_point.group(0)
        elif name in SCHEDULE_FIELDS:
            order = _ORDER.search(detail)
            kind = next((kind for words, kind in _DATE_REFUSALS if words in detail), None)
            if order is not None:
                errors[name] = "order-later" if name == order.group(2) else "order"
            elif kind is not None:
                errors[name] = kind
            else:
                errors[name] = "reason"
                details[name] = detail or problem["detail"]
    return errors, details


def _shown_of(form: FormData, edition: Edition) -> tuple[dict[str, Any], int | None]:
    """What the change form's page showed (its hidden copy; the edition as it is now for a
    form without one) and the version of the edition it was made from (None: not said)."""
    shown = change_values(edition)
    for name in shown:
        key = f"shown_{name}"
        if key not in form:
            continue
        if name in ("show_running_counts", "no_ceremony"):
            shown[name] = form.get(key) == "yes"
        else:
            shown[name] = str(form[key]).strip()[: 300 if name == "title" else 30]
    version = str(form.get("version", "")).strip()
    readable = version.isascii() and version.isdecimal() and len(version) < 12
    return shown, int(version) if readable else None


def _edition_page(
    request: Request,
    edition: Edition,
    status_code: int = 200,
    *,
    problem: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
    shown: dict[str, Any] | None = None,
    version: int | None = None,
    change_errors: dict[str, str] | None = None,
    change_details: dict[str, str] | None = None,
    change_problem: dict[str, Any] | None = None,
) -> Response:
    """The edition's page; its change form shows `values` (the edition by default) and carries
    what its first page showed (`shown`) and the version that page was made from, so that a
    form sent back after a refusal still sends only what the admin changed, and only to the
    edition as they saw it."""
    return render(
        request,
        "admin/edition.html",
        status_code,
        edition=edition,
        phases=list(Phase),
        problem=problem,
        done=request.query_params.get("done") if request.method == "GET" else None,
        schedule_fields=SCHEDULE_FIELDS,
        fixed=frozenset(edition.fixed_dates),
        values=values or change_values(edition),
        shown=shown or change_values(edition),
        version=version if shown is not None else edition.version,
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
    """Sends the service only what the admin changed from what their page showed, on the
    condition that nobody changed the edition since (`If-Match`); its refusal is shown at the
    field it names, with what was typed kept. When another change came first, the page shows
    the edition as it is now, for the admin to make their change again."""
    edition = await edition_or_none(request, year)
    if edition is None:
        return not_found(request)
    form = await request.form(max_fields=40)
    if not csrf_valid(request, str(form.get("csrf", ""))):
        return bad_form(request)
    shown, version = _shown_of(form, edition)
    values: dict[str, Any] = shown | {
        "title": str(form.get("title", "")).strip()[:300],
        "show_running_counts": form.get("show_running_counts") == "yes",
        "no_ceremony": form.get("no_ceremony") == "yes",
        # A date shown without an input (it can no longer change) posts nothing: it stays.
        **{name: str(form[name]).strip()[:30] for name in SCHEDULE_FIELDS if name in form},
    }
    body, errors = edition_changes(shown, values)
    if errors:
        character = invisible_character(values["title"]) if "title" in errors else None
        return _edition_page(
            request,
            edition,
            422,
            values=values,
            shown=shown,
            version=version,
            change_errors=errors,
            change_details={"title": character} if character else {},
        )
    if not body:
        return redirect(request, here(f"/admin/editions/{edition.year}", done="unchanged"))
    try:
        await site_of(request).services.call(
            "PATCH",
            "submissions",
            f"/editions/{edition.year}",
            token=person.token,
            json=body,
            headers={"If-Match": f'"{version}"'} if version is not None else {},
        )
    except Problem as refused:
        if refused.status not in (409, 412, 422):
            raise  # 403, 404: the pages every admin page shows for them
        problem = refusal(refused)
        fresh = await edition_or_none(request, year) or edition
        if refused.status != 422:  # another change came first: the edition as it is now
            return _edition_page(request, fresh, refused.status, change_problem=problem)
        errors, details = _change_refusal(problem)
        return _edition_page(
            request,
            fresh,
            refused.status,
            values=values,
            shown=shown,
            version=version,
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
