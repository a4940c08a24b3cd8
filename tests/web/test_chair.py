"""The chair's pages at 360 × 740: the ranking with its normalised scores and disagreement flags,
a nomination one by one and in bulk (each confirmed first), the assignment overview with "run
assignment", and the winners page before any finalist; each outcome checked in the review
service. Edition 2033 is the chair's own: two categories, six entries of `org-chair-*`, three
reviewers `chair-rev-*` who have scored every entry assigned to them."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Final

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.web.conftest import Site, bearer, check, mobile_page, staff_sign_in, until_ok
from wsis_devstack.demo import _schedule, _short_description
from wsis_shared.vocabulary import Role

YEAR: Final = 2033
CATEGORIES: Final = ("C10", "C11")
REVIEWERS: Final = ("chair-rev-1", "chair-rev-2", "chair-rev-3")
CRITERIA: Final = ("impact", "innovation", "sustainability", "replicability", "alignment")
# (title, category, country, eligibility: True, False (ineligible) or None (left undecided))
PROJECTS: Final[list[tuple[str, str, str, bool | None]]] = [
    ("Ethics boards for public algorithms", "C10", "FI", True),
    ("Privacy lessons in every primary school", "C10", "GH", True),
    ("Open consent forms for health research", "C10", "AR", True),
    ("Regional roaming pact across the islands", "C11", "FJ", True),
    ("Shared cable landing for three neighbours", "C11", "BJ", None),
    ("A marketplace for second-hand phones", "C11", "TR", False),
]


@pytest.fixture(scope="module")
async def chair_edition(site: Site) -> dict[str, str]:
    """Edition 2033 in its review phase, reviewed; returns the entry ids by title."""
    s, r = site.platform.url("submissions"), site.platform.url("review")
    admin = bearer(site, "chair-test-admin", Role.ADMIN)
    chair = bearer(site, "chair-test-chair", Role.CHAIR)
    ids: dict[str, str] = {}
    async with httpx.AsyncClient(timeout=20) as http:
        created = await http.post(
            f"{s}/editions",
            json={
                "year": YEAR,
                "title": f"WSIS Prizes {YEAR}",
                "schedule": _schedule(YEAR),
                "categories": list(CATEGORIES),
            },
            headers=admin,
        )
        assert created.status_code == 201, created.text
        moved = await http.post(
            f"{s}/editions/{YEAR}/phase", json={"phase": "submission"}, headers=admin
        )
        assert moved.status_code == 200, moved.text
        for number, (title, category, country, _) in enumerate(PROJECTS):
            team = bearer(site, f"chair-team-{number}", Role.SUBMITTER, f"org-chair-{number}")
            body: dict[str, Any] = {
                "title": title,
                "short_description": _short_description(3300 + number, title),
                "full_description": f"{title}: how it started and what it achieved.",
                "category": category,
                "sdgs": [16],
                "country": country,
                "stakeholder_type": "civil society",
                "organisation_name": f"Chair test organisation {number}",
                "impact_qualitative": f"{title} changed how people work together.",
                "beneficiaries": "communities and public services",
                "start_date": "2020-03-01",
                "project_status": "completed",
                "contact_name": "Project team",
                "contact_email": f"team@org-chair-{number}.example.org",
            }
            draft = await http.post(f"{s}/editions/{YEAR}/entries", json=body, headers=team)
            assert draft.status_code == 201, draft.text
            entry_id = draft.json()["entry_id"]
            submitted = await http.post(f"{s}/entries/{entry_id}/submit", headers=team)
            assert submitted.status_code == 200, submitted.text
            ids[title] = entry_id
        for number, reviewer_id in enumerate(REVIEWERS):
            added = await http.post(
                f"{r}/reviewers",
                json={
                    "reviewer_id": reviewer_id,
                    "name": f"Chair Reviewer {number + 1}",
                    "email": f"{reviewer_id}@example.org",
                    "organisation": f"Review Institute {number + 1}",
                    "country": ("NO", "CL", "JP")[number],
                    "languages": ["en"],
                    "categories": list(CATEGORIES),
                    "max_load": 20,
                },
                headers=chair,
            )
            assert added.status_code in (201, 409), added.text
        moved = await http.post(
            f"{s}/editions/{YEAR}/phase", json={"phase": "review"}, headers=admin
        )
        assert moved.status_code == 200, moved.text
        for title, _, _, eligible in PROJECTS:
            if eligible is None:
                continue
            decision = {"eligible": True} if eligible else {"eligible": False, "reason": "other"}
            url = f"{r}/candidates/{ids[title]}/eligibility"

            async def decide(url: str = url, decision: dict[str, Any] = decision) -> httpx.Response:
                return await http.post(url, json=decision, headers=chair)

            await until_ok(decide, f"eligibility of {title}")
        run = await http.post(f"{r}/editions/{YEAR}/assignments/run", headers=chair)
        assert run.status_code == 200, run.text
        for number, reviewer_id in enumerate(REVIEWERS):
            reviewer = bearer(site, reviewer_id, Role.REVIEWER)
            mine = await http.get(f"{r}/me/assignments", params={"year": YEAR}, headers=reviewer)
            assert mine.status_code == 200, mine.text
            for assignment in mine.json():
                entry_id = assignment["entry"]["entry_id"]
                position = list(ids.values()).index(entry_id)
                # Reviewer 1 loves the first entry, reviewer 2 does not: they disagree.
                mark = {0: 9, 1: 2}.get(number, 6) if position == 0 else 3 + (position * 2) % 6
                review = {
                    "scores": {key: {"score": mark} for key in CRITERIA},
                    "recommendation": "nominate",
                }
                url = f"{r}/me/assignments/{entry_id}/review"
                saved = await http.patch(url, json=review, headers=reviewer)
                assert saved.status_code == 200, saved.text
                sent = await http.post(f"{url}/submit", headers=reviewer)
                assert sent.status_code == 200, sent.text
    return ids


async def candidates(site: Site, **params: str) -> list[dict[str, Any]]:
    chair = bearer(site, "chair-test-chair", Role.CHAIR)
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.get(
            f"{site.platform.url('review')}/editions/{YEAR}/candidates",
            params=params,
            headers=chair,
        )
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


async def ranking(site: Site, category: str) -> list[dict[str, Any]]:
    chair = bearer(site, "chair-test-chair", Role.CHAIR)
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.get(
            f"{site.platform.url('review')}/editions/{YEAR}/ranking",
            params={"category": category},
            headers=chair,
        )
    assert answer.status_code == 200, answer.text
    rows: list[dict[str, Any]] = answer.json()
    return rows


async def test_the_chair_ranks_and_nominates_one_and_in_bulk(
    browser: Browser, site: Site, chair_edition: dict[str, str]
) -> None:
    c10 = await ranking(site, "C10")
    first, second = c10[0]["candidate"]["entry"], c10[1]["candidate"]["entry"]
    assert c10[0]["rank"] == 1
    assert c10[0]["normalised_score"] is not None

    page = await mobile_page(browser)
    await staff_sign_in(page, site, Role.CHAIR, "chair-id", name="Chair Person")
    await expect(page).to_have_url(f"{site.url}/chair")
    await page.locator(f'a[href="/chair/{YEAR}"]').click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Ranking and nominations")
    rows = page.locator("ol.ranking > li")
    await expect(rows).to_have_count(3)
    top = page.locator(f"#entry-{first['entry_id']}")
    await expect(top.locator("h3")).to_contain_text(f"#1 {first['title']}")
    score = f"{c10[0]['normalised_score']:.2f}".rstrip("0").rstrip(".")
    await expect(top.locator("dd").first).to_have_text(score)
    await expect(top).to_contain_text("Submitted reviews")
    # The entry the reviewers disagree on carries the flag, explained.
    flagged = page.locator(f"#entry-{chair_edition['Ethics boards for public algorithms']}")
    await expect(flagged.locator(".flag")).to_have_text("Reviewers disagree")
    await expect(flagged).to_contain_text("more than the 3 allowed by the rules")
    await check(page, "50-chair-ranking")

    # Nominate the first one, with a confirmation step.
    await top.get_by_role("link", name="Nominate…", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Decide the nomination")
    await page.fill("#reason", "Best-ranked entry of the category")
    await check(page, "51-chair-nominate-confirm")
    await page.get_by_role("button", name="Confirm the decision").click()
    await expect(page.get_by_role("status")).to_contain_text("The entry is nominated")
    await expect(page.locator(f"#entry-{first['entry_id']} .status")).to_have_text("Nominated")
    nominated = {c["entry"]["entry_id"] for c in await candidates(site, status="nominated")}
    assert nominated == {first["entry_id"]}

    # Bulk: the top two of each category; the preview lists them, nothing changes before the OK.
    await page.fill("#top", "2")
    await page.check("#scope-all")
    await page.fill("#reason", "Top two of each category")
    await page.get_by_role("button", name="See who would be nominated").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the nominations")
    preview = page.locator("ol.plain > li")
    await expect(preview).to_have_count(2)
    ranked_c11 = [r for r in await ranking(site, "C11") if r["rank"] is not None]
    c11_first = ranked_c11[0]["candidate"]["entry"]
    await expect(preview.nth(0)).to_contain_text(second["title"])
    await expect(preview.nth(1)).to_contain_text(c11_first["title"])
    assert {c["entry"]["entry_id"] for c in await candidates(site, status="nominated")} == {
        first["entry_id"]
    }
    await check(page, "52-chair-bulk-confirm")
    await page.get_by_role("button", name="Nominate these 2 entries").click()
    await expect(page.get_by_role("status")).to_contain_text("2 entries nominated.")
    await expect(page.locator(f"#entry-{second['entry_id']} .status")).to_have_text("Nominated")
    nominated_now = {c["entry"]["entry_id"]: c for c in await candidates(site, status="nominated")}
    assert set(nominated_now) == {first["entry_id"], second["entry_id"], c11_first["entry_id"]}
    assert nominated_now[second["entry_id"]]["decision_reason"] == "Top two of each category"
    assert (
        nominated_now[first["entry_id"]]["decision_reason"] == "Best-ranked entry of the category"
    )
    await check(page, "53-chair-nominated")

    # A bulk form without a number or a score is refused at its field.
    await page.fill("#top", "")
    await page.get_by_role("button", name="See who would be nominated").click()
    await expect(page.locator("#top")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#top-error")).to_contain_text("a minimum score, or both")

    # The ineligible entry of C11 shows why and has no nomination button.
    await page.goto(f"{site.url}/chair/{YEAR}?category=C11")
    ineligible = page.locator(f"#entry-{chair_edition['A marketplace for second-hand phones']}")
    await expect(ineligible.locator(".status")).to_have_text("Not eligible")
    await expect(ineligible).to_contain_text("Reason: other reason")
    undecided = page.locator(f"#entry-{chair_edition['Shared cable landing for three neighbours']}")
    await expect(undecided.locator(".status")).to_have_text("Eligibility not decided yet")
    await expect(ineligible.get_by_role("link", name="Nominate…", exact=True)).to_have_count(0)
    await page.context.close()


async def test_the_assignment_overview_shows_loads_and_fills_a_gap(
    browser: Browser, site: Site, chair_edition: dict[str, str]
) -> None:
    late = chair_edition["Shared cable landing for three neighbours"]
    chair = bearer(site, "chair-test-chair", Role.CHAIR)
    async with httpx.AsyncClient(timeout=10) as http:
        decided = await http.post(
            f"{site.platform.url('review')}/candidates/{late}/eligibility",
            json={"eligible": True},
            headers=chair,
        )
    assert decided.status_code == 200, decided.text

    page = await mobile_page(browser)
    await staff_sign_in(page, site, Role.CHAIR, "chair-id", next_url=f"/chair/{YEAR}/assignments")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Assignment of reviewers")
    for reviewer_id in REVIEWERS:
        card = page.locator(f"#reviewer-{reviewer_id}")
        await expect(card).to_contain_text(f"({reviewer_id})")
        await expect(card).to_contain_text("of at most 20")
        await expect(card.locator("progress")).to_have_count(1)
    gaps = page.locator("#unfilled-title + p + ul > li")
    await expect(gaps).to_have_count(1)
    await expect(gaps.first).to_contain_text("Shared cable landing for three neighbours")
    await expect(gaps.first).to_contain_text("3 reviewers missing.")
    await check(page, "54-chair-assignments")

    await page.get_by_role("button", name="Run assignment").click()
    await expect(page.locator("#run [role=status]")).to_contain_text("3 new assignments.")
    await expect(page.locator("#run")).to_contain_text(
        "Every eligible entry has all its reviewers."
    )
    await check(page, "55-chair-assignment-run")
    async with httpx.AsyncClient(timeout=10) as http:
        assigned = await http.get(
            f"{site.platform.url('review')}/editions/{YEAR}/assignments",
            params={"entry_id": late},
            headers=chair,
        )
    assert len([a for a in assigned.json() if a["status"] == "active"]) == 3

    # Before the vote closes there are no finalists: the winners page says so.
    await page.goto(f"{site.url}/chair/{YEAR}/winners")
    await expect(page.locator(".notice")).to_contain_text("No finalists yet")
    await check(page, "56-chair-winners-none")
    await page.context.close()


async def test_the_chair_is_told_of_the_phase_and_selects_a_winner_after_the_vote(
    browser: Browser, site: Site, chair_edition: dict[str, str]
) -> None:
    """After the nominations of the first test: voting opens (nominating is refused, and the
    page says why), then closes; the chair chooses the winner of C10 among its finalists."""
    s, r = site.platform.url("submissions"), site.platform.url("review")
    admin = bearer(site, "chair-test-admin", Role.ADMIN)
    chair = bearer(site, "chair-test-chair", Role.CHAIR)

    async def move(phase: str) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            moved = await http.post(
                f"{s}/editions/{YEAR}/phase", json={"phase": phase}, headers=admin
            )
        assert moved.status_code == 200, moved.text

    await move("voting")
    page = await mobile_page(browser)
    await staff_sign_in(page, site, Role.CHAIR, "chair-id", next_url=f"/chair/{YEAR}")
    await expect(page.locator(".notice").first).to_contain_text("only while the edition is in")
    await page.fill("#top", "1")
    await page.get_by_role("button", name="See who would be nominated").click()
    await expect(page.locator("#problem")).to_contain_text(
        "Not possible in the edition's current phase (Public voting)"
    )
    await check(page, "58-chair-phase-closed")

    await move("selection")
    deadline = time.monotonic() + 60
    finalists: list[dict[str, Any]] = []
    async with httpx.AsyncClient(timeout=10) as http:
        while time.monotonic() < deadline:
            answer = await http.get(f"{r}/editions/{YEAR}/finalists", headers=chair)
            finalists = answer.json()
            if {f["category"] for f in finalists} >= {"C10"}:
                break
            await asyncio.sleep(0.5)
    c10 = next(f for f in finalists if f["category"] == "C10")
    assert len(c10["finalists"]) == 2

    await page.goto(f"{site.url}/chair/{YEAR}/winners")
    section = page.locator("#C10")
    await expect(section.get_by_role("radio")).to_have_count(2)
    # Continuing without a choice is refused at the choice.
    await section.get_by_role("button", name="Continue").click()
    await expect(page.locator("#choose-C10")).to_contain_text("Choose one of the finalists.")
    chosen = c10["finalists"][0]["entry_id"]
    await page.locator(f"#w-C10-{chosen}").check()
    await page.locator("#C10").get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the winner")
    await check(page, "59-chair-winner-confirm")
    await page.get_by_role("button", name="Select this winner").click()
    await expect(page.locator("#C10 [role=status]")).to_contain_text("The winner is selected")
    await expect(page.locator("#C10 .badge.winner")).to_have_count(1)
    async with httpx.AsyncClient(timeout=10) as http:
        after = await http.get(f"{r}/editions/{YEAR}/finalists", headers=chair)
    decided = next(f for f in after.json() if f["category"] == "C10")
    assert decided["winner_entry_id"] == chosen
    assert len(decided["champion_entry_ids"]) == 1
    await page.context.close()


async def test_a_project_team_member_is_not_let_into_the_chair_or_admin_pages(
    browser: Browser, site: Site
) -> None:
    page = await mobile_page(browser)
    await staff_sign_in(page, site, Role.SUBMITTER, "chair-team-x", organisation="org-chair-x")
    for path in ("/chair", f"/chair/{YEAR}", "/admin", "/admin/editions"):
        answer = await page.goto(f"{site.url}{path}")
        assert answer is not None
        assert answer.status == 403, path
        await expect(page.get_by_role("alert")).to_contain_text("This page is for another role")
    await check(page, "57-chair-not-allowed")
    await page.context.close()
