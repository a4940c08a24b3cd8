"""Project teams' pages: their organisation's entries in every edition, the draft form (saved by
a plain POST, or autosaved field by field when JavaScript is on), attachments (a plain file form,
or an upload with a progress bar), submitting, amending and withdrawing an entry.

Every call goes to the submissions service with the person's own token, so the service's rules
apply unchanged: another organisation's entry is a 404 there, and so a 404 here."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import FormData, UploadFile

from wsis_shared.geography import COUNTRIES
from wsis_shared.text import word_count
from wsis_shared.vocabulary import (
    ActionLine,
    Category,
    Phase,
    ProjectStatus,
    Role,
    StakeholderType,
)
from wsis_web import i18n
from wsis_web.accounts import NotAllowed, SignedIn, Team, signed_in
from wsis_web.labels import N_
from wsis_web.rendering import (
    ENTRY_ID,
    bad_form,
    csrf_valid,
    language_of,
    not_found,
    parse_year,
    redirect,
    render,
    site_of,
)
from wsis_web.services import Edition, Problem, Unavailable

router = APIRouter(prefix="/team")

MAX_TEXT: Final = 25_000  # longer than any field the service accepts: it says what is too long
MAX_UPLOAD_BYTES: Final = 10 * 1024 * 1024
UPLOAD_MARGIN: Final = 64 * 1024
SHORT_WORDS: Final = (150, 200)

# The entry's fields in the form's order, each with its label (and the kind of input).
TEXT: Final = "text"
FIELDS: Final[dict[str, str]] = {
    "title": N_("Project title"),
    "category": N_("Prize category"),
    "short_description": N_("Short description"),
    "full_description": N_("Full description"),
    "action_lines": N_("Other WSIS action lines"),
    "sdgs": N_("Sustainable Development Goals"),
    "sdg_targets": N_("SDG targets"),
    "country": N_("Country"),
    "stakeholder_type": N_("Stakeholder type"),
    "organisation_name": N_("Organisation name"),
    "partners": N_("Partners"),
    "project_status": N_("Project status"),
    "start_date": N_("Start date"),
    "beneficiaries": N_("Beneficiaries"),
    "impact_qualitative": N_("Impact"),
    "impact_quantitative": N_("Impact in numbers"),
    "challenges": N_("Challenges"),
    "future_plans": N_("Future plans"),
    "website": N_("Website"),
    "video_links": N_("Video links"),
    "contact_name": N_("Contact person"),
    "contact_email": N_("Contact email address"),
}
CHECKBOX_FIELDS: Final = ("action_lines", "sdgs")
LINE_FIELDS: Final = ("partners", "video_links")
REQUIRED: Final = frozenset(
    {
        "title",
        "short_description",
        "full_description",
        "category",
        "sdgs",
        "country",
        "stakeholder_type",
        "organisation_name",
        "impact_qualitative",
        "beneficiaries",
        "start_date",
        "project_status",
        "contact_name",
        "contact_email",
    }
)
PROJECT_STATUS: Final[dict[str, str]] = {
    ProjectStatus.COMPLETED.value: N_("Completed"),
    ProjectStatus.MAJOR_PHASE_COMPLETED.value: N_("A major phase is completed"),
    ProjectStatus.ONGOING.value: N_("Ongoing (not eligible yet)"),
}
ENTRY_STATUS: Final[dict[str, str]] = {
    "draft": N_("Draft"),
    "submitted": N_("Submitted"),
    "withdrawn": N_("Withdrawn"),
}

# Why a field was refused, in words a person can act on (the service's own reasons are English).
ERRORS: Final[dict[str, str]] = {
    "required": N_("Fill this in before you submit the entry."),
    "words": N_("The short description has %(count)s words; it must have 150 to 200."),
    "ongoing": N_(
        "Ongoing projects are not eligible: submit when the project is completed or at the end "
        "of a major phase."
    ),
    "future": N_("A project that has not started yet cannot be submitted: check the start date."),
    "targets": N_("Write targets such as 4.4 or 9.c, of the goals chosen above."),
    "email": N_("Enter an email address such as name@example.org."),
    "url": N_("Enter a full web address, starting with https://."),
    "country": N_("Choose a country from the list."),
    "date": N_("Enter a date such as 2024-03-01."),
    "choice": N_("Choose one of the options in the list."),
    "too_short": N_("This is too short."),
    "too_long": N_("This is too long."),
    "category_closed": N_("This category is not open in this edition: choose another one."),
    "invisible": N_(
        "Remove the invisible character %(character)s: names and titles are one line of "
        "visible text."
    ),
    "other": N_("This value is not accepted. Check it and try again."),
}
REFUSALS: Final[dict[str, str]] = {
    "phase-closed": N_(
        "This is possible only while the submission phase is open, from %(opens)s to %(closes)s."
    ),
    "near-duplicate": N_(
        "This entry looks like a project already submitted in this edition. The same project "
        "can be submitted only once."
    ),
    "previous-winner": N_(
        "This entry looks like a project that has already won a WSIS Prize. Previous winners "
        "are not eligible."
    ),
    "already-exists": N_(
        "Your organisation already has an entry in this category: each organisation may "
        "submit one project per category."
    ),
    "not-complete": N_("The entry is not complete yet. Correct the fields listed below."),
    "not-submitted": N_(
        "Only a submitted entry can be amended or withdrawn: this one is not submitted (any "
        "more). Open its status page to see where it stands."
    ),
    "other": N_("The service refused this. Please reload the page and try again."),
}
# The review's reasons for an ineligible entry (the team sees the decision and the reason).
INELIGIBILITY: Final[dict[str, str]] = {
    "incomplete": N_("incomplete"),
    "out_of_scope": N_("out of scope"),
    "wrong_category": N_("wrong category"),
    "project_not_completed": N_("project not completed"),
    "duplicate": N_("duplicate"),
    "previous_winner": N_("previous winner"),
    "other": N_("other reason"),
}
# What the Stocktaking database says became of a submitted entry, as the team reads it.
OUTCOMES: Final = frozenset({"nominated", "not_nominated", "champion", "winner"})
UPLOAD_ERRORS: Final[dict[str, str]] = {
    "type": N_("This file is not a PDF, PNG or JPEG. Choose another file."),
    "empty": N_("This file is empty. Choose another file."),
    "size": N_("This file is larger than 10 MB. Choose a smaller file."),
    "none": N_("Choose a file first."),
    "full": N_("An entry holds at most 10 files. Remove one before adding another."),
    "damaged": N_("This file seems cut off or damaged. Upload the complete file again."),
    "closed": N_("The files of a submitted entry change only while submissions are open."),
    "refused": N_("This file could not be added. Please try again."),
}
NOTICES: Final[dict[str, str]] = {
    "saved": N_("Saved."),
    "created": N_("Your draft is ready. It is saved as you go; submit it when it is complete."),
    "uploaded": N_("The file was added."),
    "removed": N_("The file was removed."),
    "submitted": N_("Your entry is submitted."),
    "amended": N_("Your changes to the entry are saved."),
    "withdrawn": N_("Your entry is withdrawn."),
    "files-closed": N_("The files of a submitted entry change only while submissions are open."),
}

Gettext = Callable[[str], str]
Values = dict[str, Any]


def _gettext(request: Request) -> Gettext:
    return i18n.translations(language_of(request)).gettext


# --- the form and the service's fields -------------------------------------------------------


def values_of_content(content: dict[str, Any]) -> Values:
    """An entry's content as the form shows it."""
    values: Values = {}
    for name in FIELDS:
        value = content.get(name)
        if name in CHECKBOX_FIELDS:
            values[name] = [str(v) for v in value or []]
        elif name in LINE_FIELDS:
            values[name] = "\n".join(value or [])
        elif name == "sdg_targets":
            values[name] = ", ".join(value or [])
        else:
            values[name] = "" if value is None else str(value)
    return values


def values_of_form(form: FormData) -> Values:
    """What the browser sent, as the form shows it (unknown names are ignored)."""
    values: Values = {}
    for name in FIELDS:
        if name in CHECKBOX_FIELDS:
            values[name] = [str(v)[:20] for v in form.getlist(name)][:20]
        else:
            value = form.get(name)
            values[name] = _line_endings(value[:MAX_TEXT]) if isinstance(value, str) else ""
    return values


def _line_endings(text: str) -> str:
    """Text with `\n` line endings: a browser posts a textarea with `\r\n`, the autosave's
    script and the stored text have `\n` — the same text must read as the same."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def fields_of_values(values: Values) -> dict[str, Any]:
    """The form's values as the service's fields (empty means none)."""
    fields: dict[str, Any] = {}
    for name in FIELDS:
        value = values.get(name)
        if name == "action_lines":
            order = [line.value for line in ActionLine]
            fields[name] = sorted(
                {v for v in value or [] if v in order}, key=lambda v: order.index(v)
            )
        elif name == "sdgs":
            fields[name] = sorted({int(v) for v in value or [] if str(v).isdecimal()})
        elif name == "sdg_targets":
            fields[name] = [t for t in re.split(r"[\s,;]+", str(value or "")) if t]
        elif name in LINE_FIELDS:
            fields[name] = [line.strip() for line in str(value or "").splitlines() if line.strip()]
        else:
            text = str(value or "").strip()
            fields[name] = text or None
    return fields


def changes_between(current: dict[str, Any], values: Values) -> dict[str, Any]:
    """Only the fields the form changed (both sides read the same way)."""
    before = fields_of_values(values_of_content(current))
    after = fields_of_values(values)
    return {name: value for name, value in after.items() if before[name] != value}


def values_of_base(text: object) -> Values | None:
    """The values the page was rendered with (its hidden copy), read as the form's own; None
    when the copy is missing or not one (a page from before, a crafted request)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        found = json.loads(text)
    except ValueError:
        return None
    if not isinstance(found, dict):
        return None
    values: Values = {}
    for name in FIELDS:
        value = found.get(name)
        if name in CHECKBOX_FIELDS:
            items = value if isinstance(value, list) else []
            values[name] = [str(v)[:20] for v in items][:20]
        else:
            values[name] = _line_endings(value[:MAX_TEXT]) if isinstance(value, str) else ""
    return values


def touched_fields(form: FormData, typed: Values) -> set[str] | None:
    """The fields the person changed on this page: the autosave names them (`fields`); the
    form's plain POST carries the values it was rendered with (`base`), and a field typed as
    it was shown was not touched. None: no way to tell (every field counts)."""
    named = form.getlist("fields")
    if named:
        return {str(name) for name in named if name in FIELDS}
    base = values_of_base(form.get("base"))
    if base is None:
        return None
    before = fields_of_values(base)
    after = fields_of_values(typed)
    return {name for name in FIELDS if before[name] != after[name]}


def changes_of(current: dict[str, Any], typed: Values, touched: set[str] | None) -> dict[str, Any]:
    """What to send: the fields the person touched that differ from what is stored now (the
    others may hold what another tab or window has saved since this page was opened)."""
    changes = changes_between(current, typed)
    return {k: v for k, v in changes.items() if touched is None or k in touched}


def shown_values(current: dict[str, Any], typed: Values, touched: set[str] | None) -> Values:
    """The form again after a refusal: what the person typed in the fields they touched, what
    is stored now in the others."""
    if touched is None:
        return typed
    stored = values_of_content(current)
    return {name: typed[name] if name in touched else stored[name] for name in FIELDS}


def _field_of(pointer: str | None) -> str | None:
    if not pointer:
        return None
    name = pointer.lstrip("/").split("/", 1)[0]
    return name if name in FIELDS else None


def field_errors(problem: Problem, translate: Gettext) -> dict[str, str]:
    """The service's field errors (each with its JSON pointer) as messages, by field."""
    found: dict[str, str] = {}
    for error in problem.body.get("errors") or []:
        if not isinstance(error, dict):
            continue
        name = _field_of(error.get("pointer"))
        if name is None or name in found:
            continue
        found[name] = _error_message(name, error, translate)
    return found


def _error_message(name: str, error: dict[str, Any], translate: Gettext) -> str:
    detail = str(error.get("detail", ""))
    kind = str(error.get("type", ""))
    if not kind:  # the service's own completeness rules on submit and amend
        words = re.match(r"has (\d+) words", detail)
        if name == "short_description" and words:
            return translate(ERRORS["words"]) % {"count": words[1]}
        if name == "project_status" and "ongoing" in detail:
            return translate(ERRORS["ongoing"])
        if name == "start_date" and "not started" in detail:
            return translate(ERRORS["future"])
        if name == "sdg_targets":
            return translate(ERRORS["targets"])
        return translate(ERRORS["required"])
    key = {
        "contact_email": "email",
        "website": "url",
        "video_links": "url",
        "country": "country",
        "start_date": "date",
        "sdg_targets": "targets",
    }.get(name)
    if key is None and name in ("category", "stakeholder_type", "project_status", "action_lines"):
        key = "choice"
    if key is None and name == "sdgs":
        key = "choice" if "too_long" not in kind else "too_long"
    if key is None and "too_short" in kind:
        key = "too_short"
    if key is None and "too_long" in kind:
        key = "too_long"
    invisible = re.search(r"invisible character (U\+[0-9A-F]{4,6})", detail)
    if invisible:
        return translate(ERRORS["invisible"]) % {"character": invisible[1]}
    if key is None:
        return translate(ERRORS["other"])
    return translate(ERRORS[key])


def refusal(problem: Problem, edition: Edition | None, request: Request) -> str:
    """A refusal of the whole request (wrong phase, a contest rule) in words."""
    translate = _gettext(request)
    formatter = i18n.Formatter(language_of(request))
    reason = problem.reason
    if problem.status == 422:
        return translate(REFUSALS["not-complete"])
    if reason == "phase-closed":
        opens = _when(problem.body.get("opens_at")) or (
            edition.schedule.submission_opens if edition else None
        )
        closes = _when(problem.body.get("closes_at")) or (
            edition.schedule.submission_closes if edition else None
        )
        return translate(REFUSALS["phase-closed"]) % {
            "opens": formatter.datetime(opens) if opens else "?",
            "closes": formatter.datetime(closes) if closes else "?",
        }
    if reason in REFUSALS:
        return translate(REFUSALS[reason])
    if "only a submitted entry" in str(problem.body.get("detail", "")):
        return translate(REFUSALS["not-submitted"])
    return translate(REFUSALS["other"])


def _when(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- the service -----------------------------------------------------------------------------


async def _entry(request: Request, person: Team, entry_id: str) -> dict[str, Any]:
    response = await site_of(request).services.call(
        "GET", "submissions", f"/entries/{entry_id}", token=person.token
    )
    return dated(response.json())


DATES: Final = ("created_at", "updated_at", "submitted_at", "withdrawn_at")


def dated(entry: dict[str, Any]) -> dict[str, Any]:
    """The service's timestamps as datetimes, for the page's formatter."""
    for name in DATES:
        entry[name] = _when(entry.get(name))
    for attachment in entry.get("attachments") or []:
        attachment["uploaded_at"] = _when(attachment.get("uploaded_at"))
    eligibility = entry.get("eligibility")
    if isinstance(eligibility, dict):
        eligibility["decided_at"] = _when(eligibility.get("decided_at"))
    return entry


async def _patch(
    request: Request, person: Team, entry_id: str, changes: dict[str, Any]
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Save a draft's changes. Fields the service refuses are left out and the rest saved, so
    one wrong address never loses a paragraph: returns the entry saved and the refused fields."""
    translate = _gettext(request)
    services = site_of(request).services
    errors: dict[str, str] = {}
    for _attempt in range(len(FIELDS)):  # each refusal leaves out at least one field
        if not changes:
            return None, errors
        try:
            response = await services.call(
                "PATCH", "submissions", f"/entries/{entry_id}", token=person.token, json=changes
            )
        except Problem as problem:
            refused = field_errors(problem, translate) if problem.status == 422 else {}
            if not refused:
                raise
            if "category" not in refused and "is not open" in str(problem.body.get("detail")):
                refused["category"] = translate(ERRORS["category_closed"])
            errors |= refused
            changes = {k: v for k, v in changes.items() if k not in refused}
            continue
        return dated(response.json()), errors
    return None, errors


def _category_refused(problem: Problem, translate: Gettext) -> dict[str, str]:
    """A refusal that is about the category, shown at that field too."""
    if problem.status == 409 and "is not open" in str(problem.body.get("detail", "")):
        return {"category": translate(ERRORS["category_closed"])}
    if problem.reason == "already-exists":
        return {"category": translate(REFUSALS["already-exists"])}
    return {}


# --- pages -----------------------------------------------------------------------------------


@router.get("")
async def team_home(request: Request, person: Team) -> Response:
    services = site_of(request).services
    editions = sorted(await services.editions(), key=lambda e: -e.year)
    rows = []
    for edition in editions:
        response = await services.call(
            "GET", "submissions", f"/editions/{edition.year}/entries", token=person.token
        )
        entries = sorted(
            (dated(e) for e in response.json()), key=lambda e: e["created_at"], reverse=True
        )
        rows.append((edition, entries))  # a planned edition too: when its call opens
    return render(
        request,
        "team/index.html",
        rows=rows,
        Phase=Phase,
        entry_status=ENTRY_STATUS,
        organisation=person.principal.organisation_id,
    )


@router.post("/{year}/entries")
async def new_entry(request: Request, year: str, person: Team) -> Response:
    number = parse_year(year)
    if number is None:
        return not_found(request)
    form = await request.form()
    if not csrf_valid(request, _str(form.get("csrf"))):
        return bad_form(request)
    try:
        response = await site_of(request).services.call(
            "POST", "submissions", f"/editions/{number}/entries", token=person.token, json={}
        )
    except Problem as problem:
        if problem.status == 404:
            return not_found(request)
        return redirect(request, "/team?error=closed")
    entry_id = response.json()["entry_id"]
    return redirect(request, f"/team/entries/{entry_id}/edit?done=created")


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


@router.get("/entries/{entry_id}")
async def entry_page(request: Request, entry_id: str, person: Team) -> Response:
    if not ENTRY_ID.match(entry_id):
        return not_found(request)
    entry = await _entry(request, person, entry_id)
    edition = await site_of(request).services.edition(entry["edition"])
    done = request.query_params.get("done")
    return render(
        request,
        "team/entry.html",
        entry=entry,
        content=entry["content"],
        edition=edition,
        Phase=Phase,
        entry_status=ENTRY_STATUS,
        project_status=PROJECT_STATUS,
        ineligibility=INELIGIBILITY,
        outcome=await _outcome(request, entry, edition),
        notice=NOTICES.get(done or ""),
        open_now=edition.phase is Phase.SUBMISSION,
    )


async def _outcome(request: Request, entry: dict[str, Any], edition: Edition) -> str | None:
    """What became of a submitted entry after the review (nominated or not, champion, winner),
    as the public Stocktaking database says; None before that, or when it does not know."""
    if entry["status"] != "submitted" or edition.phase.order < Phase.VOTING.order:
        return None
    try:
        found = await site_of(request).services.catalogue_entry(entry["entry_id"])
    except (Problem, Unavailable):
        return None
    return found.status if found.status in OUTCOMES else None


def _form_page(
    request: Request,
    entry: dict[str, Any],
    edition: Edition,
    values: Values,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    refused: str | None = None,
    notice: str | None = None,
    upload_error: str | None = None,
) -> Response:
    formatter = i18n.Formatter(language_of(request))
    countries = sorted(
        ((code, formatter.country(code)) for code in COUNTRIES),
        key=lambda pair: pair[1].casefold(),
    )
    return render(
        request,
        "team/edit.html",
        status_code,
        entry=entry,
        edition=edition,
        values=values,
        errors=errors or {},
        refused=refused,
        notice=notice,
        upload_error=upload_error,
        fields=FIELDS,
        required=REQUIRED,
        categories=[c for c in Category if c in edition.categories],
        action_lines=list(ActionLine),
        stakeholder_types=list(StakeholderType),
        project_status=PROJECT_STATUS,
        countries=countries,
        words=word_count(values.get("short_description") or ""),
        base=json.dumps(values_of_content(entry["content"]), ensure_ascii=False),
        short_words=SHORT_WORDS,
        draft=entry["status"] == "draft",
        max_upload=MAX_UPLOAD_BYTES,
    )


@router.get("/entries/{entry_id}/edit")
async def edit_page(request: Request, entry_id: str, person: Team) -> Response:
    if not ENTRY_ID.match(entry_id):
        return not_found(request)
    entry = await _entry(request, person, entry_id)
    edition = await site_of(request).services.edition(entry["edition"])
    if not _changeable(entry, edition):
        return redirect(request, f"/team/entries/{entry_id}")
    done = request.query_params.get("done") or ""
    upload_error = request.query_params.get("upload_error")
    return _form_page(
        request,
        entry,
        edition,
        values_of_content(entry["content"]),
        notice=NOTICES.get(done),
        upload_error=UPLOAD_ERRORS.get(upload_error or ""),
        status_code=200,
    )


def _changeable(entry: dict[str, Any], edition: Edition) -> bool:
    """A draft can always be edited; a submitted entry only while the submission phase lasts."""
    return entry["status"] == "draft" or (
        entry["status"] == "submitted" and edition.phase is Phase.SUBMISSION
    )


async def _team_or_none(request: Request) -> SignedIn | None:
    """The team member signed in, or None once the session has ended (the page keeps what was
    typed instead of sending the browser to sign in)."""
    person = await signed_in(request)
    if person is not None and not person.has(Role.SUBMITTER):
        raise NotAllowed()
    return person


def _signed_out_page(request: Request, entry_id: str, form: FormData) -> Response:
    """The form's plain POST after the session ended: nothing is lost. The page keeps what was
    sent, offers to sign in in another tab, then to send it again from here."""
    kept = [
        (name, value)
        for name, value in form.multi_items()
        if isinstance(value, str) and (name in FIELDS or name in ("base", "action"))
    ]
    typed = values_of_form(form)
    shown = [
        (name, typed[name])
        for name in FIELDS
        if name not in CHECKBOX_FIELDS and str(typed[name]).strip()
    ]
    return render(
        request,
        "team/signed_out.html",
        401,
        entry_id=entry_id,
        kept=kept,
        shown=shown,
        fields=FIELDS,
        sign_in=f"/account/sign-in?next={quote(f'/team/entries/{entry_id}/edit')}",
    )


@router.post("/entries/{entry_id}/edit")
async def save_entry(request: Request, entry_id: str) -> Response:
    """Save a draft (and submit it when asked), or amend a submitted entry: the form's plain
    POST, which works with JavaScript off. Only the fields the person changed on the page are
    sent, so what another tab saved meanwhile stays."""
    if not ENTRY_ID.match(entry_id):
        return not_found(request)
    form = await request.form()
    if not csrf_valid(request, _str(form.get("csrf"))):
        return bad_form(request)
    person = await _team_or_none(request)
    if person is None:
        return _signed_out_page(request, entry_id, form)
    action = _str(form.get("action")) or "save"
    translate = _gettext(request)
    services = site_of(request).services
    entry = await _entry(request, person, entry_id)
    edition = await services.edition(entry["edition"])
    typed = values_of_form(form)
    touched = touched_fields(form, typed)
    changes = changes_of(entry["content"], typed, touched)
    here = f"/team/entries/{entry_id}"

    def again(status: int, errors: dict[str, str], refused: str | None = None) -> Response:
        values = shown_values(entry["content"], typed, touched)
        return _form_page(
            request, entry, edition, values, status_code=status, errors=errors, refused=refused
        )

    if entry["status"] == "submitted":
        if not changes:
            return redirect(request, here)
        try:
            await services.call(
                "POST",
                "submissions",
                f"/entries/{entry_id}/amend",
                token=person.token,
                json=changes,
            )
        except Problem as problem:
            if problem.status not in (409, 422):
                raise
            errors = field_errors(problem, translate) | _category_refused(problem, translate)
            return again(problem.status, errors, refusal(problem, edition, request))
        return redirect(request, f"{here}?done=amended")
    if entry["status"] != "draft":
        return redirect(request, here)

    saved, errors = await _patch(request, person, entry_id, changes)
    if saved is not None:
        entry = saved
    if errors:
        return again(422, errors, translate(REFUSALS["not-complete"]))
    if action != "submit":
        return redirect(request, f"{here}/edit?done=saved")
    try:
        await services.call(
            "POST", "submissions", f"/entries/{entry_id}/submit", token=person.token
        )
    except Problem as problem:
        if problem.status not in (409, 422):
            raise
        errors = field_errors(problem, translate) | _category_refused(problem, translate)
        return again(problem.status, errors, refusal(problem, edition, request))
    return redirect(request, f"{here}?done=submitted")


@router.post("/entries/{entry_id}/autosave")
async def autosave(request: Request, entry_id: str) -> Response:
    """The draft form's autosave (JavaScript on): the script sends the fields the person changed
    in this tab (named in `fields`), and of those only what differs from what is stored is sent
    to the service. Answers JSON: when it was saved, which fields, which were refused; 401
    `signed-out` once the session has ended, 409 `not-a-draft` once the entry was submitted."""
    if not ENTRY_ID.match(entry_id):
        return JSONResponse({"error": "not-found"}, status_code=404)
    form = await request.form()
    person = await signed_in(request)
    if person is None:
        return JSONResponse({"error": "signed-out"}, status_code=401)
    if not person.has(Role.SUBMITTER):
        return JSONResponse({"error": "not-allowed"}, status_code=403)
    if not csrf_valid(request, _str(form.get("csrf"))):
        return JSONResponse({"error": "expired-form"}, status_code=400)
    try:
        entry = await _entry(request, person, entry_id)
    except Problem as problem:
        return JSONResponse({"error": _json_error(problem)}, status_code=problem.status)
    if entry["status"] != "draft":
        return JSONResponse({"error": "not-a-draft"}, status_code=409)
    typed = values_of_form(form)
    changes = changes_of(entry["content"], typed, touched_fields(form, typed))
    try:
        saved, errors = await _patch(request, person, entry_id, changes)
    except Problem as problem:
        if problem.status == 409:
            try:
                now = await _entry(request, person, entry_id)
            except Problem:
                now = entry
            if now["status"] != "draft":
                return JSONResponse({"error": "not-a-draft"}, status_code=409)
        return JSONResponse({"error": _json_error(problem)}, status_code=problem.status)
    stored = [name for name in changes if name not in errors]
    at = (saved["updated_at"] if saved is not None else None) or datetime.now(UTC)
    return JSONResponse({"saved": stored, "errors": errors, "saved_at": at.isoformat()})


def _json_error(problem: Problem) -> str:
    return "signed-out" if problem.status == 401 else problem.reason


# --- attachments -----------------------------------------------------------------------------


def _upload_reason(problem: Problem) -> str:
    detail = str(problem.body.get("detail", ""))
    if problem.status == 413:
        return "size"
    if problem.status == 422:
        reason = str(problem.body.get("reason", ""))
        if reason.endswith(("-truncated", "-damaged")):
            return "damaged"
        return "empty" if "empty" in detail else "type"
    if problem.status == 409 and problem.body.get("code") == "phase-closed":
        return "closed"
    if problem.status == 409 and "at most" in detail:
        return "full"
    return "refused"


@router.post("/entries/{entry_id}/attachments")
async def upload(request: Request, entry_id: str, person: Team) -> Response:
    """A file for the entry: a multipart form (JavaScript off: answers with a redirect), or the
    file's bytes as the body (the page's script, which shows the upload's progress: answers
    JSON). The bytes stream on to the service as they arrive."""
    if not ENTRY_ID.match(entry_id):
        return not_found(request)
    edit = f"/team/entries/{entry_id}/edit"
    services = site_of(request).services
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=5)
        if not csrf_valid(request, _str(form.get("csrf"))):
            return bad_form(request)
        file = form.get("file")
        if not isinstance(file, UploadFile) or not file.filename:
            return redirect(request, f"{edit}?upload_error=none#file")
        if file.size is not None and file.size > MAX_UPLOAD_BYTES:
            return redirect(request, f"{edit}?upload_error=size#file")
        data = await file.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            return redirect(request, f"{edit}?upload_error=size#file")
        try:
            await services.call(
                "POST",
                "submissions",
                f"/entries/{entry_id}/attachments",
                token=person.token,
                params={"filename": file.filename[:255]},
                content=data,
                headers={"Content-Type": "application/octet-stream"},
            )
        except Problem as problem:
            if problem.status == 404:
                raise
            return redirect(request, f"{edit}?upload_error={_upload_reason(problem)}#file")
        return redirect(request, f"{edit}?done=uploaded#attachments")

    translate = _gettext(request)
    if not csrf_valid(request, request.headers.get("x-csrf-token")):
        return JSONResponse({"error": "expired-form"}, status_code=400)
    filename = request.query_params.get("filename", "")[:255] or None
    length = request.headers.get("content-length", "")
    if length.isdecimal() and int(length) > MAX_UPLOAD_BYTES:
        return JSONResponse({"error": translate(UPLOAD_ERRORS["size"])}, status_code=413)

    async def body() -> AsyncIterator[bytes]:
        sent = 0
        async for chunk in request.stream():
            sent += len(chunk)
            if sent > MAX_UPLOAD_BYTES + UPLOAD_MARGIN:
                return  # the service answers 413 for what it got: the rest is not sent on
            yield chunk

    headers = {"Content-Type": "application/octet-stream"}
    if length.isdecimal():
        headers["Content-Length"] = length
    try:
        response = await services.call(
            "POST",
            "submissions",
            f"/entries/{entry_id}/attachments",
            token=person.token,
            params={"filename": filename} if filename else {},
            content=body(),
            headers=headers,
        )
    except Problem as problem:
        return JSONResponse(
            {"error": translate(UPLOAD_ERRORS[_upload_reason(problem)])},
            status_code=problem.status,
        )
    return JSONResponse(
        {"attachment": response.json(), "next": f"{edit}?done=uploaded#attachments"},
        status_code=201,
    )


@router.get("/entries/{entry_id}/attachments/{attachment_id}")
async def download(request: Request, entry_id: str, attachment_id: str, person: Team) -> Response:
    if not ENTRY_ID.match(entry_id) or not ENTRY_ID.match(attachment_id):
        return not_found(request)
    response = await site_of(request).services.call(
        "GET", "submissions", f"/entries/{entry_id}/attachments/{attachment_id}", token=person.token
    )
    return Response(
        response.content,
        media_type=response.headers.get("content-type", "application/octet-stream"),
        headers={
            "Content-Disposition": response.headers.get("content-disposition", "attachment"),
            "Cache-Control": "private, no-store",
        },
    )


@router.post("/entries/{entry_id}/attachments/{attachment_id}/delete")
async def remove(request: Request, entry_id: str, attachment_id: str, person: Team) -> Response:
    if not ENTRY_ID.match(entry_id) or not ENTRY_ID.match(attachment_id):
        return not_found(request)
    form = await request.form()
    if not csrf_valid(request, _str(form.get("csrf"))):
        return bad_form(request)
    try:
        await site_of(request).services.call(
            "DELETE",
            "submissions",
            f"/entries/{entry_id}/attachments/{attachment_id}",
            token=person.token,
        )
    except Problem as problem:
        if problem.status == 409 and problem.body.get("code") == "phase-closed":
            # Nothing was removed: say so on the entry's page (its form is closed now).
            return redirect(request, f"/team/entries/{entry_id}?done=files-closed")
        if problem.status != 409:  # any other 409: it was removed already (a second click)
            raise
    return redirect(request, f"/team/entries/{entry_id}/edit?done=removed#attachments")


# --- withdrawing -----------------------------------------------------------------------------


@router.get("/entries/{entry_id}/withdraw")
async def withdraw_page(request: Request, entry_id: str, person: Team) -> Response:
    if not ENTRY_ID.match(entry_id):
        return not_found(request)
    entry = await _entry(request, person, entry_id)
    edition = await site_of(request).services.edition(entry["edition"])
    if entry["status"] != "submitted":
        return redirect(request, f"/team/entries/{entry_id}")
    return render(
        request,
        "team/withdraw.html",
        entry=entry,
        edition=edition,
        refused=None,
        reason="",
        open_now=edition.phase is Phase.SUBMISSION,
    )


@router.post("/entries/{entry_id}/withdraw")
async def withdraw(request: Request, entry_id: str, person: Team) -> Response:
    if not ENTRY_ID.match(entry_id):
        return not_found(request)
    form = await request.form()
    if not csrf_valid(request, _str(form.get("csrf"))):
        return bad_form(request)
    reason = (_str(form.get("reason")) or "").strip()[:2000]
    services = site_of(request).services
    try:
        await services.call(
            "POST",
            "submissions",
            f"/entries/{entry_id}/withdraw",
            token=person.token,
            json={"reason": reason or None},
        )
    except Problem as problem:
        if problem.status != 409:
            raise
        entry = await _entry(request, person, entry_id)
        edition = await services.edition(entry["edition"])
        return render(
            request,
            "team/withdraw.html",
            409,
            entry=entry,
            edition=edition,
            refused=refusal(problem, edition, request),
            reason=reason,
            open_now=edition.phase is Phase.SUBMISSION,
        )
    return redirect(request, f"/team/entries/{quote(entry_id)}?done=withdrawn")
