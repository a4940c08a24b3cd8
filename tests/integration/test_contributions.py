"""The contributions API of the stocktaking service on the real mongod: filing as fields or as a
document, the stored original, public reading, editors' corrections and every refusal as
problem+json."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import uuid
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from tests.unit.stocktaking.test_documents import MB, docx_of, encrypted, pdf_of, zip_of
from wsis_shared.auth import ensure_dev_keys, sign_dev_token
from wsis_shared.mongo import Database
from wsis_shared.vocabulary import Role
from wsis_stocktaking.adapters.documents import DOCX_TYPE
from wsis_stocktaking.app import create_app
from wsis_stocktaking.domain.contributions import Contribution
from wsis_stocktaking.settings import StocktakingSettings

pytestmark = pytest.mark.integration

MAX_BYTES = 2 * MB  # above the app's 1 MB limit for JSON bodies: the upload route lifts it
PROBLEM = "application/problem+json"


@dataclass
class Api:
    http: httpx.AsyncClient
    db: Database
    private_key: bytes

    def as_(self, role: Role, *, org: str | None = "org-1", subject: str | None = None) -> Caller:
        token = sign_dev_token(
            self.private_key,
            subject=subject or f"{role}-{org}",
            roles=[role],
            organisation_id=org,
        )
        return Caller(self.http, {"Authorization": f"Bearer {token}"})

    @property
    def anonymous(self) -> Caller:
        return Caller(self.http, {})


@dataclass
class Caller:
    http: httpx.AsyncClient
    headers: dict[str, str]

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(path, params=params, headers=self.headers)

    async def post(self, path: str, body: Any = None) -> httpx.Response:
        return await self.http.post(path, json=body, headers=self.headers)

    async def patch(self, path: str, body: Any) -> httpx.Response:
        return await self.http.patch(path, json=body, headers=self.headers)

    async def upload(
        self,
        data: bytes,
        *,
        filename: str = "contribution.docx",
        content_type: str = "application/octet-stream",
        **fields: str,
    ) -> httpx.Response:
        form = {"edition": "2026", "title": "Yearly contribution"} | fields
        return await self.http.post(
            "/contributions/uploads",
            data=form,
            files={"file": (filename, data, content_type)},
            headers=self.headers,
        )


@pytest.fixture(scope="module")
async def api(
    mongo_uri: str, mongo_db_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Api]:
    private_key, public_key = ensure_dev_keys(tmp_path_factory.mktemp("keys"))
    app = create_app(
        StocktakingSettings(
            mongo_uri=mongo_uri,
            mongo_db_prefix=f"{mongo_db_prefix}{uuid.uuid4().hex[:6]}_",
            jwt_public_key_file=public_key,
            contribution_max_bytes=MAX_BYTES,
        )
    )
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http,
    ):
        resources = app.state.resources
        yield Api(http=http, db=resources.db, private_key=private_key.read_bytes())
        await resources.mongo.drop_database(resources.db.name)


def unique_text(subject: str) -> str:
    """A realistic contribution text, different on every call (one record per text)."""
    return (
        f"In 2026 the {subject} ran a programme reference {uuid.uuid4().hex[:8]}. Under Action "
        "Line C4 it trained 420 librarians in digital skills, and its e-learning (C7) "
        "platform published twelve online courses. The programme supports SDGs 4 and 5: most "
        "of the librarians trained were women, and girls' coding clubs met every week."
    )


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["detail"]
    return problem


# --- uploads ------------------------------------------------------------------------------------


async def test_an_uploaded_docx_is_read_tagged_and_kept(api: Api) -> None:
    original = docx_of()
    submitter = api.as_(Role.SUBMITTER, org="org-upload")

    # The name and the Content-Type both say PDF: the bytes say DOCX, and the bytes win.
    response = await submitter.upload(
        original,
        filename="Contribution 2026.pdf",
        content_type="application/pdf",
        organisation="Civil Service Academy",
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/contributions/{created['contribution_id']}"
    assert created["format"] == "docx"
    assert created["organisation"] == "Civil Service Academy"
    assert created["organisation_id"] == "org-upload"
    assert created["original"]["media_type"] == DOCX_TYPE
    assert created["original"]["filename"] == "Contribution 2026.docx"
    assert created["original"]["size"] == len(original)
    assert "Both courses were given in French and Arabic." in created["text"]
    tags = {tag["code"]: tag for tag in created["tags"]}
    assert tags["C4"]["source"] == "explicit"
    assert tags["C4"]["label"] == "Capacity building"
    assert tags["C4"]["evidence"] == (
        "Under Action Line C4 the Academy trained 1,200 civil servants."
    )
    assert created["action_lines"] == ["C4"]

    download = await api.anonymous.get(created["original"]["url"])
    assert download.status_code == 200
    assert download.content == original
    assert download.headers["content-type"] == DOCX_TYPE
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"Contribution 2026.docx\"; filename*=UTF-8''Contribution%202026.docx"
    )
    assert download.headers["x-content-type-options"] == "nosniff"


async def test_a_document_above_the_json_body_limit_is_accepted(api: Api) -> None:
    with_media = io.BytesIO(docx_of())
    with zipfile.ZipFile(with_media, "a") as archive:
        archive.writestr("word/media/photo.bin", os.urandom(MB + MB // 2))  # incompressible
    data = with_media.getvalue()
    assert MB < len(data) < MAX_BYTES

    response = await api.as_(Role.SUBMITTER, org="org-media").upload(data, organisation="Media")

    assert response.status_code == 201, response.text
    assert response.json()["original"]["size"] == len(data)


async def test_a_pdf_called_txt_is_read_as_a_pdf(api: Api) -> None:
    pdf = pdf_of(
        ["Telemedicine for island clinics, 2026", f"Reference {uuid.uuid4().hex}."],
        ["Nurses keep electronic health records and hold telemedicine consultations."],
    )
    response = await api.as_(Role.ADMIN, org=None).upload(
        pdf, filename="notes.txt", content_type="text/plain", organisation="Island Health Board"
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["format"] == "pdf"
    assert created["original"]["filename"] == "notes.pdf"
    assert created["organisation_id"] is None
    inferred = {t["code"]: t for t in created["tags"] if t["source"] == "inferred"}
    assert inferred["C7.e-health"]["in_effect"] is False
    assert "telemedicine" in inferred["C7.e-health"]["cues"]
    assert created["awaiting_review"] is True


async def test_unreadable_uploads_are_refused_with_a_reason(api: Api) -> None:
    submitter = api.as_(Role.SUBMITTER, org="org-refused", subject="refused-1")
    bomb = zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": 16 * MB})
    locked = encrypted(
        pdf_of(["A contribution nobody can read without the key."]), user_password="k"
    )
    scanned = pdf_of([], [], scanned=True)

    for data, reason in ((bomb, "zip-bomb"), (locked, "encrypted"), (scanned, "no-text")):
        problem = assert_problem(await submitter.upload(data, organisation="Org"), 422)
        assert problem["reason"] == reason

    too_large = await submitter.upload(b"word " * (MAX_BYTES // 5 + 10), organisation="Org")
    assert assert_problem(too_large, 413)["detail"].startswith(
        "the file has more than 2.0 MB; a contribution may have at most 2.0 MB"
    )
    far_too_large = await submitter.upload(b"x" * (MAX_BYTES + 2 * MB), organisation="Org")
    assert_problem(far_too_large, 413)
    empty = await submitter.upload(b"", organisation="Org")
    assert_problem(empty, 422)
    no_file = await api.http.post(
        "/contributions/uploads",
        data={"edition": "2026", "title": "x"},
        headers=submitter.headers,
    )
    assert_problem(no_file, 422)
    assert await api.db["contributions"].count_documents({"organisation_id": "org-refused"}) == 0
    await assert_no_orphan_originals(api)


async def test_an_upload_with_a_blank_title_is_refused_as_the_json_route_does(api: Api) -> None:
    submitter = api.as_(Role.SUBMITTER, org="org-blank-title")
    text = unique_text("Blank Title Library").encode()

    uploaded = await submitter.upload(
        text, filename="c.txt", content_type="text/plain", title=" \t ", organisation="Org"
    )
    filed = await submitter.post(
        "/contributions",
        {"edition": 2026, "title": " \t ", "organisation": "Org", "text": text.decode()},
    )

    for response in (uploaded, filed):
        problem = assert_problem(response, 422)
        assert any(e.get("pointer", "").endswith("/title") for e in problem["errors"]), problem
    assert (
        await api.db["contributions"].count_documents({"organisation_id": "org-blank-title"}) == 0
    )
    await assert_no_orphan_originals(api)


async def test_an_uploads_title_is_kept_without_its_surrounding_spaces(api: Api) -> None:
    submitter = api.as_(Role.SUBMITTER, org="org-spaced-title")
    text = unique_text("Spaced Title Library").encode()

    uploaded = await submitter.upload(
        text, filename="c.txt", content_type="text/plain", title="  Annual  ", organisation="Org"
    )

    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["title"] == "Annual"


async def test_the_same_document_twice_is_refused_and_leaves_no_file(api: Api) -> None:
    submitter = api.as_(Role.SUBMITTER, org="org-twice")
    pdf = pdf_of([f"Annual contribution {uuid.uuid4().hex} on broadband for schools."])

    first = await submitter.upload(pdf, organisation="Twice Ltd")
    second = await submitter.upload(pdf, filename="copy.pdf")

    assert first.status_code == 201, first.text
    assert assert_problem(second, 409)["contribution_id"] == first.json()["contribution_id"]
    await assert_no_orphan_originals(api)


async def assert_no_orphan_originals(api: Api) -> None:
    """Every stored original belongs to a contribution, and every contribution's is there."""
    files = {f["_id"] async for f in api.db["contribution_originals.files"].find({}, {"_id": 1})}
    referenced = {
        c["original_file_id"]
        async for c in api.db["contributions"].find(
            {"original_file_id": {"$ne": None}}, {"original_file_id": 1}
        )
    }
    assert files == referenced


# --- fields -------------------------------------------------------------------------------------


async def test_filing_as_sections_and_once_only(api: Api) -> None:
    submitter = api.as_(Role.SUBMITTER, org="org-sections")
    body = {
        "edition": 2026,
        "title": "Community networks in the north",
        "organisation": "Northern Connect",
        "sections": {
            "summary": f"Community networks brought broadband to 30 villages ({uuid.uuid4()}).",
            "challenges": "Solar power for the relays remains costly.",
        },
    }

    created = await submitter.post("/contributions", body)
    again = await submitter.post("/contributions", body)

    assert created.status_code == 201, created.text
    contribution = created.json()
    assert contribution["format"] == "fields"
    assert contribution["text"].startswith("Summary\n\nCommunity networks brought broadband")
    assert "\n\nChallenges\n\nSolar power" in contribution["text"]
    assert contribution["original"] is None
    problem = assert_problem(again, 409)
    assert problem["contribution_id"] == contribution["contribution_id"]
    original = await api.anonymous.get(f"/contributions/{contribution['contribution_id']}/original")
    assert_problem(original, 404)


async def test_two_identical_filings_at_once_make_one_record(api: Api) -> None:
    submitter = api.as_(Role.SUBMITTER, org="org-race")
    body = {
        "edition": 2026,
        "title": "Race",
        "organisation": "Racers",
        "text": unique_text("Racing Library"),
    }

    answers = await asyncio.gather(*(submitter.post("/contributions", body) for _ in range(4)))

    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409]
    assert await api.db["contributions"].count_documents({"organisation_id": "org-race"}) == 1


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"edition": 2026, "title": "t", "organisation": "o"}, ""),
        (
            {
                "edition": 2026,
                "title": "t",
                "organisation": "o",
                "text": "x",
                "sections": {"summary": "y"},
            },
            "",
        ),
        ({"edition": 1999, "title": "t", "organisation": "o", "text": "x"}, "/edition"),
        ({"edition": 2026, "title": "", "organisation": "o", "text": "x"}, "/title"),
        ({"edition": 2026, "title": "A\u202egnp.exe", "organisation": "o", "text": "x"}, "/title"),
        (
            {"edition": 2026, "title": "t", "organisation": "Org\u0000", "text": "x"},
            "/organisation",
        ),
        ({"edition": 2026, "title": "t", "text": "x", "sections": {"summery": "x"}}, "/sections"),
        ({"edition": 2026, "title": "t", "organisation": "o", "text": "1234 5678"}, None),
    ],
)
async def test_bad_filings_are_refused_with_where(
    api: Api, body: dict[str, Any], pointer: str | None
) -> None:
    response = await api.as_(Role.SUBMITTER).post("/contributions", body)
    problem = assert_problem(response, 422)
    if pointer is not None:
        assert any(e.get("pointer", "").startswith(pointer) for e in problem["errors"])


# --- who may do what ----------------------------------------------------------------------------


async def test_roles(api: Api) -> None:
    body = {"edition": 2026, "title": "t", "organisation": "o", "text": unique_text("Roles")}

    assert_problem(await api.anonymous.post("/contributions", body), 401)
    for role in (Role.VOTER, Role.REVIEWER, Role.CHAIR):
        assert_problem(await api.as_(role).post("/contributions", body), 403)
    other_org = await api.as_(Role.SUBMITTER).post(
        "/contributions", body | {"organisation_id": "org-2"}
    )
    assert "your own organisation (org-1)" in assert_problem(other_org, 403)["detail"]
    no_org = await api.as_(Role.SUBMITTER, org=None).post("/contributions", body)
    assert_problem(no_org, 403)

    created = await api.as_(Role.SUBMITTER, org="org-roles").post("/contributions", body)
    assert created.status_code == 201, created.text
    path = f"/contributions/{created.json()['contribution_id']}"
    for role in (Role.SUBMITTER, Role.REVIEWER, Role.CHAIR, Role.VOTER):
        assert_problem(await api.as_(role).patch(f"{path}/tags", {"add": ["C9"]}), 403)
        assert_problem(await api.as_(role).post(f"{path}/retag"), 403)
    assert_problem(await api.anonymous.patch(f"{path}/tags", {"add": ["C9"]}), 401)
    assert (await api.anonymous.get(path)).status_code == 200
    assert (await api.anonymous.get("/contributions")).status_code == 200


# --- editors ------------------------------------------------------------------------------------


async def test_an_editor_corrects_tags_and_the_public_sees_what_not_who(api: Api) -> None:
    filer = api.as_(Role.SUBMITTER, org="org-editor", subject="filer-7")
    body = {"edition": 2026, "title": "Libraries", "organisation": "National Library"}
    created = await filer.post("/contributions", body | {"text": unique_text("National Library")})
    path = f"/contributions/{created.json()['contribution_id']}"
    editor = api.as_(Role.ADMIN, org=None, subject="editor-ana")

    unknown = await editor.patch(f"{path}/tags", {"add": ["C4", "C13", "SDG 0"]})
    problem = assert_problem(unknown, 422)
    assert problem["unknown_codes"] == ["C13", "SDG 0"]
    assert "'C13'" in problem["detail"]

    corrected = await editor.patch(
        f"{path}/tags",
        {"reject": ["SDG5"], "add": ["C3", "C7.e-learning"], "note": "library services are C3"},
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["corrections"][0]["by"] == "editor-ana"

    public = (await api.anonymous.get(path)).json()
    assert public["action_lines"] == ["C4", "C7", "C7.e-learning", "C3"]
    assert public["sdgs"] == ["SDG4"]
    [correction] = public["corrections"]
    assert correction["by"] is None
    assert public["submitted_by"] is None
    assert correction["rejected"] == ["SDG5"]
    assert correction["added"] == ["C3"]
    assert correction["note"] == "library services are C3"
    as_admin = (await editor.get(path)).json()
    assert as_admin["submitted_by"] == "filer-7"

    retagged = await editor.post(f"{path}/retag")
    assert retagged.status_code == 200, retagged.text
    assert retagged.json()["action_lines"] == public["action_lines"]
    assert retagged.json()["sdgs"] == ["SDG4"]

    # What another part of the service (the report) reads back is the same contribution.
    stored = await api.db["contributions"].find_one({"_id": public["contribution_id"]})
    assert stored is not None
    contribution = Contribution.model_validate(stored | {"contribution_id": stored["_id"]})
    assert [t.code for t in contribution.tags_in_effect("sdg")] == ["SDG4"]


# --- reading ------------------------------------------------------------------------------------


async def test_the_public_list_filters_and_pages(api: Api) -> None:
    admin = api.as_(Role.ADMIN, org=None)
    edition = 2019
    organisation = f"Filter Org {uuid.uuid4().hex[:6]}"
    texts = [
        "Under Action Line C4 the Institute trained 60 statisticians in open data.",
        "Our work on women's digital entrepreneurship supports SDG 5 in six countries.",
        "Telemedicine links the clinics; nurses keep electronic health records of patients.",
    ]
    ids = []
    for text in texts:
        created = await admin.post(
            "/contributions",
            {"edition": edition, "title": "t", "organisation": organisation, "text": text},
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["contribution_id"])

    async def found(**params: Any) -> list[str]:
        response = await api.anonymous.get(
            "/contributions", edition=edition, organisation=organisation.upper(), **params
        )
        assert response.status_code == 200, response.text
        return [item["contribution_id"] for item in response.json()["items"]]

    assert await found() == ids[::-1]
    assert await found(action_line="c4") == [ids[0]]
    assert await found(sdg=5) == [ids[1]]
    assert await found(action_line="C7.e-health") == []
    assert await found(action_line="C7 e-health", include_suggested="true") == [ids[2]]
    assert await found(awaiting_review="false") == []
    first_path = f"/contributions/{ids[0]}"
    suggested = [
        tag["code"]
        for tag in (await api.anonymous.get(first_path)).json()["tags"]
        if tag["source"] == "inferred"
    ]
    assert suggested, "the C4 text also suggests codes (open data: C3…)"
    decided = await admin.patch(f"{first_path}/tags", {"reject": suggested})
    assert decided.status_code == 200, decided.text
    assert await found(awaiting_review="false") == [ids[0]]
    assert await found(awaiting_review="true") == ids[:0:-1]

    first = (await api.anonymous.get("/contributions", edition=edition, limit=2)).json()
    assert first["total"] == 3
    item = first["items"][0]
    assert "text" not in item
    assert item["excerpt"].startswith("Telemedicine links the clinics")
    assert {"C7", "C7.e-health"} <= set(item["suggested"])
    rest = (
        await api.anonymous.get(
            "/contributions", edition=edition, limit=2, cursor=first["next_cursor"]
        )
    ).json()
    assert [i["contribution_id"] for i in first["items"] + rest["items"]] == ids[::-1]
    assert rest["next_cursor"] is None

    for params in (
        {"cursor": "not-a-cursor"},
        {"action_line": "C12"},
        {"action_line": "SDG4"},
        {"sdg": 18},
        {"sdg": 4, "action_line": "C4"},
        {"limit": 0},
    ):
        assert_problem(await api.anonymous.get("/contributions", **params), 422)


def cursor_of(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "position",
    [
        # Well-formed dates whose UTC instant falls outside the years 1–9999 a date can hold.
        ["0001-01-01T00:00:00+14:00", "x"],
        ["9999-12-31T23:59:59-14:00", "x"],
        # A lone surrogate: valid JSON, but no UTF-8 string MongoDB could compare with.
        ["2026-01-01T00:00:00+00:00", "\ud800"],
    ],
    ids=["before-the-year-1", "after-the-year-9999", "lone-surrogate"],
)
async def test_a_cursor_this_api_cannot_have_given_out_is_refused(
    api: Api, position: list[str]
) -> None:
    response = await api.anonymous.get("/contributions", cursor=cursor_of(position))

    problem = assert_problem(response, 422)
    assert "the cursor is not one this API gave out" in problem["detail"]


async def test_unknown_contributions_are_not_found(api: Api) -> None:
    for path in ("/contributions/nope", "/contributions/nope/original"):
        assert_problem(await api.anonymous.get(path), 404)
    assert_problem(
        await api.as_(Role.ADMIN).patch("/contributions/nope/tags", {"add": ["C4"]}), 404
    )


async def test_the_collection_has_its_indexes(api: Api) -> None:
    indexes = await api.db["contributions"].index_information()
    assert indexes["one_per_text"]["unique"] is True
    assert {"newest", "by_code", "by_suggested_code", "by_organisation", "review_queue"} <= set(
        indexes
    )
