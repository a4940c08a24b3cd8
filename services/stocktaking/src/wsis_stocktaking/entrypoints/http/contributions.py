"""Contributions: organisations file what they did to implement the WSIS outcomes (submitter for
their own organisation, or admin for any); anyone reads them; editors (admins) correct the tags.

Who corrected a tag is not public: the public trail says when and what changed, with the
editor's note; the editor's account id (and the filer's) is shown to admins only.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Final, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, Response, UploadFile
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from wsis_shared.auth import Principal, optional_principal, require_role
from wsis_shared.errors import InvalidInput
from wsis_shared.events import utcnow
from wsis_shared.text import single_line
from wsis_shared.uow import runner_dependency
from wsis_shared.vocabulary import Role
from wsis_shared.web import attachment_disposition
from wsis_stocktaking.adapters.contributions import GridFSOriginals, MongoContributionsUnitOfWork
from wsis_stocktaking.adapters.documents import (
    DocumentLimits,
    check_file_size,
    read_document,
    read_submitted_text,
)
from wsis_stocktaking.domain.contributions import (
    Contribution,
    ContributionFormat,
    Tag,
    TagCorrection,
    TagDecision,
    TagKind,
    TagSource,
)
from wsis_stocktaking.domain.tagging import label_of
from wsis_stocktaking.service_layer import contributions as use_cases
from wsis_stocktaking.service_layer.contributions import (
    ContributionQuery,
    ContributionSummary,
    Filing,
    Original,
    Runner,
    TagChanges,
)
from wsis_stocktaking.settings import StocktakingSettings

router = APIRouter(tags=["contributions"])

FIRST_EDITION: Final = 2003  # the Geneva phase of the Summit
LAST_EDITION: Final = 2100
FORM_OVERHEAD_BYTES: Final = 1024 * 1024
"""Room for the form's other fields and boundaries above the file limit, so a file a little too
large gets the precise 413 of the use case rather than the generic one of the body limit."""


async def _document_limits(request: Request) -> DocumentLimits:
    settings: StocktakingSettings = request.app.state.resources.settings
    return DocumentLimits(
        max_bytes=settings.contribution_max_bytes,
        max_pdf_pages=settings.contribution_max_pdf_pages,
        max_text_chars=settings.contribution_max_text_chars,
    )


async def _originals(request: Request) -> GridFSOriginals:
    return GridFSOriginals(request.app.state.resources.db)


UoW = Annotated[Runner, Depends(runner_dependency(MongoContributionsUnitOfWork))]
Limits = Annotated[DocumentLimits, Depends(_document_limits)]
Originals = Annotated[GridFSOriginals, Depends(_originals)]
Filer = Annotated[Principal, Depends(require_role(Role.SUBMITTER, Role.ADMIN))]
Editor = Annotated[Principal, Depends(require_role(Role.ADMIN))]
Reader = Annotated[Principal | None, Depends(optional_principal)]
ContributionId = Annotated[str, Path(min_length=1, max_length=64)]
Edition = Annotated[int, Field(ge=FIRST_EDITION, le=LAST_EDITION)]
# One line of visible text each (no control characters, no bidirectional overrides).
Title = Annotated[str, Field(min_length=1, max_length=300), AfterValidator(single_line)]
OrganisationName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(single_line)]
OrganisationId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[\w.@:-]+$")]
SectionText = Annotated[str, Field(max_length=200_000)]
TagCode = Annotated[str, Field(min_length=1, max_length=40)]


def _optional_line(value: str | None) -> str | None:
    return single_line(value) if value is not None else None


def _now() -> datetime:
    """To the millisecond, as MongoDB keeps it: the answer shows what a later read returns."""
    now = utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


# --- models -------------------------------------------------------------------------------------


class ContributionSections(BaseModel):
    """The usual parts of a yearly contribution; they are joined, each under its heading, into
    the contribution's text."""

    model_config = ConfigDict(extra="forbid")

    summary: SectionText | None = None
    activities: SectionText | None = None
    outcomes: SectionText | None = None
    challenges: SectionText | None = None
    future_actions: SectionText | None = None

    def as_text(self) -> str:
        parts = [
            f"{name.replace('_', ' ').capitalize()}\n\n{text.strip()}"
            for name, text in self.model_dump().items()
            if text and text.strip()
        ]
        return "\n\n".join(parts)


class ContributionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    edition: Edition = Field(description="the year the contribution reports on, e.g. 2027")
    title: Title
    organisation: OrganisationName | None = Field(
        default=None,
        description="the organisation's name as it should appear in the Stocktaking database; "
        "may be left out once an earlier contribution of the same organisation account gave it",
    )
    organisation_id: OrganisationId | None = Field(
        default=None,
        description="admins only: the organisation account filed for (a submitter always files "
        "for the organisation of their own account)",
    )
    text: str | None = Field(
        default=None,
        max_length=1_000_000,
        description="the whole text; give either `text` or `sections`",
    )
    text_format: Literal["text", "markdown"] = Field(
        default="text", description="`markdown`: the text is Markdown; its markup is removed"
    )
    sections: ContributionSections | None = Field(
        default=None, description="the text as named parts; give either `text` or `sections`"
    )

    @model_validator(mode="after")
    def _one_text(self) -> ContributionCreate:
        has_text = bool(self.text and self.text.strip())
        has_sections = bool(self.sections and self.sections.as_text())
        if has_text == has_sections:
            raise ValueError(
                "give the contribution's text either whole in `text` or in parts in `sections`, "
                "not both" + ("" if has_text else " and not neither")
            )
        return self


class TagPublic(BaseModel):
    kind: TagKind
    code: str = Field(description='"C4", "C7", "C7.e-learning", "SDG4"')
    label: str
    source: TagSource = Field(
        description="`explicit`: the text names it; `inferred`: suggested by the vocabulary of "
        "the text, counted once an editor confirms it; `editor`: added by an editor"
    )
    confidence: float
    evidence: str | None
    cues: list[str]
    decision: TagDecision | None
    in_effect: bool = Field(description="counted in the Stocktaking database and its reports")

    @classmethod
    def of(cls, tag: Tag) -> TagPublic:
        return cls(
            kind=tag.kind,
            code=tag.code,
            label=label_of(tag.code),
            source=tag.source,
            confidence=tag.confidence,
            evidence=tag.evidence,
            cues=tag.cues,
            decision=tag.decision,
            in_effect=tag.in_effect,
        )


class CorrectionPublic(BaseModel):
    at: AwareDatetime
    by: str | None = Field(description="the editor's account id: shown to admins only")
    confirmed: list[str]
    rejected: list[str]
    added: list[str]
    note: str | None

    @classmethod
    def of(cls, correction: TagCorrection, *, with_identities: bool) -> CorrectionPublic:
        return cls(
            at=correction.at,
            by=correction.by if with_identities else None,
            confirmed=correction.confirmed,
            rejected=correction.rejected,
            added=correction.added,
            note=correction.note,
        )


class OriginalPublic(BaseModel):
    filename: str
    media_type: str = Field(description="the type its bytes showed, whatever the name said")
    size: int | None
    url: str


class ContributionPublic(BaseModel):
    contribution_id: str
    edition: int
    organisation: str
    organisation_id: str | None
    title: str
    format: ContributionFormat
    submitted_at: AwareDatetime
    submitted_by: str | None = Field(description="the filer's account id: shown to admins only")
    action_lines: list[str] = Field(description="action lines and C7 applications in effect")
    sdgs: list[str] = Field(description="SDGs in effect")
    awaiting_review: bool = Field(description="some suggested tags await an editor's decision")
    tags: list[TagPublic]
    corrections: list[CorrectionPublic]
    original: OriginalPublic | None
    text: str

    @classmethod
    def of(cls, contribution: Contribution, reader: Principal | None) -> ContributionPublic:
        admin = reader is not None and reader.has(Role.ADMIN)
        original = None
        if contribution.original_file_id and contribution.original_media_type:
            original = OriginalPublic(
                filename=contribution.original_filename or "contribution",
                media_type=contribution.original_media_type,
                size=contribution.original_size,
                url=f"/contributions/{contribution.contribution_id}/original",
            )
        return cls(
            contribution_id=contribution.contribution_id,
            edition=contribution.edition,
            organisation=contribution.organisation,
            organisation_id=contribution.organisation_id,
            title=contribution.title,
            format=contribution.format,
            submitted_at=contribution.submitted_at,
            submitted_by=contribution.submitted_by if admin else None,
            action_lines=[tag.code for tag in contribution.tags_in_effect("action_line")],
            sdgs=[tag.code for tag in contribution.tags_in_effect("sdg")],
            awaiting_review=contribution.awaits_review,
            tags=[TagPublic.of(tag) for tag in contribution.tags],
            corrections=[
                CorrectionPublic.of(correction, with_identities=admin)
                for correction in contribution.corrections
            ],
            original=original,
            text=contribution.text,
        )


class ContributionListItem(BaseModel):
    contribution_id: str
    edition: int
    organisation: str
    organisation_id: str | None
    title: str
    format: ContributionFormat
    submitted_at: AwareDatetime
    excerpt: str
    action_lines: list[str] = Field(description="in effect")
    sdgs: list[str] = Field(description="in effect")
    suggested: list[str] = Field(description="inferred codes awaiting an editor's decision")

    @classmethod
    def of(cls, summary: ContributionSummary) -> ContributionListItem:
        in_effect = [tag for tag in summary.tags if tag.in_effect]
        return cls(
            contribution_id=summary.contribution_id,
            edition=summary.edition,
            organisation=summary.organisation,
            organisation_id=summary.organisation_id,
            title=summary.title,
            format=summary.format,
            submitted_at=summary.submitted_at,
            excerpt=summary.excerpt,
            action_lines=[tag.code for tag in in_effect if tag.kind == "action_line"],
            sdgs=[tag.code for tag in in_effect if tag.kind == "sdg"],
            suggested=[tag.code for tag in summary.tags if tag.awaits_decision],
        )


class ContributionPage(BaseModel):
    items: list[ContributionListItem]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")
    total: int


class TagCorrectionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    confirm: list[TagCode] = Field(
        default_factory=list, max_length=60, description="suggested codes that are right"
    )
    reject: list[TagCode] = Field(
        default_factory=list, max_length=60, description="codes that are wrong"
    )
    add: list[TagCode] = Field(
        default_factory=list,
        max_length=60,
        description='codes the machine missed: "C4", "C7.e-health", "SDG 16"…',
    )
    note: str | None = Field(default=None, max_length=2000, description="why, for the trail")


# --- filing -------------------------------------------------------------------------------------


@router.post(
    "/contributions",
    status_code=201,
    summary="File a contribution as fields (submitter for their organisation, admin)",
    description="The text is tagged at once: the answer holds the suggested action lines and "
    "SDGs. The same text filed twice for one organisation and year is refused (409).",
)
async def file_contribution(
    body: ContributionCreate,
    by: Filer,
    uow: UoW,
    originals: Originals,
    limits: Limits,
    response: Response,
) -> ContributionPublic:
    if body.sections is not None:
        extracted = read_submitted_text(body.sections.as_text(), format="fields", limits=limits)
    else:
        assert body.text is not None
        extracted = read_submitted_text(body.text, format=body.text_format, limits=limits)
    original = (
        Original(data=body.text.encode(), filename=body.title)
        if body.text is not None and body.text_format == "markdown"
        else None
    )
    contribution = await use_cases.file_contribution(
        uow,
        originals,
        filing=_filing(body.edition, body.title, body.organisation, body.organisation_id),
        extracted=extracted,
        original=original,
        by=by,
        now=_now(),
    )
    response.headers["Location"] = f"/contributions/{contribution.contribution_id}"
    return ContributionPublic.of(contribution, by)


async def upload_contribution(
    by: Filer,
    uow: UoW,
    originals: Originals,
    limits: Limits,
    response: Response,
    file: Annotated[UploadFile, File(description="PDF, DOCX, Markdown or plain text")],
    edition: Annotated[int, Form(ge=FIRST_EDITION, le=LAST_EDITION)],
    # Stripped before its length is checked, as `ContributionCreate` does: a title of spaces
    # is refused here too, not filed as an empty one.
    title: Annotated[
        str,
        StringConstraints(strip_whitespace=True),
        AfterValidator(single_line),
        Form(min_length=1, max_length=300),
    ],
    organisation: Annotated[
        str | None,
        StringConstraints(strip_whitespace=True),
        AfterValidator(_optional_line),
        Form(min_length=1, max_length=200),
    ] = None,
    organisation_id: Annotated[
        str | None, Form(min_length=1, max_length=100, pattern=r"^[\w.@:-]+$")
    ] = None,
) -> ContributionPublic:
    data = await file.read(limits.max_bytes + 1)
    check_file_size(len(data), limits, lower_bound=True)
    extracted = await asyncio.to_thread(read_document, data, limits)
    contribution = await use_cases.file_contribution(
        uow,
        originals,
        filing=_filing(edition, title, organisation, organisation_id),
        extracted=extracted,
        original=Original(data=data, filename=file.filename),
        by=by,
        now=_now(),
    )
    response.headers["Location"] = f"/contributions/{contribution.contribution_id}"
    return ContributionPublic.of(contribution, by)


def _filing(
    edition: int, title: str, organisation: str | None, organisation_id: str | None
) -> Filing:
    return Filing(
        edition=edition,
        title=title.strip(),
        organisation=(organisation or "").strip() or None,
        organisation_id=(organisation_id or "").strip() or None,
    )


# --- reading ------------------------------------------------------------------------------------


@router.get("/contributions", summary="Contributions, newest first (public)")
async def list_contributions(
    uow: UoW,
    edition: Annotated[int | None, Query(ge=FIRST_EDITION, le=LAST_EDITION)] = None,
    action_line: Annotated[
        str | None,
        Query(max_length=40, description='"C4", "C7" or a C7 application "C7.e-learning"'),
    ] = None,
    sdg: Annotated[int | None, Query(ge=1, le=17)] = None,
    organisation: Annotated[
        str | None, Query(max_length=200, description="the name, in any case")
    ] = None,
    organisation_id: Annotated[str | None, Query(max_length=100)] = None,
    include_suggested: Annotated[
        bool,
        Query(
            description="match `action_line`/`sdg` also where it is only suggested, awaiting an "
            "editor (by default only tags in effect match)"
        ),
    ] = False,
    awaiting_review: Annotated[
        bool | None, Query(description="only those with (true) or without (false) suggestions")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> ContributionPage:
    if action_line is not None and sdg is not None:
        # One code per query keeps to one index; action lines × SDGs is the report's matrix.
        raise InvalidInput("filter by `action_line` or by `sdg`, not both at once")
    code: str | None = None
    if action_line is not None:
        code = use_cases.action_line_filter(action_line)
    elif sdg is not None:
        code = f"SDG{sdg}"
    query = ContributionQuery(
        edition=edition,
        code=code,
        include_suggested=include_suggested,
        organisation=organisation,
        organisation_id=organisation_id,
        awaiting_review=awaiting_review,
    )
    page = await use_cases.list_contributions(uow, query, limit=limit, cursor=cursor)
    return ContributionPage(
        items=[ContributionListItem.of(summary) for summary in page.items],
        next_cursor=page.next_cursor,
        total=page.total,
    )


@router.get(
    "/contributions/{contribution_id}",
    summary="One contribution: its text, tags and corrections (public)",
)
async def get_contribution(
    contribution_id: ContributionId, uow: UoW, reader: Reader
) -> ContributionPublic:
    contribution = await use_cases.get_contribution(uow, contribution_id=contribution_id)
    return ContributionPublic.of(contribution, reader)


@router.get(
    "/contributions/{contribution_id}/original",
    summary="The uploaded document, as it was sent (public)",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def download_original(
    contribution_id: ContributionId, uow: UoW, originals: Originals
) -> Response:
    download = await use_cases.get_original(uow, originals, contribution_id=contribution_id)
    return Response(
        download.data,
        media_type=download.media_type,
        headers={
            "Content-Disposition": attachment_disposition(download.filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "public, max-age=300",
        },
    )


# --- editors ------------------------------------------------------------------------------------


@router.patch(
    "/contributions/{contribution_id}/tags",
    summary="Confirm, reject or add tags (admin as editor)",
    description="The correction is appended to the contribution's trail with the editor and "
    "the time. Confirming or adding a C7 application brings C7 into effect; rejecting C7 "
    "rejects its applications. An unknown code is refused (422) and named.",
)
async def correct_tags(
    contribution_id: ContributionId, body: TagCorrectionRequest, editor: Editor, uow: UoW
) -> ContributionPublic:
    contribution = await use_cases.correct_tags(
        uow,
        contribution_id=contribution_id,
        changes=TagChanges(confirm=body.confirm, reject=body.reject, add=body.add, note=body.note),
        by=editor,
        now=_now(),
    )
    return ContributionPublic.of(contribution, editor)


@router.post(
    "/contributions/{contribution_id}/retag",
    summary="Tag the text again with the current vocabulary, keeping editors' decisions (admin)",
)
async def retag_contribution(
    contribution_id: ContributionId, editor: Editor, uow: UoW
) -> ContributionPublic:
    contribution = await use_cases.retag(uow, contribution_id=contribution_id)
    return ContributionPublic.of(contribution, editor)


def router_for(settings: StocktakingSettings) -> APIRouter:
    """Every contribution route. The upload's body limit follows `contribution_max_bytes`, so
    this router is built with the app from its settings."""
    routes = APIRouter()
    routes.add_api_route(
        "/contributions/uploads",
        upload_contribution,
        methods=["POST"],
        status_code=201,
        tags=["contributions"],
        max_body_size=settings.contribution_max_bytes + FORM_OVERHEAD_BYTES,
        summary="Upload a contribution document (submitter for their organisation, admin)",
        description="A multipart form: `file` (PDF with its text, DOCX, Markdown or plain "
        "text; the type is read from the bytes, not the name), `edition`, `title`, and "
        "`organisation` (the name; may be left out once given) — admins may add "
        "`organisation_id`. The text is extracted and tagged; the original is kept and can be "
        "downloaded. Scanned or password-protected PDFs are refused (422) with what to send "
        "instead; files above the size limit get 413.",
    )
    routes.include_router(router)
    return routes
