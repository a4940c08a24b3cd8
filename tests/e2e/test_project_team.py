"""A project team's whole journey in the submissions service, through the public APIs only:
draft and autosave, submit, amend, attach, withdraw — and every refusal on the way."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Platform
from tests.integration.helpers import eventually

pytestmark = pytest.mark.e2e

YEAR = 2032
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200


def schedule() -> dict[str, str]:
    start = datetime(YEAR, 1, 10, tzinfo=UTC)
    days = {
        "submission_opens": 0,
        "submission_closes": 30,
        "review_closes": 60,
        "voting_opens": 61,
        "voting_closes": 90,
        "results_at": 100,
    }
    return {name: (start + timedelta(days=d)).isoformat() for name, d in days.items()}


def words(n: int, seed: str) -> str:
    vocabulary = f"{seed} community network villages schools connect mountain radio".split()
    return " ".join(vocabulary[i % len(vocabulary)] + str(i // len(vocabulary)) for i in range(n))


def complete(title: str, seed: str, category: str = "C2") -> dict[str, Any]:
    return {
        "title": title,
        "short_description": words(170, seed),
        "full_description": "How the project began, who took part and what it changed.",
        "category": category,
        "sdgs": [9, 4],
        "sdg_targets": ["9.c"],
        "country": "NP",
        "stakeholder_type": "civil society",
        "organisation_name": "Mesh Nepal",
        "impact_qualitative": "Villages that had no connection now have one.",
        "beneficiaries": "40,000 people in 60 villages",
        "start_date": "2024-05-01",
        "project_status": "completed",
        "contact_name": "Pema Sherpa",
        "contact_email": "pema@mesh.example.org",
    }


async def test_a_team_drafts_submits_amends_attaches_and_withdraws(platform: Platform) -> None:
    admin = platform.headers(roles=["admin"], sub="admin-2")
    team = platform.headers(roles=["submitter"], sub="team-a", org="org-mesh")
    other_team = platform.headers(roles=["submitter"], sub="team-b", org="org-other")
    reviewer = platform.headers(roles=["reviewer"], sub="reviewer-1")
    s, t = platform.url("submissions"), platform.url("stocktaking")

    async with httpx.AsyncClient(timeout=15) as http:
        r = await http.post(
            f"{s}/editions",
            json={"year": YEAR, "title": f"WSIS Prizes {YEAR}", "schedule": schedule()},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        r = await http.post(f"{s}/editions/{YEAR}/entries", json={"title": "Early"}, headers=team)
        assert r.status_code == 201, "a draft may be started before submissions open"
        early_draft = r.json()["entry_id"]
        r = await http.post(f"{s}/entries/{early_draft}/submit", headers=team)
        assert r.status_code == 409
        assert r.json()["code"] == "phase-closed"
        assert r.json()["required_phase"] == "submission"
        r = await http.post(
            f"{s}/editions/{YEAR}/phase", json={"phase": "submission"}, headers=admin
        )
        assert r.status_code == 200

        # Autosave: a draft is created with a title, then patched field by field.
        r = await http.post(
            f"{s}/editions/{YEAR}/entries", json={"title": "Mountain mesh"}, headers=team
        )
        entry_id = r.json()["entry_id"]
        for field, value in complete("Mountain mesh", "alpha").items():
            r = await http.patch(f"{s}/entries/{entry_id}", json={field: value}, headers=team)
            assert r.status_code == 200, r.text
            if field == "title":
                continue
            r = await http.patch(f"{s}/entries/{entry_id}", json={}, headers=team)
            assert r.status_code == 200

        # Bad input: each field error is a JSON Pointer with a reason.
        r = await http.patch(
            f"{s}/entries/{entry_id}",
            json={"sdgs": [0, 18], "contact_email": "not-an-email", "country": "XX"},
            headers=team,
        )
        assert r.status_code == 422
        pointers = {e["pointer"] for e in r.json()["errors"]}
        assert {"/sdgs/0", "/sdgs/1", "/contact_email", "/country"} <= pointers
        r = await http.patch(
            f"{s}/entries/{entry_id}",
            content=b'{"title": "' + b"x" * 2_000_000 + b'"}',
            headers=team | {"content-type": "application/json"},
        )
        assert r.status_code == 413
        assert r.headers["content-type"] == "application/problem+json"

        # Another organisation cannot see or touch it.
        for method, path in (("GET", ""), ("PATCH", ""), ("POST", "/submit")):
            r = await http.request(
                method, f"{s}/entries/{entry_id}{path}", json={}, headers=other_team
            )
            assert r.status_code == 404, (method, path, r.text)

        # An incomplete draft is refused with what is missing.
        r = await http.post(f"{s}/editions/{YEAR}/entries", json={"title": "Half"}, headers=team)
        half = r.json()["entry_id"]
        r = await http.post(f"{s}/entries/{half}/submit", headers=team)
        assert r.status_code == 422
        assert "short_description" in r.json()["missing"]
        assert {
            "pointer": "/contact_email",
            "detail": "give the contact person's email address",
        } in r.json()["errors"]

        # Attachments: sniffed from content, not from the name.
        r = await http.post(
            f"{s}/entries/{entry_id}/attachments",
            params={"filename": "report.pdf"},
            content=PDF,
            headers=team | {"content-type": "application/octet-stream"},
        )
        assert r.status_code == 201, r.text
        attachment = r.json()
        assert attachment["content_type"] == "application/pdf"
        assert attachment["filename"] == "report.pdf"
        r = await http.post(
            f"{s}/entries/{entry_id}/attachments",
            params={"filename": "harmless.pdf"},
            content=EXE,
            headers=team,
        )
        assert r.status_code == 422
        assert "PDF, PNG or JPEG" in r.json()["detail"]

        # Submit: submission.submitted reaches stocktaking with the public fields only.
        r = await http.post(f"{s}/entries/{entry_id}/submit", headers=team)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "submitted"

        async def in_stocktaking(title: str) -> bool:
            r = await http.get(f"{t}/entries/{entry_id}")
            return r.status_code == 200 and r.json()["entry"]["title"] == title

        await eventually(lambda: in_stocktaking("Mountain mesh"), what="the submitted entry")
        public = (await http.get(f"{t}/entries/{entry_id}")).text
        assert "pema@mesh.example.org" not in public
        assert "report.pdf" not in public

        # A reviewer reads the attachment through a signed link, without a token.
        r = await http.post(
            f"{s}/entries/{entry_id}/attachments/{attachment['attachment_id']}/link",
            headers=reviewer,
        )
        assert r.status_code == 200, r.text
        link = r.json()["url"]
        r = await http.get(link)
        assert r.status_code == 200
        assert r.content == PDF
        r = await http.get(link + "tampered")
        assert r.status_code == 403

        # The same project again, by another organisation: refused as a near-duplicate.
        r = await http.post(
            f"{s}/editions/{YEAR}/entries",
            json=complete("Mountain Mesh!", "alpha") | {"organisation_name": "Other"},
            headers=other_team,
        )
        copy = r.json()["entry_id"]
        r = await http.post(f"{s}/entries/{copy}/submit", headers=other_team)
        assert r.status_code == 409
        assert r.json()["code"] == "near-duplicate"
        # A second project of the same organisation in the same category: refused.
        r = await http.post(
            f"{s}/editions/{YEAR}/entries",
            json=complete("Radio classrooms", "omega"),
            headers=team,
        )
        second = r.json()["entry_id"]
        r = await http.post(f"{s}/entries/{second}/submit", headers=team)
        assert r.status_code == 409
        assert "one project per category" in r.json()["detail"]

        # Amend: submission.amended updates stocktaking.
        r = await http.post(
            f"{s}/entries/{entry_id}/amend", json={"title": "Mountain mesh networks"}, headers=team
        )
        assert r.status_code == 200, r.text
        await eventually(lambda: in_stocktaking("Mountain mesh networks"), what="the amendment")

        # The admin's list, filter and CSV export; the audit trail.
        r = await http.get(
            f"{s}/admin/editions/{YEAR}/entries",
            params={"status": "submitted", "region": "Asia & Pacific"},
            headers=admin,
        )
        assert [e["entry_id"] for e in r.json()["items"]] == [entry_id]
        r = await http.get(  # a country as typed: any case, stray spaces
            f"{s}/admin/editions/{YEAR}/entries",
            params={"status": "submitted", "country": " np "},
            headers=admin,
        )
        assert [e["entry_id"] for e in r.json()["items"]] == [entry_id]
        r = await http.get(
            f"{s}/admin/editions/{YEAR}/entries", params={"country": "ß"}, headers=admin
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["parameter"] == "country"
        r = await http.get(f"{s}/admin/editions/{YEAR}/entries.csv", headers=admin)
        rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
        # Page by page, one entry each: every entry of the CSV once, then no next cursor.
        paged: list[str] = []
        cursor = None
        while True:
            r = await http.get(
                f"{s}/admin/editions/{YEAR}/entries",
                params={"limit": 1} | ({"cursor": cursor} if cursor else {}),
                headers=admin,
            )
            page = r.json()
            paged += [e["entry_id"] for e in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(paged) == sorted(row["entry_id"] for row in rows)
        assert len(set(paged)) == len(paged) >= 4
        r = await http.get(
            f"{s}/admin/editions/{YEAR}/entries", params={"cursor": "page-2"}, headers=admin
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["parameter"] == "cursor"
        assert {row["entry_id"] for row in rows} >= {entry_id, half, copy, second}
        assert (
            next(row for row in rows if row["entry_id"] == entry_id)["region"] == "Asia & Pacific"
        )
        r = await http.get(f"{s}/admin/editions/{YEAR}/entries", headers=team)
        assert r.status_code == 403
        r = await http.get(f"{s}/entries/{entry_id}/history", headers=team)
        actions = [h["action"] for h in r.json()]
        assert actions[0] == "created"
        assert {"edited", "attached", "submitted", "amended"} <= set(actions)

        # Withdraw: submission.withdrawn; stocktaking shows it withdrawn.
        r = await http.post(
            f"{s}/entries/{entry_id}/withdraw", json={"reason": "merged"}, headers=team
        )
        assert r.status_code == 200
        assert r.json()["status"] == "withdrawn"

        async def withdrawn() -> bool:
            r = await http.get(f"{t}/entries/{entry_id}")
            return bool(r.json()["status"] == "withdrawn")

        await eventually(withdrawn, what="stocktaking to show the withdrawal")

        # Once the submission phase is over, nothing can be amended or withdrawn.
        await http.post(f"{s}/editions/{YEAR}/phase", json={"phase": "review"}, headers=admin)
        r = await http.post(f"{s}/entries/{second}/submit", headers=team)
        assert r.status_code == 409
        assert r.json()["code"] == "phase-closed"
