"""A project team's journey beyond the happy path, in Debian's Chromium at 360×740: two tabs on
the same entry (neither erases what the other saved), a session that ends while typing (nothing
typed is lost), an entry submitted in another window, the live word count against the service's,
and what the pages say after the submission phase (an ineligible entry and its reason, the vote,
the results; withdrawing only while submissions are open). Screenshots 39a–39d.

Edition 2031 is test_team.py's (in its submission phase); edition 2038 is this file's own, moved
through the later phases. Organisations `org-tabs-*` are this file's."""

from __future__ import annotations

import re
from typing import Any, Final

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.integration.helpers import eventually
from tests.web.conftest import Site, bearer, check, mobile_page, staff_sign_in, until_ok
from tests.web.test_team import (
    check_without_script,
    edition_2031,
    entry_id_of,
    read_entry,
    saved,
    saved_at,
    team_token,
    text_of,
)
from wsis_shared.text import word_count
from wsis_shared.vocabulary import Role
from wsis_web.services import Problem
from wsis_web.team_pages import field_errors, refusal

LATER_YEAR: Final = 2038
SESSION_COOKIE: Final = "wsis_session"


def complete(title: str, category: str, organisation: str) -> dict[str, Any]:
    return {
        "title": title,
        "category": category,
        "short_description": text_of(160),
        "full_description": text_of(200),
        "sdgs": [4],
        "country": "FJ",
        "stakeholder_type": "government",
        "organisation_name": organisation,
        "impact_qualitative": "More children read every week.",
        "beneficiaries": "Pupils of 30 island schools.",
        "start_date": "2023-01-15",
        "project_status": "completed",
        "contact_name": "Sione Test",
        "contact_email": "sione@example.org",
    }


async def new_entry(
    site: Site, organisation: str, year: int, body: dict[str, Any], *, submit: bool
) -> str:
    async with httpx.AsyncClient(
        base_url=site.platform.url("submissions"),
        headers={"Authorization": f"Bearer {team_token(site, organisation)}"},
        timeout=30,
    ) as http:
        created = await http.post(f"/editions/{year}/entries", json=body)
        assert created.status_code == 201, created.text
        entry_id: str = created.json()["entry_id"]
        if submit:
            submitted = await http.post(f"/entries/{entry_id}/submit")
            assert submitted.status_code == 200, submitted.text
    return entry_id


async def open_draft(browser: Browser, site: Site, user: str, organisation: str) -> Page:
    page = await mobile_page(browser)
    await staff_sign_in(page, site, Role.SUBMITTER, user, organisation=organisation)
    section = page.locator("section.edition", has=page.get_by_role("heading", name="2031"))
    await section.get_by_role("button", name="Start a new entry").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Edit the draft")
    return page


async def test_two_tabs_never_erase_what_the_other_saved(browser: Browser, site: Site) -> None:
    await edition_2031(site)
    organisation = "org-tabs-a"
    first = await open_draft(browser, site, "tabs-a", organisation)
    entry_id = entry_id_of(first)
    # The same draft in a second tab of the same browser, opened before the first one types.
    second = await first.context.new_page()
    await second.goto(first.url)

    before = await saved_at(first)
    await first.fill("#f-title", "Radio lessons for nomad children")
    await saved(first, before)
    # The second tab still shows an empty title: its autosave sends only what it changed.
    before = await saved_at(second)
    await second.fill("#f-organisation_name", "Nomad Schools Trust")
    await saved(second, before)
    content = (await read_entry(site, organisation, entry_id))["content"]
    assert content["title"] == "Radio lessons for nomad children"
    assert content["organisation_name"] == "Nomad Schools Trust"

    # The plain "Save the draft" of the second tab: the same.
    await second.fill("#f-beneficiaries", "About 900 children")
    await second.get_by_role("button", name="Save the draft").click()
    await expect(second.get_by_text("Saved.", exact=True)).to_be_visible()
    content = (await read_entry(site, organisation, entry_id))["content"]
    assert content["title"] == "Radio lessons for nomad children"
    assert content["beneficiaries"] == "About 900 children"
    # …and the first tab, whose organisation field is stale, does not undo the second's.
    await first.fill("#f-partners", "Ministry of Education")
    await first.get_by_role("button", name="Save the draft").click()
    await expect(first.get_by_text("Saved.", exact=True)).to_be_visible()
    content = (await read_entry(site, organisation, entry_id))["content"]
    assert content["organisation_name"] == "Nomad Schools Trust"
    assert content["beneficiaries"] == "About 900 children"
    assert content["partners"] == ["Ministry of Education"]

    # A field changed and changed back is still sent: the person sees it as it is now.
    await second.reload()
    await first.fill("#f-website", "https://nomad.example.org")
    await first.get_by_role("button", name="Save the draft").click()
    await expect(first.get_by_text("Saved.", exact=True)).to_be_visible()
    before = await saved_at(second)
    await second.fill("#f-website", "https://typo.example.org")
    await second.fill("#f-website", "")
    await saved(second, before)
    assert (await read_entry(site, organisation, entry_id))["content"]["website"] is None
    await first.context.close()


async def test_two_tabs_amending_keep_each_others_changes(browser: Browser, site: Site) -> None:
    await edition_2031(site)
    organisation = "org-tabs-b"
    entry_id = await new_entry(
        site,
        organisation,
        2031,
        complete("Island libraries online", "C3", "Island Trust"),
        submit=True,
    )
    first = await mobile_page(browser)
    await staff_sign_in(first, site, Role.SUBMITTER, "tabs-b", organisation=organisation)
    await first.goto(f"{site.url}/team/entries/{entry_id}/edit")
    second = await first.context.new_page()
    await second.goto(first.url)
    await first.fill("#f-title", "Island libraries online and offline")
    await first.get_by_role("button", name="Save the changes").click()
    await expect(first.get_by_text("Your changes to the entry are saved.")).to_be_visible()
    await second.fill("#f-organisation_name", "Island Library Trust")
    await second.get_by_role("button", name="Save the changes").click()
    await expect(second.get_by_text("Your changes to the entry are saved.")).to_be_visible()
    content = (await read_entry(site, organisation, entry_id))["content"]
    assert content["title"] == "Island libraries online and offline"
    assert content["organisation_name"] == "Island Library Trust"
    await first.context.close()


async def test_a_session_that_ends_while_typing_loses_nothing(browser: Browser, site: Site) -> None:
    await edition_2031(site)
    organisation = "org-tabs-c"
    page = await open_draft(browser, site, "tabs-c", organisation)
    entry_id = entry_id_of(page)
    await page.context.clear_cookies(name=SESSION_COOKIE)
    await page.fill("#f-title", "Mobile clinics by boat")
    status = page.locator("#autosave-status")
    await expect(status).to_have_text(
        "You are signed out: sign in again in another tab. What you typed stays on this page."
    )
    await expect(page.locator("#f-title")).to_have_value("Mobile clinics by boat")
    # Signed in again in another tab, the next change saves what was typed here.
    other = await page.context.new_page()
    await staff_sign_in(other, site, Role.SUBMITTER, "tabs-c", organisation=organisation)
    before = await saved_at(page)
    await page.fill("#f-partners", "River Health Board")
    await saved(page, before)
    content = (await read_entry(site, organisation, entry_id))["content"]
    assert (content["title"], content["partners"]) == (
        "Mobile clinics by boat",
        ["River Health Board"],
    )

    # Submitted in another window: the draft's autosave says so.
    async with httpx.AsyncClient(
        base_url=site.platform.url("submissions"),
        headers={"Authorization": f"Bearer {team_token(site, organisation)}"},
        timeout=30,
    ) as http:
        body = complete("Mobile clinics by boat", "C7.e-health", "River Health Board")
        patched = await http.patch(f"/entries/{entry_id}", json=body)
        assert patched.status_code == 200, patched.text
        submitted = await http.post(f"/entries/{entry_id}/submit")
        assert submitted.status_code == 200, submitted.text
    await page.fill("#f-challenges", "Floods")
    await expect(status).to_have_text(
        "This entry was submitted in another window: reload to amend it."
    )
    await page.context.close()


async def test_without_javascript_a_save_after_the_session_ended_keeps_the_text(
    browser: Browser, site: Site
) -> None:
    await edition_2031(site)
    organisation = "org-tabs-d"
    page = await mobile_page(browser, java_script_enabled=False)
    await staff_sign_in(page, site, Role.SUBMITTER, "tabs-d", organisation=organisation)
    section = page.locator("section.edition", has=page.get_by_role("heading", name="2031"))
    await section.get_by_role("button", name="Start a new entry").click()
    entry_id = entry_id_of(page)
    await page.context.clear_cookies(name=SESSION_COOKIE)
    await page.fill("#f-title", "Weather alerts by text message")
    await page.fill("#f-full_description", "A long description typed over an hour.")
    await page.get_by_role("button", name="Save the draft").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("You are signed out")
    link = page.get_by_role("link", name="Sign in again (opens in a new tab)")
    await expect(link).to_have_attribute("target", "_blank")
    await page.get_by_text("What you typed").click()
    await expect(page.get_by_text("A long description typed over an hour.")).to_be_visible()
    await check_without_script(browser, page, "39a-team-signed-out-save")

    other = await page.context.new_page()
    await staff_sign_in(other, site, Role.SUBMITTER, "tabs-d", organisation=organisation)
    await page.get_by_role("button", name="Send my changes again").click()
    await expect(page.get_by_text("Saved.", exact=True)).to_be_visible()
    content = (await read_entry(site, organisation, entry_id))["content"]
    assert content["title"] == "Weather alerts by text message"
    assert content["full_description"] == "A long description typed over an hour."
    await page.context.close()


WORDY: Final = [
    "U.N. e.g. i.e.",
    "www.unesco.org",
    "user@example.org",
    "https://example.org/a-b",
    "don't l’école",
    "3.14 1,000 2.5%",
    "The U.N. agency (see www.itu.int, e.g. the ICT-enabled 1,200 schools) wasn't late.",
]


async def test_the_live_word_count_agrees_with_the_service(browser: Browser, site: Site) -> None:
    await edition_2031(site)
    page = await open_draft(browser, site, "tabs-e", "org-tabs-e")
    count = page.locator("#f-short_description-count")
    for text in WORDY:
        await page.fill("#f-short_description", text)
        await expect(count).to_have_text(f"Words: {word_count(text)} of 150 to 200")
    await page.context.close()


# --- after the submission phase -----------------------------------------------------------


async def move(site: Site, phase: str) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        moved = await http.post(
            f"{site.platform.url('submissions')}/editions/{LATER_YEAR}/phase",
            json={"phase": phase},
            headers=bearer(site, "tabs-admin", Role.ADMIN),
        )
    assert moved.status_code == 200, moved.text


async def test_after_the_submissions_the_team_reads_what_is_true(
    browser: Browser, site: Site
) -> None:
    s, r = site.platform.url("submissions"), site.platform.url("review")
    organisation = "org-tabs-f"
    schedule = {
        "submission_opens": f"{LATER_YEAR}-01-10T00:00:00Z",
        "submission_closes": f"{LATER_YEAR}-02-10T00:00:00Z",
        "review_closes": f"{LATER_YEAR}-03-10T00:00:00Z",
        "voting_opens": f"{LATER_YEAR}-03-11T00:00:00Z",
        "voting_closes": f"{LATER_YEAR}-04-10T00:00:00Z",
        "results_at": f"{LATER_YEAR}-04-20T00:00:00Z",
    }
    async with httpx.AsyncClient(timeout=30) as http:
        created = await http.post(
            f"{s}/editions",
            json={"year": LATER_YEAR, "title": f"WSIS Prizes {LATER_YEAR}", "schedule": schedule},
            headers=bearer(site, "tabs-admin", Role.ADMIN),
        )
        assert created.status_code == 201, created.text
    await move(site, "submission")
    nominated = await new_entry(
        site,
        organisation,
        LATER_YEAR,
        complete("Coastal radio for fishers", "C4", "Coast Radio"),
        submit=True,
    )
    refused = await new_entry(
        site,
        organisation,
        LATER_YEAR,
        complete("A portal for every citizen", "C9", "Coast Radio"),
        submit=True,
    )
    await move(site, "review")
    chair = bearer(site, "tabs-chair", Role.CHAIR)
    async with httpx.AsyncClient(timeout=30) as http:
        decisions: list[tuple[str, str, dict[str, Any]]] = [
            (nominated, "eligibility", {"eligible": True}),
            (refused, "eligibility", {"eligible": False, "reason": "wrong_category"}),
            (nominated, "nomination", {"nominated": True}),
        ]
        for entry_id, what, decision in decisions:
            url = f"{r}/candidates/{entry_id}/{what}"

            async def decide(url: str = url, decision: dict[str, Any] = decision) -> httpx.Response:
                return await http.post(url, json=decision, headers=chair)

            await until_ok(decide, f"{what} of {entry_id}")

        async def seen() -> bool:
            entry = await read_entry(site, organisation, refused)
            listed = await http.get(f"{site.platform.url('stocktaking')}/entries/{nominated}")
            return entry.get("eligibility") is not None and (
                listed.is_success and listed.json()["status"] == "nominated"
            )

        await eventually(seen, what="the decisions reached the team and the Stocktaking database")

    page = await mobile_page(browser)
    await staff_sign_in(page, site, Role.SUBMITTER, "tabs-f", organisation=organisation)
    await page.goto(f"{site.url}/team/entries/{refused}")
    await expect(page.locator("dl").first).to_contain_text("Not eligible · Reason: wrong category")
    await expect(
        page.get_by_text(re.compile("found the entry not eligible \\(reason: wrong category\\)"))
    ).to_be_visible()
    await expect(page.get_by_text("Your entry competes")).to_have_count(0)
    await check(page, "39b-team-entry-not-eligible")
    await page.goto(f"{site.url}/team/entries/{refused}?lang=fr")
    await expect(page.locator("dl").first).to_contain_text("mauvaise catégorie")

    # Withdrawing is possible only while submissions are open: the page says so, with the dates.
    await page.goto(f"{site.url}/team/entries/{nominated}/withdraw?lang=en")
    await expect(
        page.get_by_text(
            re.compile(r"withdrawn only while submissions are open, from Jan 10, 2038.*Feb 10")
        )
    ).to_be_visible()
    await expect(page.get_by_role("button", name="Yes, withdraw the entry")).to_have_count(0)
    await check(page, "39c-team-withdraw-closed")

    await move(site, "voting")
    await page.goto(f"{site.url}/team/entries/{nominated}")
    await expect(page.get_by_text("Your entry was nominated by the expert group")).to_be_visible()
    await expect(page.get_by_text(re.compile("The public vote is open until"))).to_be_visible()
    await expect(page.get_by_role("link", name="Go to the vote")).to_have_attribute(
        "href", f"/vote/{LATER_YEAR}"
    )
    await check(page, "39d-team-entry-in-the-vote")
    await page.goto(f"{site.url}/team")
    section = page.locator("section.edition", has=page.get_by_role("heading", name=str(LATER_YEAR)))
    await expect(section).not_to_contain_text("The expert group reviews the entries")
    await expect(section).to_contain_text("The public vote is open until")
    await expect(section).to_contain_text("The expert group found it not eligible")

    await move(site, "selection")
    await move(site, "results")
    await page.goto(f"{site.url}/team/entries/{nominated}")
    await expect(page.get_by_role("link", name="Results")).to_have_attribute(
        "href", f"/results/{LATER_YEAR}"
    )
    await expect(page.get_by_text("Your entry was nominated by the expert group")).to_be_visible()
    await page.context.close()


def test_the_services_english_becomes_the_teams_language() -> None:
    from starlette.requests import Request

    def request(language: str) -> Request:
        query = f"lang={language}".encode()
        return Request({"type": "http", "query_string": query, "headers": [], "method": "GET"})

    not_submitted = Problem(
        409,
        {"detail": "entry 1d7f… is draft: only a submitted entry can be withdrawn"},
    )
    message = refusal(not_submitted, None, request("en"))
    assert message.startswith("Only a submitted entry can be amended or withdrawn")
    assert "1d7f" not in message
    assert "only a submitted entry" not in refusal(not_submitted, None, request("fr"))

    invisible = Problem(
        422,
        {
            "errors": [
                {
                    "pointer": "/title",
                    "type": "value_error",
                    "detail": "Value error, remove the invisible character U+0000: names and "
                    "titles are one line of visible text",
                }
            ]
        },
    )
    english = field_errors(invisible, lambda text: text)["title"]
    assert english == (
        "Remove the invisible character U+0000: names and titles are one line of visible text."
    )


@pytest.mark.parametrize("language", ["fr", "es", "ar", "zh", "ru"])
def test_the_invisible_character_is_said_in_every_language(language: str) -> None:
    from wsis_web import i18n

    invisible = Problem(
        422,
        {
            "errors": [
                {
                    "pointer": "/title",
                    "type": "value_error",
                    "detail": "Value error, remove the invisible character U+202E: …",
                }
            ]
        },
    )
    message = field_errors(invisible, i18n.translations(language).gettext)["title"]
    assert "U+202E" in message
    assert "remove the invisible" not in message.lower()
