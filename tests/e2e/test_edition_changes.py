"""An admin moves an edition's dates still to come (`PATCH /editions/{year}`): the schedule, the
review and public voting follow the new dates; dates that have passed, or moves into the past,
are refused with the date named."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Platform
from tests.integration.helpers import eventually

pytestmark = pytest.mark.e2e

YEAR = 2026  # its dates fall in 2026–2027: submissions open a few seconds after it is created


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


async def test_an_admin_moves_the_dates_still_to_come_and_every_service_follows(
    platform: Platform,
) -> None:
    admin = platform.headers(roles=["admin"], sub="admin-1")
    submissions, review, voting = (platform.url(s) for s in ("submissions", "review", "voting"))
    opens = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
    schedule = {
        "submission_opens": _iso(opens),
        "submission_closes": "2027-01-10T00:00:00Z",
        "review_closes": "2027-02-10T00:00:00Z",
        "voting_opens": "2027-02-11T00:00:00Z",
        "voting_closes": "2027-03-10T00:00:00Z",
        "results_at": "2027-03-20T00:00:00Z",
    }
    edition_url = f"{submissions}/editions/{YEAR}"

    async with httpx.AsyncClient(timeout=15) as http:
        r = await http.post(
            f"{submissions}/editions",
            json={"year": YEAR, "title": f"WSIS Prizes {YEAR}", "schedule": schedule},
            headers=admin,
        )
        assert r.status_code == 201, r.text

        async def change(body: dict[str, Any], headers: dict[str, str] = admin) -> httpx.Response:
            return await http.patch(edition_url, json=body, headers=headers)

        # Voting extended by a week, the review by five days, running counts shown.
        r = await change(
            {
                "schedule": {
                    "review_closes": "2027-02-15T00:00:00Z",
                    "voting_opens": "2027-02-16T00:00:00Z",
                    "voting_closes": "2027-03-17T00:00:00Z",
                    "results_at": "2027-03-27T00:00:00Z",
                },
                "show_running_counts": True,
            }
        )
        assert r.status_code == 200, r.text
        changed = r.json()
        assert changed["schedule"] == schedule | {
            "ceremony_at": None,
            "review_closes": "2027-02-15T00:00:00Z",
            "voting_opens": "2027-02-16T00:00:00Z",
            "voting_closes": "2027-03-17T00:00:00Z",
            "results_at": "2027-03-27T00:00:00Z",
        }
        assert changed["show_running_counts"] is True

        # Public voting says the new window; the review its new close.
        attempts = iter(range(1_000))

        async def voting_knows_the_new_window() -> bool:
            await asyncio.sleep(0.3)  # a new voter each time, and slowly: within the rate limits
            r = await http.post(
                f"{voting}/editions/{YEAR}/votes",
                json={"category": "C9", "entry_id": "no-such-entry"},
                headers=platform.headers(roles=["voter"], sub=f"voter-ec-{next(attempts)}"),
            )
            return r.status_code == 409 and _moment(r.json().get("closes_at")) == _moment(
                "2027-03-17T00:00:00Z"
            )

        await eventually(voting_knows_the_new_window, what="voting to know the new window")

        async def review_knows_its_new_close() -> bool:
            r = await http.get(f"{review}/editions/{YEAR}/review-settings", headers=admin)
            return r.status_code == 200 and _moment(r.json()["review_closes"]) == _moment(
                "2027-02-15T00:00:00Z"
            )

        await eventually(review_knows_its_new_close, what="the review to know its new close")

        # Submissions open by the schedule; from then on their opening date stays.
        async def submissions_open() -> bool:
            phase: str = (await http.get(edition_url)).json()["phase"]
            return phase == "submission"

        await eventually(submissions_open, what="the schedule to open submissions")
        r = await change({"schedule": {"submission_opens": "2026-12-31T00:00:00Z"}})
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert "passed on" in r.json()["detail"]
        assert r.json()["errors"][0]["pointer"] == "/schedule/submission_opens"

        r = await change({"schedule": {"submission_closes": _iso(opens)}})
        assert r.status_code == 422, r.text
        assert f"POST /editions/{YEAR}/phase" in r.json()["detail"]

        r = await change({"schedule": {"voting_closes": "2027-04-30T00:00:00Z"}})
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["pointer"] == "/schedule/voting_closes"
        assert "must not be after schedule.results_at" in r.json()["detail"]

        r = await change({"schedule": {"voting_closes": None}})
        assert r.status_code == 422, r.text
        assert "cannot be removed" in r.text
        assert r.json()["errors"][0]["pointer"] == "/schedule/voting_closes"

        r = await change({"categories": ["C1"]})
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["pointer"] == "/categories"

        team = platform.headers(roles=["submitter"], sub="team-1", org="org-1")
        assert (await change({"title": "Mine now"}, headers=team)).status_code == 403
        r = await http.patch(f"{submissions}/editions/2099", json={"title": "x" * 5}, headers=admin)
        assert r.status_code == 404, r.text

        # Nothing changed by the refusals; a change that changes nothing is no change.
        r = await change({"title": f"WSIS Prizes {YEAR}", "schedule": {}})
        assert r.status_code == 200
        assert r.json()["schedule"] == changed["schedule"]
        assert r.json()["phase"] == "submission"
