"""Use cases of the expert group: reviewers added one by one or imported from CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from wsis_review.domain.reviewers import Reviewer, ReviewerFields, ReviewerId, ReviewerUpdate
from wsis_review.service_layer.assignments import hand_over_open_assignments
from wsis_review.service_layer.unit_of_work import AuditRecord, Runner, UnitOfWork
from wsis_shared.auth import Principal
from wsis_shared.errors import AlreadyExists, InvalidInput

CSV_COLUMNS = (
    "reviewer_id",
    "name",
    "email",
    "organisation",
    "country",
    "languages",
    "categories",
    "max_load",
)
_LIST_SEPARATORS = str.maketrans({";": " ", ",": " ", "|": " "})


async def add_reviewer(
    runner: Runner, *, reviewer_id: str, fields: ReviewerFields, by: Principal, now: datetime
) -> Reviewer:
    async def work(uow: UnitOfWork) -> Reviewer:
        if await uow.reviewers.find(reviewer_id) is not None:
            raise AlreadyExists(f"reviewer {reviewer_id} already exists; change them with PATCH")
        reviewer = Reviewer(
            reviewer_id=reviewer_id, **fields.model_dump(), created_at=now, updated_at=now
        )
        await uow.reviewers.save(reviewer)
        await _audit(uow, reviewer_id, "created", by, now, fields.model_dump(mode="json"))
        return reviewer

    return await runner.run(work)


async def update_reviewer(
    runner: Runner, *, reviewer_id: str, update: ReviewerUpdate, by: Principal, now: datetime
) -> Reviewer:
    async def work(uow: UnitOfWork) -> Reviewer:
        reviewer = await uow.reviewers.get(reviewer_id)
        changes = update.model_dump(exclude_unset=True, exclude_none=True)
        deactivated = reviewer.active and changes.get("active") is False
        if changes:
            reviewer = Reviewer.model_validate(
                reviewer.model_dump() | changes | {"updated_at": now}
            )
            await uow.reviewers.save(reviewer)
            await _audit(
                uow,
                reviewer_id,
                "updated",
                by,
                now,
                update.model_dump(mode="json", exclude_unset=True, exclude_none=True),
            )
        if deactivated:  # after the save, so the solver no longer sees them as available
            await hand_over_open_assignments(
                uow, reviewer_id, "reviewer_deactivated", by.subject, now
            )
        return reviewer

    return await runner.run(work)


async def get_reviewer(runner: Runner, *, reviewer_id: str) -> Reviewer:
    async def work(uow: UnitOfWork) -> Reviewer:
        return await uow.reviewers.get(reviewer_id)

    return await runner.run(work)


async def list_reviewers(runner: Runner) -> list[Reviewer]:
    async def work(uow: UnitOfWork) -> list[Reviewer]:
        return await uow.reviewers.list()

    return await runner.run(work)


@dataclass
class ImportedRow:
    row: int  # the line in the file, header = 1
    reviewer_id: str | None
    outcome: Literal["created", "updated", "error", "valid"]
    errors: list[dict[str, str]] = field(default_factory=list)


def parse_reviewer_rows(
    text: str,
) -> list[tuple[int, str | None, ReviewerFields | None, list[dict[str, str]]]]:
    """Each data row as (line, reviewer_id, fields or None, errors), the line being where the
    row starts in the file (header = 1; blank lines and line breaks inside quoted cells count).
    Lists (languages, categories) may be separated by semicolons, commas inside quotes, pipes
    or spaces."""
    # newline="": the csv module itself tells a line break inside a quoted cell from a new row.
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    records = _records(reader)
    header = next((record for _, record in records if record), [])
    header = [h.strip() for h in header]
    missing = [c for c in CSV_COLUMNS if c not in header and c not in ("languages", "max_load")]
    if missing:
        raise InvalidInput(
            f"the CSV header lacks {', '.join(missing)}; expected columns: "
            f"{', '.join(CSV_COLUMNS)}",
            expected_columns=list(CSV_COLUMNS),
        )
    rows = []
    for line, record in records:
        values = {column: value.strip() for column, value in zip(header, record, strict=False)}
        if not any(values.values()):
            continue
        reviewer_id = values.get("reviewer_id") or None
        errors: list[dict[str, str]] = []
        if reviewer_id is None:
            errors.append({"column": "reviewer_id", "detail": "give the reviewer's account id"})
        else:
            reviewer_id_error = _reviewer_id_error(reviewer_id)
            if reviewer_id_error is not None:
                errors.append({"column": "reviewer_id", "detail": reviewer_id_error})
        data: dict[str, Any] = {
            "name": values.get("name", ""),
            "email": values.get("email", ""),
            "organisation": values.get("organisation", ""),
            "country": values.get("country", ""),
            "categories": tuple(values.get("categories", "").translate(_LIST_SEPARATORS).split()),
        }
        # Optional columns change a reviewer only when filled in: an update leaves the rest.
        if values.get("languages"):
            data["languages"] = tuple(values["languages"].translate(_LIST_SEPARATORS).split())
        if values.get("max_load"):
            data["max_load"] = values["max_load"]
        fields: ReviewerFields | None = None
        try:
            fields = ReviewerFields.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                column = str(error["loc"][0]) if error["loc"] else "row"
                if any(e["column"] == column for e in errors):
                    continue  # one reason per column: the first is the one to act on
                detail = error["msg"].removeprefix("Value error, ")
                if column == "categories" and error["type"] == "enum":
                    detail = f"{error['input']!r} is not a prize category (C1 … C11, C7.e-health…)"
                errors.append({"column": column, "detail": detail})
        rows.append((line, reviewer_id, None if errors else fields, errors))
    return rows


def _records(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """(the line the record starts on, its cells); a blank line is an empty record. A file the
    csv module cannot read is refused as a whole, with the line to look at."""
    while True:
        first_line = reader.line_num + 1  # each record starts on the line after the previous
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            reason = str(exc)
            if "field larger than field limit" in reason:
                reason = (
                    f"a cell is longer than {csv.field_size_limit():,} characters, far more "
                    "than any column takes"
                )
            raise InvalidInput(
                f"line {reader.line_num} of the CSV cannot be read: {reason}",
                line=reader.line_num,
            ) from None
        yield first_line, record


_REVIEWER_ID = TypeAdapter(ReviewerId)


def _reviewer_id_error(reviewer_id: str) -> str | None:
    """The rule POST /reviewers applies, worded for the person fixing the file."""
    try:
        _REVIEWER_ID.validate_python(reviewer_id)
    except ValidationError as exc:
        error = exc.errors()[0]
        if error["type"] == "string_too_long":
            most = error["ctx"]["max_length"]
            return f"a reviewer id has at most {most} characters, this one {len(reviewer_id):,}"
        return (
            "a reviewer id is the account id they sign in with: letters, digits and . _ @ : - "
            "only, no spaces, slashes or control characters"
        )
    return None


async def import_reviewers(
    runner: Runner, *, text: str, dry_run: bool, by: Principal, now: datetime
) -> list[ImportedRow]:
    """Valid rows are created or updated (by reviewer_id); invalid ones are reported with the
    column and the reason, and change nothing. A dry run only reports."""
    parsed = parse_reviewer_rows(text)
    seen: dict[str, int] = {}
    for line, reviewer_id, _, errors in parsed:
        if reviewer_id is not None and reviewer_id in seen:
            errors.append({"column": "reviewer_id", "detail": f"also on line {seen[reviewer_id]}"})
        elif reviewer_id is not None:
            seen[reviewer_id] = line

    async def work(uow: UnitOfWork) -> list[ImportedRow]:
        report = []
        for line, reviewer_id, fields, errors in parsed:
            if errors or fields is None or reviewer_id is None:
                report.append(ImportedRow(line, reviewer_id, "error", errors))
                continue
            existing = await uow.reviewers.find(reviewer_id)
            if dry_run:
                report.append(ImportedRow(line, reviewer_id, "valid"))
                continue
            if existing is None:
                reviewer = Reviewer(
                    reviewer_id=reviewer_id, **fields.model_dump(), created_at=now, updated_at=now
                )
            else:  # `active` and the unfilled optional columns stay as they were
                given = fields.model_dump(exclude_unset=True, exclude={"active"})
                reviewer = Reviewer.model_validate(
                    existing.model_dump() | given | {"updated_at": now}
                )
            await uow.reviewers.save(reviewer)
            outcome: Literal["created", "updated"] = "created" if existing is None else "updated"
            await _audit(uow, reviewer_id, f"imported ({outcome})", by, now, {"line": line})
            report.append(ImportedRow(line, reviewer_id, outcome))
        return report

    return await runner.run(work)


async def _audit(
    uow: UnitOfWork,
    reviewer_id: str,
    action: str,
    by: Principal,
    now: datetime,
    changes: dict[str, Any],
) -> None:
    await uow.audit.add(
        AuditRecord(
            edition=0,
            subject=f"reviewer:{reviewer_id}",
            action=action,
            by=by.subject,
            at=now,
            changes=changes,
        )
    )
