"""Attachments: a submitted entry's files change only while the submission phase lasts, the
review team reads submitted entries' files only, a withdrawn entry's files are the team's to
remove, and a file must be whole (its format's frame), not only start like one."""

from __future__ import annotations

import struct
import zlib
from datetime import timedelta

import pytest

from tests.unit.submissions.builders import NOW, YEAR, content, draft, edition, submitter
from tests.unit.submissions.fakes import FakeRunner, FixedClock, State
from wsis_shared.errors import Conflict, InvalidInput, NotFound, PhaseClosed
from wsis_shared.vocabulary import Phase
from wsis_submissions.domain.entries import Attachment, Entry
from wsis_submissions.service_layer.attachments import (
    add_attachment,
    attachments_to_review,
    find_attachment,
    remove_attachment,
    sniff,
)
from wsis_submissions.service_layer.entries import (
    create_draft,
    entry_history,
    submit_entry,
    withdraw_entry,
)

LATER = NOW + timedelta(hours=1)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


PNG = (
    b"\x89PNG\r\n\x1a\n"
    + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    + _png_chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
    + _png_chunk(b"IEND", b"")
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\xff\xd9"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _file(name: str = "report.pdf", attachment_id: str = "a1") -> Attachment:
    return Attachment(
        attachment_id=attachment_id,
        filename=name,
        content_type="application/pdf",
        size=len(PDF),
        sha256="0" * 64,
        uploaded_at=NOW,
    )


def _submitted() -> Entry:
    entry = draft()
    entry.attach(_file(), edition(), now=NOW)
    entry.submit(edition(), now=NOW)
    return entry


# --- the rules of the entry ----------------------------------------------------------------------


def test_a_submitted_entry_takes_and_drops_files_while_the_submission_phase_lasts() -> None:
    entry = _submitted()

    entry.attach(_file("poster.pdf", "a2"), edition(), now=LATER)
    removed = entry.detach("a1", edition(), now=LATER)

    assert removed.filename == "report.pdf"
    assert [a.attachment_id for a in entry.attachments] == ["a2"]


@pytest.mark.parametrize("phase", [Phase.REVIEW, Phase.VOTING, Phase.CLOSED])
def test_a_submitted_entry_keeps_its_files_once_the_submission_phase_closed(phase: Phase) -> None:
    entry = _submitted()
    version = entry.version

    with pytest.raises(PhaseClosed) as added:
        entry.attach(_file("late.pdf", "a2"), edition(phase), now=LATER)
    with pytest.raises(PhaseClosed) as removed:
        entry.detach("a1", edition(phase), now=LATER)

    # The same answer as amending: the phase it needs, the one it is in, and the window.
    assert "adding an attachment to a submitted entry" in added.value.detail
    assert "removing an attachment from a submitted entry" in removed.value.detail
    for refused in (added.value, removed.value):
        assert "submission phase (2027-01-10" in refused.detail
        assert refused.extensions["current_phase"] == phase
        assert refused.extensions["required_phase"] == Phase.SUBMISSION
        assert refused.extensions["closes_at"] == edition().schedule.submission_closes
    assert [a.attachment_id for a in entry.attachments] == ["a1"]
    assert entry.version == version


def test_a_draft_changes_its_files_in_any_phase() -> None:
    entry = draft()

    entry.attach(_file(), edition(Phase.REVIEW), now=NOW)
    entry.detach("a1", edition(Phase.REVIEW), now=LATER)

    assert entry.attachments == []


@pytest.mark.parametrize("phase", [Phase.SUBMISSION, Phase.REVIEW])
def test_a_withdrawn_entry_lets_its_files_go_but_takes_no_new_one(phase: Phase) -> None:
    entry = _submitted()
    entry.withdraw(edition(), reason=None, now=NOW)

    with pytest.raises(Conflict, match="withdrawn"):
        entry.attach(_file("more.pdf", "a2"), edition(phase), now=LATER)
    entry.detach("a1", edition(phase), now=LATER)

    assert entry.attachments == []


# --- the use cases -------------------------------------------------------------------------------


class InMemoryFiles:
    def __init__(self) -> None:
        self.items: dict[str, bytes] = {}

    async def put(self, file_id: str, data: bytes, metadata: dict[str, str]) -> None:
        self.items[file_id] = data

    async def get(self, file_id: str) -> bytes:
        try:
            return self.items[file_id]
        except KeyError:
            raise NotFound(f"no file {file_id}") from None

    async def delete(self, file_id: str) -> None:
        self.items.pop(file_id, None)


@pytest.fixture
def runner() -> FakeRunner:
    return FakeRunner(State(editions={YEAR: edition()}))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def files() -> InMemoryFiles:
    return InMemoryFiles()


async def _entry_with_a_file(
    runner: FakeRunner, clock: FixedClock, files: InMemoryFiles, *, submit: bool
) -> tuple[str, str]:
    created = await create_draft(runner, clock, year=YEAR, content=content(), author=submitter())
    added = await add_attachment(
        runner,
        clock,
        files,
        entry_id=created.entry_id,
        filename="report.pdf",
        data=PDF,
        author=submitter(),
    )
    if submit:
        await submit_entry(runner, clock, entry_id=created.entry_id, author=submitter())
    return created.entry_id, added.attachment_id


def _close_submissions(runner: FakeRunner) -> None:
    runner.editions[YEAR] = edition(Phase.REVIEW)


async def test_a_file_added_after_the_close_is_refused_and_not_kept(
    runner: FakeRunner, clock: FixedClock, files: InMemoryFiles
) -> None:
    entry_id, attachment_id = await _entry_with_a_file(runner, clock, files, submit=True)
    _close_submissions(runner)

    with pytest.raises(PhaseClosed):
        await add_attachment(
            runner,
            clock,
            files,
            entry_id=entry_id,
            filename="swapped.pdf",
            data=PDF,
            author=submitter(),
        )
    with pytest.raises(PhaseClosed):
        await remove_attachment(
            runner, clock, files, entry_id=entry_id, attachment_id=attachment_id, author=submitter()
        )

    assert list(files.items) == [attachment_id]  # the refused upload is forgotten
    assert [a.attachment_id for a in runner.entries[entry_id].attachments] == [attachment_id]
    history = await entry_history(runner, entry_id=entry_id, reader=submitter())
    assert [r.action for r in history] == ["created", "attached", "submitted"]


async def test_a_submitted_entrys_file_change_is_in_its_history(
    runner: FakeRunner, clock: FixedClock, files: InMemoryFiles
) -> None:
    entry_id, attachment_id = await _entry_with_a_file(runner, clock, files, submit=True)
    clock.advance(hours=1)

    await remove_attachment(
        runner, clock, files, entry_id=entry_id, attachment_id=attachment_id, author=submitter()
    )

    last = (await entry_history(runner, entry_id=entry_id, reader=submitter()))[-1]
    assert (last.action, last.changes, last.at) == (
        "detached",
        {"attachment": "report.pdf"},
        clock.now,
    )


async def test_the_review_team_reads_a_submitted_entrys_files_only(
    runner: FakeRunner, clock: FixedClock, files: InMemoryFiles
) -> None:
    entry_id, attachment_id = await _entry_with_a_file(runner, clock, files, submit=False)

    with pytest.raises(NotFound):
        await attachments_to_review(runner, entry_id=entry_id)
    with pytest.raises(NotFound):
        await find_attachment(
            runner, files, entry_id=entry_id, attachment_id=attachment_id, reader=None
        )

    await submit_entry(runner, clock, entry_id=entry_id, author=submitter())
    listed = await attachments_to_review(runner, entry_id=entry_id)
    found = await find_attachment(
        runner, files, entry_id=entry_id, attachment_id=attachment_id, reader=None
    )

    assert [(a.attachment_id, a.filename, a.size) for a in listed] == [
        (attachment_id, "report.pdf", len(PDF))
    ]
    assert found.data == PDF


async def test_a_withdrawn_entrys_files_are_the_teams_to_read_and_remove(
    runner: FakeRunner, clock: FixedClock, files: InMemoryFiles
) -> None:
    entry_id, attachment_id = await _entry_with_a_file(runner, clock, files, submit=True)
    await withdraw_entry(runner, clock, entry_id=entry_id, reason=None, author=submitter())
    _close_submissions(runner)

    with pytest.raises(NotFound):
        await attachments_to_review(runner, entry_id=entry_id)
    with pytest.raises(NotFound):  # a link given before the withdrawal opens nothing now
        await find_attachment(
            runner, files, entry_id=entry_id, attachment_id=attachment_id, reader=None
        )
    mine = await find_attachment(
        runner, files, entry_id=entry_id, attachment_id=attachment_id, reader=submitter()
    )
    assert mine.data == PDF

    await remove_attachment(
        runner, clock, files, entry_id=entry_id, attachment_id=attachment_id, author=submitter()
    )

    assert runner.entries[entry_id].attachments == []
    assert files.items == {}
    history = await entry_history(runner, entry_id=entry_id, reader=submitter())
    assert history[-1].action == "detached"


# --- whole files only ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected_type"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (JPEG + bytes(300), "image/jpeg"),  # zero padding after the end marker
        (PDF, "application/pdf"),
        (PDF + b"\r\n" + b" " * 900, "application/pdf"),  # %%EOF within the last 1,024 bytes
        (PDF.replace(b"%%EOF\n", b"%%EOF"), "application/pdf"),
        # What phones and writers put after the end: Samsung's trailer, a motion photo's video,
        # a line break, padding.
        (JPEG + b"\x00\x00SEFH" + bytes(64) + b"SEFT", "image/jpeg"),
        (JPEG + b"\x00\x00\x00\x18ftypmp42" + bytes(4000), "image/jpeg"),
        (JPEG + b"\r\n", "image/jpeg"),
        (PNG + b"\n" + bytes(100), "image/png"),
        (PDF + b" " * 4096, "application/pdf"),
    ],
    ids=[
        "png",
        "jpeg",
        "jpeg-padded",
        "pdf",
        "pdf-trailing-space",
        "pdf-no-newline",
        "jpeg-samsung-trailer",
        "jpeg-motion-photo",
        "jpeg-line-break",
        "png-padded",
        "pdf-long-padding",
    ],
)
def test_a_whole_file_passes(data: bytes, expected_type: str) -> None:
    assert sniff(data) == expected_type


@pytest.mark.parametrize(
    ("data", "reason", "says"),
    [
        (b"\xff\xd8\xff", "jpeg-truncated", "the JPEG image seems cut off"),
        (JPEG[:-2], "jpeg-truncated", "the JPEG image seems cut off"),
        (b"%PDF-", "pdf-truncated", "the PDF seems cut off"),
        (PDF[: len(PDF) // 2], "pdf-truncated", "the PDF seems cut off"),
        (b"%PDF-1.4<html><body>not a document</body></html>", "pdf-truncated", "cut off"),
        (b"%PDF<html></html>%%EOF", "pdf-damaged", "this is not a PDF document"),
        (b"\x89PNG\r\n\x1a\n", "png-truncated", "the PNG image seems cut off"),
        (PNG[:40], "png-truncated", "the PNG image seems cut off"),
        (PNG[:-12], "png-truncated", "the PNG image seems cut off"),
        (PNG[:8] + PNG[33:-12] + PNG[8:33] + PNG[-12:], "png-damaged", "damaged"),
    ],
    ids=[
        "jpeg-3-bytes",
        "jpeg-no-end",
        "pdf-5-bytes",
        "pdf-half",
        "html-as-pdf",
        "pdf-no-dash",
        "png-8-bytes",
        "png-cut-in-idat",
        "png-no-iend",
        "png-ihdr-not-first",
    ],
)
def test_a_cut_off_or_fake_file_is_refused_with_what_to_do(
    data: bytes, reason: str, says: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        sniff(data)

    assert refused.value.extensions["reason"] == reason
    assert says in refused.value.detail
    assert refused.value.detail.endswith(
        ("upload the complete file", "upload that file", "upload the new file")
    )


async def test_a_cut_off_file_is_not_stored(
    runner: FakeRunner, clock: FixedClock, files: InMemoryFiles
) -> None:
    created = await create_draft(runner, clock, year=YEAR, content=content(), author=submitter())

    with pytest.raises(InvalidInput):
        await add_attachment(
            runner,
            clock,
            files,
            entry_id=created.entry_id,
            filename="report.pdf",
            data=PDF[:-8],
            author=submitter(),
        )

    assert files.items == {}
    assert runner.entries[created.entry_id].attachments == []
