"""An admin moves an edition's dates (`PATCH /editions/{year}`): the schedule, the review and
public voting follow the new dates; dates that can no longer move, moves into the past and
changes made on an edition read before another change are refused, naming why."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Platform
from tests.integration.helpers import eventually

pytestmark = pytest.mark.e2e

# Years other tests of the session create (the demo data's 2027, the README's walk 2028, …).
TAKEN = {2027, 2028, 2029, *range(2031, 2038)}


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _year_near(now: datetime) -> int:
    """A free year whose dates may fall within the next months (two years around it)."""
    return next(y for y in (now.year, now.year - 1, now.year + 1) if y not in TAKEN)


async def test_an_admin_moves_the_dates_still_to_come_and_every_service_follows(
    platform: Platform,
) -> None:
    admin = platform.headers(roles=["admin"], sub="admin-1")
    submissions, review, voting = (platform.url(s) for s in ("submissions", "review", "voting"))
    now = datetime.now(UTC).replace(microsecond=0)
    year = _year_near(now)
    opens = now + timedelta(seconds=3)
    day = timedelta(days=1)
    schedule = {
        "submission_opens": _iso(opens),
        "submission_closes": _iso(now + 30 * day),
        "review_closes": _iso(now + 60 * day),
        "voting_opens": _iso(now + 61 * day),
        "voting_closes": _iso(now + 90 * day),
        "results_at": _iso(now + 100 * day),
    }
    moved = {
        "review_closes": _iso(now + 65 * day),
        "voting_opens": _iso(now + 66 * day),
        "voting_closes": _iso(now + 97 * day),
        "results_at": _iso(now + 107 * day),
    }
    edition_url = f"{submissions}/editions/{year}"

    async with httpx.AsyncClient(timeout=15) as http:
        r = await http.post(
            f"{submissions}/editions",
            json={"year": year, "title": f"WSIS Prizes {year}", "schedule": schedule},
            headers=admin,
        )
        assert r.status_code == 201, r.text

        async def change(body: dict[str, Any], headers: dict[str, str] = admin) -> httpx.Response:
            return await http.patch(edition_url, json=body, headers=headers)

        # Read, then changed on what was read: voting extended by a week, the review by five
        # days, running counts shown.
        read = await http.get(edition_url)
        assert read.headers["etag"] == f'"{read.json()["version"]}"'
        r = await http.patch(
            edition_url,
            json={"schedule": moved, "show_running_counts": True},
            headers=admin | {"If-Match": read.headers["etag"]},
        )
        assert r.status_code == 200, r.text
        changed = r.json()
        assert changed["schedule"] == schedule | {"ceremony_at": None} | moved
        assert changed["show_running_counts"] is True
        assert changed["version"] == read.json()["version"] + 1

        # Another admin's change made on the edition as read before: refused, nothing lost.
        r = await http.patch(
            edition_url,
            json={"show_running_counts": False},
            headers=admin | {"If-Match": read.headers["etag"]},
        )
        assert r.status_code == 412, r.text
        assert r.json()["code"] == "changed-meanwhile"
        assert (await http.get(edition_url)).json()["show_running_counts"] is True

        # Public voting says the new window; the review its new close.
        attempts = iter(range(1_000))

        async def voting_knows_the_new_window() -> bool:
            await asyncio.sleep(0.3)  # a new voter each time, and slowly: within the rate limits
            r = await http.post(
                f"{voting}/editions/{year}/votes",
                json={"category": "C9", "entry_id": "no-such-entry"},
                headers=platform.headers(roles=["voter"], sub=f"voter-ec-{next(attempts)}"),
            )
            return r.status_code == 409 and _moment(r.json().get("closes_at")) == _moment(
                moved["voting_closes"]
            )

        await eventually(voting_knows_the_new_window, what="voting to know the new window")

        async def review_knows_its_new_close() -> bool:
            r = await http.get(f"{review}/editions/{year}/review-settings", headers=admin)
            return r.status_code == 200 and _moment(r.json()["review_closes"]) == _moment(
                moved["review_closes"]
            )

        await eventually(review_knows_its_new_close, what="the review to know its new close")

        # Submissions open by the schedule; from then on their opening date stays.
        async def submissions_open() -> bool:
            phase: str = (await http.get(edition_url)).json()["phase"]
            return phase == "submission"

        await eventually(submissions_open, what="the schedule to open submissions")
        assert (await http.get(edition_url)).json()["fixed_dates"] == ["submission_opens"]
        r = await change({"schedule": {"submission_opens": _iso(now + 2 * day)}})
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert "passed on" in r.json()["detail"]
        assert r.json()["errors"][0]["pointer"] == "/schedule/submission_opens"

        r = await change({"schedule": {"submission_closes": _iso(opens)}})
        assert r.status_code == 422, r.text
        assert f"POST /editions/{year}/phase" in r.json()["detail"]

        r = await change({"schedule": {"submission_closes": _iso(now + timedelta(seconds=20))}})
        assert r.status_code == 422, r.text
        assert "less than a minute from now" in r.json()["detail"]

        r = await change({"schedule": {"voting_closes": _iso(now + 200 * day)}})
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

        r = await http.patch(edition_url, json={}, headers=admin | {"If-Match": "yesterday"})
        assert r.status_code == 422, r.text
        assert "send the ETag" in r.json()["detail"]

        team = platform.headers(roles=["submitter"], sub="team-1", org="org-1")
        assert (await change({"title": "Mine now"}, headers=team)).status_code == 403
        r = await http.patch(f"{submissions}/editions/2099", json={"title": "x" * 5}, headers=admin)
        assert r.status_code == 404, r.text

        # Nothing changed by the refusals; a change that changes nothing is no change.
        version = (await http.get(edition_url)).json()["version"]  # the opening made one
        r = await change({"title": f"  WSIS Prizes {year} ", "schedule": {}})
        assert r.status_code == 200
        assert r.json()["schedule"] == changed["schedule"]
        assert r.json()["version"] == version
        assert r.json()["phase"] == "submission"
