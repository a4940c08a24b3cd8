"""The reviewers' pages in Debian's Chromium at 360×740: a reviewer's scoring journey on an
edition in its review phase (edition 2032, set up here through the services' APIs as the demo
does), an error at its field, submitting after a confirmation, giving an assignment back, another
reviewer's not-found page, and a closed review explained with its dates (the demo's 2027)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.web.conftest import Site, check, mobile_page, staff_sign_in
from wsis_devstack.demo import _schedule, _short_description, _until_ok
from wsis_shared.auth import sign_dev_token
from wsis_shared.vocabulary import Role

YEAR: Final = 2032
REVIEWER: Final = "rev-ana"  # scores, submits and declines
PEER: Final = "rev-ben"  # the second reviewer of every entry
OUTSIDER: Final = "rev-cy"  # a reviewer of another category: none of these entries is theirs
PROJECTS: Final = [
    ("Local radio newsrooms go online", "PE", "civil society"),
    ("Fact-checking desk for community media", "GH", "academia"),
    ("Open archive of regional television", "VN", "government"),
]


@dataclass(frozen=True)
class Edition:
    entries: dict[str, str]  # title -> entry_id
    token: Callable[[str, Role], str]


def _token(site: Site) -> Callable[..., str]:
    def token(subject: str, role: Role, org: str | None = None) -> str:
        return sign_dev_token(
            site.platform.private_key, subject=subject, roles=[role], organisation_id=org
        )

    return token


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _ok(call: Callable[[], Awaitable[httpx.Response]], what: str) -> httpx.Response:
    return await _until_ok(call, what)


@pytest.fixture(scope="module")
async def edition(site: Site) -> Edition:
    """Edition 2032 in its review phase: three entries in C9 (Media), each assigned to the two
    reviewers of C9; a third reviewer knows only C10."""
    token = _token(site)
    s, r = site.platform.url("submissions"), site.platform.url("review")
    admin, chair = _auth(token("rev-admin", Role.ADMIN)), _auth(token("rev-chair", Role.CHAIR))
    entries: dict[str, str] = {}
    async with httpx.AsyncClient(timeout=15) as http:
        created = await http.post(
            f"{s}/editions",
            json={"year": YEAR, "title": f"WSIS Prizes {YEAR}", "schedule": _schedule(YEAR)},
            headers=admin,
        )
        created.raise_for_status()

        async def phase(name: str) -> None:
            moved = await http.post(
                f"{s}/editions/{YEAR}/phase", json={"phase": name}, headers=admin
            )
            moved.raise_for_status()

        await phase("submission")
        for number, (title, country, stakeholder) in enumerate(PROJECTS):
            team = _auth(token(f"rev-team-{number}", Role.SUBMITTER, f"org-rev-{number}"))
            body: dict[str, Any] = {
                "title": title,
                "short_description": _short_description(320 + number, title),
                "full_description": f"{title}: how it started, who took part, what it achieved.",
                "category": "C9",
                "sdgs": [16, 4],
                "country": country,
                "stakeholder_type": stakeholder,
                "organisation_name": f"Media group {number}",
                "impact_qualitative": f"{title} reached listeners no station had reached.",
                "beneficiaries": "listeners, journalists and local public services",
                "start_date": "2021-03-01",
                "project_status": "completed",
                "contact_name": "Media team",
                "contact_email": f"contact@org-rev-{number}.example.org",
            }
            draft = await http.post(f"{s}/editions/{YEAR}/entries", json=body, headers=team)
            draft.raise_for_status()
            entry_id = draft.json()["entry_id"]
            sent = await http.post(f"{s}/entries/{entry_id}/submit", headers=team)
            assert sent.status_code == 200, sent.text
            entries[title] = entry_id

        for reviewer_id, name, category, country in (
            (REVIEWER, "Ana Reviewer", "C9", "FR"),
            (PEER, "Ben Reviewer", "C9", "DE"),
            (OUTSIDER, "Cy Reviewer", "C10", "IT"),
        ):
            added = await http.post(
                f"{r}/reviewers",
                json={
                    "reviewer_id": reviewer_id,
                    "name": name,
                    "email": f"{reviewer_id}@example.org",
                    "organisation": f"{name} Institute",
                    "country": country,
                    "categories": [category],
                    "max_load": 10,
                },
                headers=chair,
            )
            assert added.status_code in (201, 409), added.text

        async def rules() -> httpx.Response:
            return await http.put(
                f"{r}/editions/{YEAR}/review-settings/rules",
                json={"reviewers_per_entry": 2},
                headers=chair,
            )

        await _ok(rules, "setting the review rules of 2032")
        await phase("review")
        for entry_id in entries.values():

            async def eligible(entry_id: str = entry_id) -> httpx.Response:
                return await http.post(
                    f"{r}/candidates/{entry_id}/eligibility", json={"eligible": True}, headers=chair
                )

            await _ok(eligible, f"marking {entry_id} eligible")
        # Assigned by the chair's override rather than a run: the session's other tests add
        # reviewers of their own, and a run would share these entries out among them too.
        for entry_id in entries.values():
            for reviewer_id in (REVIEWER, PEER):
                added = await http.post(
                    f"{r}/candidates/{entry_id}/assignments",
                    json={"add_reviewer_id": reviewer_id},
                    headers=chair,
                )
                assert added.status_code == 200, added.text
        mine = await http.get(
            f"{r}/me/assignments",
            params={"year": YEAR},
            headers=_auth(token(REVIEWER, Role.REVIEWER)),
        )
        mine.raise_for_status()
        assert {a["entry"]["entry_id"] for a in mine.json()} == set(entries.values()), mine.text
    return Edition(entries=entries, token=token)


async def _my_review(
    site: Site, edition: Edition, entry_id: str, reviewer: str = REVIEWER
) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.get(
            f"{site.platform.url('review')}/me/assignments/{entry_id}",
            headers=_auth(edition.token(reviewer, Role.REVIEWER)),
        )
    answer.raise_for_status()
    found: dict[str, Any] = answer.json()
    return found


async def _open(page: Page, title: str) -> None:
    await page.get_by_role("link", name=title, exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)


async def test_a_reviewer_scores_submits_and_declines_at_360_px(
    browser: Browser, site: Site, edition: Edition
) -> None:
    page = await mobile_page(browser)
    await staff_sign_in(
        page, site, Role.REVIEWER, REVIEWER, name="Ana Reviewer", next_url=f"/review?year={YEAR}"
    )
    await expect(page.get_by_role("heading", level=1)).to_have_text("My assignments")
    await expect(page.get_by_role("heading", name=f"WSIS Prizes {YEAR}")).to_be_visible()
    await expect(page.get_by_text("0 of 3 reviews submitted")).to_be_visible()
    await expect(page.get_by_text("3 not started")).to_be_visible()
    await expect(page.locator("li.assignment")).to_have_count(3)
    await check(page, "40-review-assignments")

    scored, declined = PROJECTS[0][0], PROJECTS[1][0]
    scored_id, declined_id = edition.entries[scored], edition.entries[declined]
    await _open(page, scored)
    await expect(page.get_by_text(re.compile(r"Assignment [1-3] of 3"))).to_be_visible()
    await expect(page.get_by_text("Media group 0")).to_be_visible()  # not a blind review

    # A score outside the rubric's scale: the service refuses it, the page says so at the field.
    await page.get_by_label("Score for Impact, from 1 to 10").fill("8")
    await page.get_by_label("Comment on Impact (optional)").fill("Clear, measured results.")
    await page.get_by_label("Score for Innovation, from 1 to 10").fill("12")
    await page.get_by_role("button", name="Save draft").click()
    innovation = page.get_by_label("Score for Innovation, from 1 to 10")
    await expect(innovation).to_have_attribute("aria-invalid", "true")
    await expect(innovation).to_have_accessible_description(
        re.compile(r"The score of Innovation must be a whole number from 1 to 10")
    )
    await expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    await expect(page.get_by_label("Score for Impact, from 1 to 10")).to_have_value("8")
    await expect(page.get_by_label("Comment on Impact (optional)")).to_have_value(
        "Clear, measured results."
    )
    assert (await _my_review(site, edition, scored_id))["review"] is None  # nothing was saved
    await check(page, "41-review-field-error")

    await innovation.fill("7")
    await page.get_by_role("button", name="Save draft").click()
    await expect(page.get_by_text("Your draft is saved.")).to_be_visible()
    await expect(page.get_by_label("Score for Innovation, from 1 to 10")).not_to_have_attribute(
        "aria-invalid", "true"
    )
    saved = await _my_review(site, edition, scored_id)
    assert saved["review_status"] == "draft"
    assert saved["review"]["scores"]["impact"] == {
        "score": 8,
        "comment": "Clear, measured results.",
    }
    assert saved["review"]["scores"]["innovation"]["score"] == 7

    # Submitting an incomplete review: what is missing is shown at each field.
    await page.get_by_role("button", name="Submit review").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Submit your review?")
    await page.get_by_role("button", name="Yes, submit my review").click()
    sustainability = page.get_by_label("Score for Sustainability, from 1 to 10")
    await expect(sustainability).to_have_attribute("aria-invalid", "true")
    await expect(sustainability).to_have_accessible_description(
        re.compile("Give Sustainability a score from 1 to 10")
    )
    await expect(page.locator("#recommendation-error")).to_have_text("Choose a recommendation.")
    await expect(page.get_by_label("Nominate for the public vote")).to_have_attribute(
        "aria-invalid", "true"
    )
    await check(page, "42-review-incomplete")
    assert (await _my_review(site, edition, scored_id))["review_status"] == "draft"

    await sustainability.fill("6")
    await page.get_by_label("Score for Replicability, from 1 to 10").fill("5")
    await page.get_by_label(re.compile(r"^Score for Alignment with WSIS")).fill("9")
    await page.get_by_label("Overall comment (optional)").fill("Strong and cheap to copy.")
    await page.get_by_label("Nominate for the public vote").check()
    await page.get_by_role("button", name="Submit review").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Submit your review?")
    await expect(page.locator(".missing")).to_have_count(0)
    await check(page, "43-review-confirm-submit")
    await page.get_by_role("button", name="Yes, submit my review").click()

    await expect(page.get_by_text("Thank you: your review is submitted.")).to_be_visible()
    await expect(page.locator("form#review-form")).to_have_count(0)  # read-only now
    await expect(page.locator(".score-value").first).to_have_text("8 out of 10")
    await expect(page.get_by_text("Review submitted")).to_be_visible()
    await expect(page.get_by_role("link", name="Correct my review")).to_be_visible()
    await check(page, "44-review-submitted")
    submitted = await _my_review(site, edition, scored_id)
    assert submitted["review_status"] == "submitted"
    assert {k: v["score"] for k, v in submitted["review"]["scores"].items()} == {
        "impact": 8,
        "innovation": 7,
        "sustainability": 6,
        "replicability": 5,
        "alignment": 9,
    }
    assert submitted["review"]["recommendation"] == "nominate"
    assert submitted["review"]["overall_comment"] == "Strong and cheap to copy."

    # Giving another assignment back: a reason, then a confirmation.
    await page.get_by_role("link", name="My assignments").click()
    await expect(page.get_by_text("1 of 3 reviews submitted")).to_be_visible()
    await _open(page, declined)
    await page.get_by_role("link", name="Decline or declare a conflict of interest").click()
    await page.get_by_label("I cannot review it for another reason").check()
    await page.get_by_label("Your reason, for the chair").fill("no")
    await page.get_by_role("button", name="Continue").click()
    reason = page.get_by_label("Your reason, for the chair")
    await expect(reason).to_have_attribute("aria-invalid", "true")
    await expect(reason).to_have_accessible_description(
        re.compile("Give a reason of at least 3 characters")
    )
    await expect(page.get_by_label("I cannot review it for another reason")).to_be_checked()
    await check(page, "45-review-decline-error")
    await reason.fill("I advised this team last year.")
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Give this project back?")
    await expect(page.get_by_text("I advised this team last year.")).to_be_visible()
    await check(page, "46-review-decline-confirm")
    await page.get_by_role("button", name="Yes, give it back").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("My assignments")
    await expect(page.get_by_text("You gave the assignment back.")).to_be_visible()
    await expect(page.get_by_role("link", name=declined, exact=True)).to_have_count(0)
    await expect(page.locator("li.assignment")).to_have_count(2)
    await expect(page.get_by_text("1 of 2 reviews submitted")).to_be_visible()
    await check(page, "47-review-after-decline")
    async with httpx.AsyncClient(timeout=10) as http:
        records = await http.get(
            f"{site.platform.url('review')}/editions/{YEAR}/assignments",
            params={"entry_id": declined_id, "reviewer_id": REVIEWER},
            headers=_auth(edition.token("rev-chair", Role.CHAIR)),
        )
    records.raise_for_status()
    [record] = records.json()
    assert record["status"] == "declined"
    assert record["decline_reason"] == "I advised this team last year."
    # The declined assignment's page is gone for the reviewer too.
    gone = await page.goto(f"{site.url}/review/{YEAR}/{declined_id}")
    assert gone is not None
    assert gone.status == 404

    # Another reviewer opening this assignment: the not-found page.
    other = await mobile_page(browser)
    await staff_sign_in(other, site, Role.REVIEWER, OUTSIDER, name="Cy Reviewer")
    answer = await other.goto(f"{site.url}/review/{YEAR}/{scored_id}")
    assert answer is not None
    assert answer.status == 404
    await expect(other.get_by_role("heading", level=1)).to_have_text("Sorry")
    await expect(other.get_by_text("This page does not exist.")).to_be_visible()
    await expect(other.get_by_text("Media group 0")).to_have_count(0)
    await check(other, "48-review-not-yours")
    refused = await other.request.post(
        f"{site.url}/review/{YEAR}/{scored_id}/decline",
        form={"csrf": "forged", "kind": "decline", "reason": "not mine", "confirmed": "yes"},
    )
    assert refused.status == 400
    still = await _my_review(site, edition, scored_id)
    assert still["review_status"] == "submitted"


async def test_a_draft_saves_itself_and_the_form_needs_no_javascript(
    browser: Browser, site: Site, edition: Edition
) -> None:
    entry_id = edition.entries[PROJECTS[2][0]]
    page = await mobile_page(browser)
    await staff_sign_in(page, site, Role.REVIEWER, REVIEWER, next_url=f"/review/{YEAR}/{entry_id}")
    await page.get_by_label("Score for Impact, from 1 to 10").fill("4")
    await expect(page.locator("#autosave-status")).to_have_text(
        "Draft saved automatically.", timeout=15_000
    )
    autosaved = await _my_review(site, edition, entry_id)
    assert autosaved["review_status"] == "draft"
    assert autosaved["review"]["scores"]["impact"]["score"] == 4

    # Without JavaScript the same form saves through the server (POST-redirect-GET).
    plain = await mobile_page(browser, java_script_enabled=False)
    await staff_sign_in(plain, site, Role.REVIEWER, PEER, next_url=f"/review/{YEAR}/{entry_id}")
    await plain.get_by_label("Score for Innovation, from 1 to 10").fill("3")
    await plain.get_by_label("Consider for nomination").check()
    await plain.get_by_role("button", name="Save draft").click()
    await expect(plain.get_by_text("Your draft is saved.")).to_be_visible()
    await expect(plain.get_by_label("Consider for nomination")).to_be_checked()
    peer = await _my_review(site, edition, entry_id, PEER)
    assert peer["review"]["scores"]["innovation"]["score"] == 3
    assert peer["review"]["recommendation"] == "consider"

    # A score typed as no number at all is the service's refusal at the field, not a 500.
    csrf = await plain.locator("input[name=csrf]").first.get_attribute("value")
    assert csrf
    typo = await plain.request.post(
        plain.url.split("?")[0], form={"csrf": csrf, "score-innovation": "--5", "action": "save"}
    )
    assert typo.status == 422, await typo.text()


async def test_a_closed_review_is_read_only_and_explained_with_its_dates(
    browser: Browser, site: Site
) -> None:
    page = await mobile_page(browser)
    await staff_sign_in(
        page, site, Role.REVIEWER, "demo-reviewer-1", next_url=f"/review?year={site.year}"
    )
    await expect(page.get_by_role("heading", name=f"WSIS Prizes {site.year}")).to_be_visible()
    await expect(page.get_by_text("reviews can be read but no longer changed")).to_be_visible()
    first = page.locator("li.assignment h3 a").first
    await first.click()
    notice = page.locator("#phase-notice")
    await expect(notice).to_contain_text("The review is closed")
    await expect(notice).to_contain_text(
        re.compile(rf"runs from .*{site.year}.* to .*Mar 10, {site.year}")
    )
    await expect(page.locator("form#review-form")).to_have_count(0)
    await expect(page.get_by_role("link", name="Correct my review")).to_have_count(0)
    await expect(page.get_by_role("link", name=re.compile("Decline"))).to_have_count(0)
    await check(page, "49-review-closed")

    # A save posted anyway (an old tab): the service's 409 is explained with the dates.
    csrf = await page.locator("input[name=csrf]").first.get_attribute("value")
    assert csrf
    before = page.url
    answer = await page.request.post(before, form={"csrf": csrf, "score-impact": "5"})
    assert answer.status == 409
    text = await answer.text()
    assert "Your review could not be saved: the review is not open." in text
    assert f"Mar 10, {site.year}" in text
