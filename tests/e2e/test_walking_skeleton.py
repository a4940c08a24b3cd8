"""One nomination walks through all four services, through public HTTP APIs and Kafka only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Platform
from tests.integration.helpers import eventually

pytestmark = pytest.mark.e2e

YEAR = 2031
SHORT_DESCRIPTION = " ".join(
    ["Rural schools in three counties get solar-powered tablets, offline lessons and trained"]
    + ["teachers so that every pupil can learn digital skills close to home."] * 12
)


def schedule() -> dict[str, str]:
    start = datetime(YEAR, 1, 10, tzinfo=UTC)
    steps = {
        "submission_opens": 0,
        "submission_closes": 30,
        "review_closes": 60,
        "voting_opens": 61,
        "voting_closes": 90,
        "results_at": 100,
        "ceremony_at": 120,
    }
    return {name: (start + timedelta(days=d)).isoformat() for name, d in steps.items()}


def entry_content() -> dict[str, Any]:
    return {
        "title": "Solar classrooms for digital skills",
        "short_description": SHORT_DESCRIPTION,
        "full_description": "The full story of the project, its partners and its results.",
        "category": "C7.e-learning",
        "action_lines": ["C4"],
        "sdgs": [4, 9],
        "country": "ke",
        "stakeholder_type": "civil society",
        "organisation_name": "Open Schools Kenya",
        "website": "https://schools.example.org",
        "impact_qualitative": "Pupils in 40 schools now learn with digital tools every week.",
        "beneficiaries": "12,000 pupils and 300 teachers in rural counties",
        "start_date": "2025-02-01",
        "project_status": "completed",
        "contact_name": "Amina Otieno",
        "contact_email": "amina@schools.example.org",
    }


async def test_a_nomination_walks_through_all_four_services(platform: Platform) -> None:
    admin = platform.headers(roles=["admin"], sub="admin-1")
    team = platform.headers(roles=["submitter"], sub="team-1", org="org-osk")
    chair = platform.headers(roles=["chair"], sub="chair-1")
    voter = platform.headers(roles=["voter"], sub="voter-1")

    async with httpx.AsyncClient(timeout=10) as http:
        submissions, review = platform.url("submissions"), platform.url("review")
        voting, stocktaking = platform.url("voting"), platform.url("stocktaking")

        async def set_phase(phase: str) -> None:
            r = await http.post(
                f"{submissions}/editions/{YEAR}/phase", json={"phase": phase}, headers=admin
            )
            assert r.status_code == 200, r.text
            assert r.json()["phase"] == phase

        # An admin opens the edition.
        r = await http.post(
            f"{submissions}/editions",
            json={"year": YEAR, "title": f"WSIS Prizes {YEAR}", "schedule": schedule()},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        assert len(r.json()["categories"]) == 18
        await set_phase("submission")

        # A project team drafts and submits one entry.
        r = await http.post(
            f"{submissions}/editions/{YEAR}/entries", json=entry_content(), headers=team
        )
        assert r.status_code == 201, r.text
        entry_id = r.json()["entry_id"]
        assert r.json()["status"] == "draft"
        r = await http.post(f"{submissions}/entries/{entry_id}/submit", headers=team)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "submitted"
        r = await http.post(f"{submissions}/entries/{entry_id}/submit", headers=team)
        assert r.status_code == 409
        assert r.headers["content-type"] == "application/problem+json"

        # Review receives it (submission.submitted); in the review phase the chair marks it
        # eligible, then nominates it.
        async def review_has_entry() -> bool:
            r = await http.get(f"{review}/editions/{YEAR}/candidates", headers=chair)
            return any(c["entry"]["entry_id"] == entry_id for c in r.json())

        await eventually(review_has_entry, what="review to receive the entry")
        r = await http.post(
            f"{review}/candidates/{entry_id}/nomination", json={"nominated": True}, headers=chair
        )
        assert r.status_code == 409, "nominating before the review phase must be refused"
        assert r.json()["code"] == "phase-closed"
        await set_phase("review")

        async def eligible() -> bool:
            r = await http.post(
                f"{review}/candidates/{entry_id}/eligibility",
                json={"eligible": True},
                headers=chair,
            )
            return r.status_code == 200

        await eventually(eligible, what="the entry to be marked eligible in the review phase")

        async def nominated() -> bool:
            r = await http.post(
                f"{review}/candidates/{entry_id}/nomination",
                json={"nominated": True},
                headers=chair,
            )
            return r.status_code == 200

        await eventually(nominated, what="the chair's nomination to be accepted")

        # Voting builds the ballot (nomination.decided) and opens with the voting phase.
        async def on_ballot() -> bool:
            r = await http.get(f"{voting}/editions/{YEAR}/ballot")
            return any(n["entry_id"] == entry_id for c in r.json() for n in c["nominees"])

        await eventually(on_ballot, what="the nominee to reach the ballot")
        vote = {"category": "C7.e-learning", "entry_id": entry_id}
        r = await http.post(f"{voting}/editions/{YEAR}/votes", json=vote, headers=voter)
        assert r.status_code == 409
        assert r.json()["code"] == "phase-closed"
        await set_phase("voting")

        receipts: list[dict[str, Any]] = []

        async def voted() -> bool:
            r = await http.post(f"{voting}/editions/{YEAR}/votes", json=vote, headers=voter)
            if r.status_code == 201:
                receipts.append(r.json())
            return r.status_code == 201

        await eventually(voted, what="the vote to be accepted once voting opened")
        receipt = receipts[0]
        r = await http.post(f"{voting}/editions/{YEAR}/votes", json=vote, headers=voter)
        assert r.status_code == 409
        assert r.json()["code"] == "already-voted", r.text
        assert r.json().get("receipt_id") == receipt["receipt_id"], r.text
        r = await http.post(
            f"{voting}/editions/{YEAR}/votes",
            json={"category": "C4", "entry_id": entry_id},
            headers=voter,
        )
        assert r.status_code == 422
        r = await http.get(f"{voting}/editions/{YEAR}/my-votes", headers=voter)
        assert [v["receipt_id"] for v in r.json()] == [receipt["receipt_id"]]

        # The tally consumer counts the vote; the public does not see counts during voting.
        results_url = f"{voting}/editions/{YEAR}/results/C7.e-learning"

        async def tallied() -> bool:
            r = await http.get(results_url, headers=admin)
            return bool(r.json()["nominees"][0]["votes"] == 1)

        await eventually(tallied, what="the tally to count the vote")
        r = await http.get(results_url)
        assert r.json()["counts_public"] is False
        assert r.json()["nominees"][0]["votes"] is None

        await set_phase("results")

        async def public_results() -> bool:
            r = await http.get(results_url)
            return bool(r.json()["counts_public"] and r.json()["nominees"][0]["votes"] == 1)

        await eventually(public_results, what="public results")
        r = await http.get(results_url)
        r304 = await http.get(results_url, headers={"If-None-Match": r.headers["etag"]})
        assert r304.status_code == 304

        # Stocktaking shows the entry with its status and vote count.
        async def in_stocktaking() -> bool:
            r = await http.get(f"{stocktaking}/entries/{entry_id}")
            return (
                r.status_code == 200
                and r.json()["status"] == "nominated"
                and r.json()["votes"] == 1
            )

        await eventually(in_stocktaking, what="stocktaking to show the nominee with its vote")
        r = await http.get(f"{stocktaking}/entries", params={"edition": YEAR, "q": "solar"})
        assert [item["entry_id"] for item in r.json()["items"]] == [entry_id]
        assert r.json()["items"][0]["entry"]["region"] == "Africa"
        assert "contact" not in r.text
