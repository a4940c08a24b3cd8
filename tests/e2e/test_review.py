"""The review, through the public APIs of all four services: entries submitted → eligibility →
assigned → scored → nominated reach the voting ballot; and who may do what along the way."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import EditionAdmin, Platform
from tests.e2e.test_walking_skeleton import schedule as skeleton_schedule
from tests.integration.helpers import eventually

pytestmark = pytest.mark.e2e

YEAR = 2033
CRITERIA = ("impact", "innovation", "sustainability", "replicability", "alignment")
TEAMS = [  # organisation id, organisation name, country
    ("org-ke-1", "Open Schools Kenya", "KE"),
    ("org-ke-2", "Nairobi Code Clubs", "KE"),
    ("org-pe", "Universidad Andina", "PE"),
    ("org-ee", "Estonian Skills Centre", "EE"),
]
REVIEWERS_CSV = """reviewer_id,name,email,organisation,country,languages,categories,max_load
rev-kenya,Wanjiru Kamau,wanjiru@example.org,Kenyatta University,KE,en;sw,C4,10
rev-peru,Rosa Quispe,rosa@example.org,Universidad Andina,PE,es,C4,10
rev-france,Luc Martin,luc@example.org,Sorbonne,FR,fr;en,C4,10
rev-japan,Aiko Sato,aiko@example.org,Keio University,JP,ja;en,C4,10
rev-brazil,Ana Souza,ana@example.org,USP,BR,pt;en,C4,10
broken,No Email,not-an-email,Somewhere,XX,,C4,10
"""


def schedule() -> dict[str, str]:
    return {
        name: value.replace(str(YEAR - 2), str(YEAR)) for name, value in skeleton_schedule().items()
    }


def entry_content(number: int, name: str, country: str) -> dict[str, Any]:
    rng = random.Random(number)
    words = [f"{w}{number}" for w in rng.sample([f"term{n}" for n in range(3000)], 170)]
    return {
        "title": f"Digital skills programme {number} of {name}",
        "short_description": " ".join(words),
        "full_description": "How the programme started, who took part and what it achieved.",
        "category": "C4",
        "sdgs": [4],
        "country": country,
        "stakeholder_type": "academia",
        "organisation_name": name,
        "website": f"https://example.org/{number}",
        "partners": [f"Partner of {name}"],
        "impact_qualitative": "Thousands of people learned digital skills.",
        "beneficiaries": "students and teachers",
        "start_date": "2024-01-01",
        "project_status": "completed",
        "contact_name": "Contact",
        "contact_email": f"contact{number}@example.org",
    }


async def test_entries_go_through_the_review_to_the_ballot(platform: Platform) -> None:
    admin = platform.headers(roles=["admin"], sub="admin-1")
    chair = platform.headers(roles=["chair"], sub="chair-1")
    outsider = platform.headers(roles=["submitter"], sub="team-x", org="org-x")

    def reviewer(sub: str) -> dict[str, str]:
        return platform.headers(roles=["reviewer"], sub=sub)

    async with httpx.AsyncClient(timeout=15) as http:
        submissions, review = platform.url("submissions"), platform.url("review")
        voting, stocktaking = platform.url("voting"), platform.url("stocktaking")

        edition = EditionAdmin(http, platform, YEAR)
        await edition.open(schedule())
        set_phase = edition.set_phase

        # The chair builds the expert group from a CSV and sets the edition's review rules.
        r = await http.post(
            f"{review}/reviewers/import",
            content=REVIEWERS_CSV.encode(),
            headers=chair | {"Content-Type": "text/csv"},
        )
        assert r.status_code == 200, r.text
        report = r.json()
        assert (report["created"], report["errors"]) == (5, 1)
        broken = next(row for row in report["rows"] if row["outcome"] == "error")
        assert {e["column"] for e in broken["errors"]} == {"email", "country"}
        rules = {"reviewers_per_entry": 2, "same_country_is_conflict": True, "blind": True}
        r = await http.put(
            f"{review}/editions/{YEAR}/review-settings/rules", json=rules, headers=chair
        )
        assert r.status_code == 200, r.text

        # Four teams submit.
        entry_ids: dict[str, str] = {}
        for number, (org, name, country) in enumerate(TEAMS):
            team = platform.headers(roles=["submitter"], sub=f"team-{org}", org=org)
            r = await http.post(
                f"{submissions}/editions/{YEAR}/entries",
                json=entry_content(number, name, country),
                headers=team,
            )
            assert r.status_code == 201, r.text
            entry_id = r.json()["entry_id"]
            r = await http.post(f"{submissions}/entries/{entry_id}/submit", headers=team)
            assert r.status_code == 200, r.text
            entry_ids[org] = entry_id

        async def all_received() -> bool:
            r = await http.get(f"{review}/editions/{YEAR}/candidates", headers=chair)
            return len(r.json()) == len(TEAMS)

        await eventually(all_received, what="the review to receive every entry")
        await set_phase("review")

        # Eligibility: one entry is out; its team sees why.
        async def decide(org: str, body: dict[str, Any]) -> bool:
            r = await http.post(
                f"{review}/candidates/{entry_ids[org]}/eligibility", json=body, headers=chair
            )
            return r.status_code == 200

        await eventually(
            lambda: decide("org-ee", {"eligible": False, "reason": "project_not_completed"}),
            what="the review phase to reach the review service",
        )
        for org in ("org-ke-1", "org-ke-2", "org-pe"):
            assert await decide(org, {"eligible": True})
        ee_team = platform.headers(roles=["submitter"], sub="team-org-ee", org="org-ee")

        async def team_sees_ineligibility() -> bool:
            r = await http.get(f"{submissions}/entries/{entry_ids['org-ee']}", headers=ee_team)
            eligibility = r.json().get("eligibility")
            return bool(eligibility and eligibility["reason"] == "project_not_completed")

        await eventually(team_sees_ineligibility, what="the team to see the eligibility decision")

        # The solver assigns two reviewers per eligible entry, never a conflicted one.
        r = await http.post(f"{review}/editions/{YEAR}/assignments/run", headers=chair)
        assert r.status_code == 200, r.text
        run = r.json()
        assert (run["entries_considered"], run["new_assignments"]) == (3, 6)
        assert run["uncovered"] == []
        assert run["load_spread"] <= 1
        r = await http.get(f"{review}/editions/{YEAR}/assignments", headers=chair)
        pairs = {(a["entry_id"], a["reviewer_id"]) for a in r.json() if a["status"] == "active"}
        assert len(pairs) == 6
        for org in ("org-ke-1", "org-ke-2"):
            assert (entry_ids[org], "rev-kenya") not in pairs, "same country"
        assert (entry_ids["org-pe"], "rev-peru") not in pairs, "same organisation and country"
        assert not any(e == entry_ids["org-ee"] for e, _ in pairs), "ineligible: no reviewers"

        # Each reviewer sees only their own assignments, blind.
        by_reviewer: dict[str, list[str]] = {}
        for entry_id, reviewer_id in sorted(pairs):
            by_reviewer.setdefault(reviewer_id, []).append(entry_id)
        someone, their_entries = next(iter(sorted(by_reviewer.items())))
        r = await http.get(
            f"{review}/me/assignments", params={"year": YEAR}, headers=reviewer(someone)
        )
        assert r.status_code == 200, r.text
        mine = r.json()
        assert sorted(a["entry"]["entry_id"] for a in mine) == sorted(their_entries)
        assert all(a["blind"] and "organisation_name" not in a["entry"] for a in mine)
        assert all("website" not in a["entry"] and "partners" not in a["entry"] for a in mine)
        not_theirs = next(e for e in entry_ids.values() if e not in their_entries)
        r = await http.get(f"{review}/me/assignments/{not_theirs}", headers=reviewer(someone))
        assert r.status_code == 404
        r = await http.patch(
            f"{review}/me/assignments/{not_theirs}/review",
            json={"overall_comment": "not mine"},
            headers=reviewer(someone),
        )
        assert r.status_code == 404

        # A reviewer declines one entry; another reviewer takes it at once.
        decliner, declined_entry = someone, their_entries[0]
        r = await http.post(
            f"{review}/me/assignments/{declined_entry}/decline",
            json={"reason": "I advised this team last year"},
            headers=reviewer(decliner),
        )
        assert r.status_code == 200, r.text
        assert r.json()["new_assignments"] == 1
        r = await http.get(
            f"{review}/editions/{YEAR}/assignments",
            params={"entry_id": declined_entry},
            headers=chair,
        )
        active = [a["reviewer_id"] for a in r.json() if a["status"] == "active"]
        assert len(active) == 2
        assert decliner not in active

        # Every active reviewer scores and submits; marks favour the Peruvian entry.
        r = await http.get(f"{review}/editions/{YEAR}/assignments", headers=chair)
        active_pairs = [
            (a["entry_id"], a["reviewer_id"]) for a in r.json() if a["status"] == "active"
        ]
        for entry_id, reviewer_id in active_pairs:
            mark = 9 if entry_id == entry_ids["org-pe"] else 5
            body = {
                "scores": {k: {"score": mark, "comment": f"{k} seen"} for k in CRITERIA},
                "overall_comment": "Reviewed with care.",
                "recommendation": "nominate" if mark == 9 else "consider",
            }
            url = f"{review}/me/assignments/{entry_id}/review"
            r = await http.patch(url, json=body, headers=reviewer(reviewer_id))
            assert r.status_code == 200, r.text
            r = await http.post(f"{url}/submit", headers=reviewer(reviewer_id))
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "submitted"

        # Only the chair sees scores.
        for intruder in (reviewer(someone), outsider, admin):
            r = await http.get(
                f"{review}/editions/{YEAR}/ranking", params={"category": "C4"}, headers=intruder
            )
            assert r.status_code == 403, (intruder, r.text)
        r = await http.get(
            f"{review}/candidates/{entry_ids['org-pe']}/reviews", headers=reviewer(someone)
        )
        assert r.status_code == 403
        r = await http.get(
            f"{review}/editions/{YEAR}/ranking", params={"category": "C4"}, headers=chair
        )
        assert r.status_code == 200, r.text
        ranking = r.json()
        assert ranking[0]["candidate"]["entry"]["entry_id"] == entry_ids["org-pe"]
        assert ranking[0]["rank"] == 1
        assert ranking[0]["reviews"] == 2
        assert [row["candidate"]["status"] for row in ranking] == ["eligible"] * 3

        # Progress and the export the chair asks for most.
        r = await http.get(f"{review}/editions/{YEAR}/progress", headers=chair)
        assert r.json()["by_category"]["C4"] == {
            "assigned": 6,
            "submitted": 6,
            "drafts": 0,
            "pending": 0,
            "declined": 1,
        }
        r = await http.get(f"{review}/editions/{YEAR}/reviews/export", headers=chair)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/csv")
        lines = r.content.decode("utf-8-sig").strip().splitlines()
        assert len(lines) == 7
        assert "impact_score" in lines[0]
        r = await http.get(
            f"{review}/editions/{YEAR}/reviews/export", params={"format": "xlsx"}, headers=chair
        )
        assert r.status_code == 200
        assert r.content[:2] == b"PK", "an XLSX file is a zip"

        # The chair nominates the top entry; it reaches the public ballot.
        r = await http.post(
            f"{review}/editions/{YEAR}/nominations",
            json={"top_per_category": 1, "dry_run": True},
            headers=chair,
        )
        assert [c["entry"]["entry_id"] for c in r.json()["nominated"]] == [entry_ids["org-pe"]]
        r = await http.post(
            f"{review}/editions/{YEAR}/nominations",
            json={"top_per_category": 1, "reason": "highest normalised score"},
            headers=chair,
        )
        assert r.status_code == 200, r.text
        r = await http.post(
            f"{review}/candidates/{entry_ids['org-ee']}/nomination",
            json={"nominated": True},
            headers=chair,
        )
        assert r.status_code == 409, "an ineligible entry cannot be nominated"

        async def on_ballot() -> bool:
            r = await http.get(f"{voting}/editions/{YEAR}/ballot")
            nominees = [n["entry_id"] for c in r.json() for n in c["nominees"]]
            return nominees == [entry_ids["org-pe"]]

        await eventually(on_ballot, what="the nominee to reach the ballot")
        r = await http.get(f"{review}/candidates/{entry_ids['org-pe']}/trail", headers=chair)
        actions = [t["action"] for t in r.json()]
        assert actions.count("submitted") == 2

        # The public Stocktaking database shows where each entry stands, with the review's
        # aggregate figures and never a reviewer or an individual score.
        async def stocktaking_caught_up() -> bool:
            statuses = {}
            for org in ("org-ee", "org-pe", "org-ke-1"):
                r = await http.get(f"{stocktaking}/entries/{entry_ids[org]}")
                statuses[org] = r.json().get("status")
            return statuses == {
                "org-ee": "ineligible",
                "org-pe": "nominated",
                "org-ke-1": "eligible",
            }

        await eventually(stocktaking_caught_up, what="stocktaking to show the review's outcome")
        public = (await http.get(f"{stocktaking}/entries/{entry_ids['org-pe']}")).text
        summary = (await http.get(f"{stocktaking}/entries/{entry_ids['org-pe']}")).json()[
            "review_summary"
        ]
        assert summary["reviews"] == 2
        assert summary["weighted_mean"] == pytest.approx(10 * 8 / 9, abs=1e-3)
        assert "rev-" not in public, "no reviewer identity in public"
