"""The project teams' pages in Debian's Chromium at 360×740: a team drafts an entry (autosave with
JavaScript on, a plain save with it off), sees the service's refusals at their fields, uploads an
attachment with a progress bar, submits, amends and withdraws; another organisation gets a 404.
Outcomes are read back through the submissions API. Screenshots 30–39.

Edition 2031 (created here, in its submission phase) and organisations `org-team-*` are this
file's own: other files share the same platform."""

from __future__ import annotations

import json
import random
import re
import uuid
from typing import Any, Final

import httpx
import pytest
from playwright.async_api import Browser, FilePayload, Page, expect
from starlette.datastructures import FormData

from tests.integration.helpers import whole_png
from tests.web.conftest import Site, check, mobile_page, staff_sign_in
from wsis_shared.auth import sign_dev_token
from wsis_shared.text import word_count
from wsis_shared.vocabulary import Role
from wsis_web.rendering import parse_year
from wsis_web.services import Problem
from wsis_web.team_pages import (
    changes_between,
    refusal,
    touched_fields,
    values_of_base,
    values_of_content,
    values_of_form,
)

YEAR: Final = 2031
VOCABULARY: Final = [
    "school",
    "teachers",
    "village",
    "solar",
    "network",
    "farmers",
    "market",
    "clinic",
    "health",
    "data",
    "open",
    "library",
    "radio",
    "women",
    "girls",
    "youth",
    "training",
    "mobile",
    "phone",
    "offline",
    "budget",
    "council",
    "district",
    "volunteers",
    "community",
    "language",
    "software",
    "licence",
    "weather",
    "alert",
    "money",
    "payment",
    "bank",
    "river",
    "mountain",
    "island",
    "coast",
    "road",
    "bus",
    "hub",
    "centre",
    "office",
    "citizens",
    "service",
    "portal",
    "record",
    "identity",
    "map",
    "survey",
    "report",
    "lesson",
    "course",
    "class",
    "exam",
    "skill",
    "job",
    "trade",
    "price",
    "crop",
    "seed",
    "water",
    "energy",
    "light",
    "power",
    "cable",
    "tower",
    "signal",
    "satellite",
    "fibre",
    "antenna",
    "route",
    "school-bus",
    "map-making",
]
PDF: Final = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"1 0 obj << >> endobj\n" * 120_000 + b"%%EOF\n"


def team_token(site: Site, organisation: str) -> str:
    return sign_dev_token(
        site.platform.private_key,
        subject=f"user-{organisation}",
        roles=[Role.SUBMITTER],
        organisation_id=organisation,
    )


def text_of(words: int) -> str:
    """A description of `words` words, different every time (the near-duplicate check)."""
    rng = random.Random(uuid.uuid4().int)
    return " ".join(rng.choice(VOCABULARY) for _ in range(words)).capitalize() + "."


async def edition_2031(site: Site) -> None:
    admin = sign_dev_token(site.platform.private_key, subject="test-admin", roles=[Role.ADMIN])
    headers = {"Authorization": f"Bearer {admin}"}
    base = site.platform.url("submissions")
    schedule = {
        "submission_opens": f"{YEAR}-01-10T00:00:00Z",
        "submission_closes": f"{YEAR}-02-10T00:00:00Z",
        "review_closes": f"{YEAR}-03-10T00:00:00Z",
        "voting_opens": f"{YEAR}-03-11T00:00:00Z",
        "voting_closes": f"{YEAR}-04-10T00:00:00Z",
        "results_at": f"{YEAR}-04-20T00:00:00Z",
    }
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        created = await http.post(
            "/editions", json={"year": YEAR, "title": f"WSIS Prizes {YEAR}", "schedule": schedule}
        )
        assert created.status_code in (201, 409), created.text
        if (await http.get(f"/editions/{YEAR}")).json()["phase"] != "submission":
            moved = await http.post(f"/editions/{YEAR}/phase", json={"phase": "submission"})
            assert moved.status_code == 200, moved.text


async def edition_phase(site: Site, phase: str) -> None:
    admin = sign_dev_token(site.platform.private_key, subject="test-admin", roles=[Role.ADMIN])
    async with httpx.AsyncClient(timeout=30) as http:
        moved = await http.post(
            f"{site.platform.url('submissions')}/editions/{YEAR}/phase",
            json={"phase": phase},
            headers={"Authorization": f"Bearer {admin}"},
        )
    assert moved.status_code == 200, moved.text


async def read_entry(site: Site, organisation: str, entry_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.get(
            f"{site.platform.url('submissions')}/entries/{entry_id}",
            headers={"Authorization": f"Bearer {team_token(site, organisation)}"},
        )
    assert response.status_code == 200, response.text
    entry: dict[str, Any] = response.json()
    return entry


def entry_id_of(page: Page) -> str:
    found = re.search(r"/team/entries/([^/?#]+)", page.url)
    assert found is not None, page.url
    return found[1]


async def saved(page: Page, before: str | None) -> None:
    """Until the autosave that follows a change has answered."""
    await page.wait_for_function(
        "before => { const at = document.querySelector('#entry-form').dataset.savedAt;"
        " return at && at !== before; }",
        arg=before,
        timeout=15_000,
    )


async def saved_at(page: Page) -> str | None:
    return await page.locator("#entry-form").get_attribute("data-saved-at")


async def check_without_script(browser: Browser, page: Page, name: str) -> None:
    """`check` for a page made with JavaScript off (axe-core needs it on): the same HTML, at the
    same address, in a page that may run scripts."""
    html = await page.content()
    copy = await mobile_page(browser)
    await copy.route(page.url, lambda route: route.fulfill(body=html, content_type="text/html"))
    await copy.goto(page.url)
    await check(copy, name)
    await copy.context.close()


async def fill_complete(page: Page, *, category: str, title: str) -> None:
    await page.fill("#f-title", title)
    await page.select_option("#f-category", category)
    await page.fill("#f-short_description", text_of(170))
    await page.fill("#f-full_description", text_of(300))
    await page.check("#f-sdgs")  # SDG 1
    await page.check("#f-sdgs-4")
    await page.select_option("#f-country", "KE")
    await page.select_option("#f-stakeholder_type", "civil society")
    await page.fill("#f-organisation_name", "Team Test Organisation")
    await page.select_option("#f-project_status", "completed")
    await page.fill("#f-start_date", "2024-03-01")
    await page.fill("#f-beneficiaries", "About 4,000 pupils and 120 teachers.")
    await page.fill("#f-impact_qualitative", "Pupils learn digital skills in class every week.")
    await page.fill("#f-contact_name", "Amina Test")
    await page.fill("#f-contact_email", "amina@example.org")


async def test_a_team_drafts_autosaves_uploads_submits_amends_and_withdraws(
    browser: Browser, site: Site
) -> None:
    await edition_2031(site)
    organisation = "org-team-a"
    page = await mobile_page(browser)
    await staff_sign_in(page, site, Role.SUBMITTER, "team-a", organisation=organisation)
    # "My pages" leads a project team straight to its entries.
    await expect(page.get_by_role("heading", level=1)).to_have_text("Our entries")
    section = page.locator("section.edition", has=page.get_by_role("heading", name="2031"))
    await expect(section.get_by_text("Submissions are open until")).to_be_visible()
    await expect(
        section.get_by_text("Your organisation has no entry in this edition.")
    ).to_be_visible()
    # Past editions say when their submissions closed, and offer no new entry.
    past = page.locator("section.edition", has=page.get_by_role("heading", name="2027"))
    await expect(past.get_by_text("Submissions closed on")).to_be_visible()
    await expect(past.get_by_role("button", name="Start a new entry")).to_have_count(0)
    await check(page, "30-team-entries")

    await section.get_by_role("button", name="Start a new entry").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Edit the draft")
    entry_id = entry_id_of(page)
    assert (await read_entry(site, organisation, entry_id))["status"] == "draft"

    # Autosave: a moment after typing, only what changed is saved, and the page says when.
    before = await saved_at(page)
    await page.fill("#f-title", "Solar classrooms for 60 schools")
    await saved(page, before)
    await expect(page.locator("#autosave-status")).to_have_text(re.compile(r"^Saved at \S+"))
    assert (await read_entry(site, organisation, entry_id))["content"]["title"] == (
        "Solar classrooms for 60 schools"
    )

    # Submitting an incomplete draft: each missing field says so at the field, and a summary
    # at the top links to them.
    await page.get_by_role("button", name="Submit the entry").click()
    summary = page.locator(".error-summary")
    await expect(summary).to_contain_text("There is a problem")
    await expect(
        summary.get_by_role("link", name=re.compile("^Short description"))
    ).to_have_attribute("href", "#f-short_description")
    description = page.locator("#f-short_description")
    await expect(description).to_have_attribute("aria-invalid", "true")
    await expect(description).to_have_accessible_description(
        re.compile("Fill this in before you submit the entry")
    )
    await expect(page.locator("#f-title")).not_to_have_attribute("aria-invalid", "true")
    await check(page, "31-team-submit-incomplete")
    assert (await read_entry(site, organisation, entry_id))["status"] == "draft"

    # An address the service refuses is marked at its field by the autosave; the rest is kept.
    before = await saved_at(page)
    await page.fill("#f-organisation_name", "Open Schools Kenya")
    await page.fill("#f-contact_email", "amina@")
    await saved(page, before)
    email = page.locator("#f-contact_email")
    await expect(email).to_have_attribute("aria-invalid", "true")
    await expect(email).to_have_accessible_description(re.compile("Enter an email address"))
    content = (await read_entry(site, organisation, entry_id))["content"]
    assert content["organisation_name"] == "Open Schools Kenya"
    assert content["contact_email"] is None
    await check(page, "32-team-autosave-field-error")

    # The whole form, complete: the word count follows the text.
    before = await saved_at(page)
    await fill_complete(page, category="C4", title="Solar classrooms for 60 schools")
    await expect(page.locator("#f-short_description-count")).to_have_text(
        "Words: 170 of 150 to 200"
    )
    await saved(page, before)
    await expect(email).not_to_have_attribute("aria-invalid", "true")
    content = (await read_entry(site, organisation, entry_id))["content"]
    assert content["contact_email"] == "amina@example.org"
    assert content["sdgs"] == [1, 4]
    assert content["country"] == "KE"
    assert word_count(content["short_description"]) == 170

    # A file that is not a PDF, PNG or JPEG is refused at the field.
    await page.set_input_files(
        "#file", files=[FilePayload(name="notes.pdf", mimeType="application/pdf", buffer=b"notes")]
    )
    await page.get_by_role("button", name="Upload the file").click()
    upload = page.locator("#file")
    await expect(upload).to_have_attribute("aria-invalid", "true")
    await expect(upload).to_have_accessible_description(re.compile("not a PDF, PNG or JPEG"))
    # A PDF cut off on the way is told so, not "not a PDF".
    await page.set_input_files(
        "#file",
        files=[FilePayload(name="cut.pdf", mimeType="application/pdf", buffer=PDF[:4096])],
    )
    await page.get_by_role("button", name="Upload the file").click()
    await expect(upload).to_have_accessible_description(re.compile("seems cut off or damaged"))
    # A PDF goes up with a progress bar (its steps are kept across the reload that follows).
    await page.evaluate(
        """() => { const form = document.querySelector('form[data-upload]');
        new MutationObserver(() => sessionStorage.setItem('progress',
          (sessionStorage.getItem('progress') || '') + ',' + form.dataset.progress))
        .observe(form, {attributes: true, attributeFilter: ['data-progress']}); }"""
    )
    await page.set_input_files(
        "#file", files=[FilePayload(name="report.pdf", mimeType="application/pdf", buffer=PDF)]
    )
    await page.get_by_role("button", name="Upload the file").click()
    await expect(page.get_by_text("The file was added.")).to_be_visible()
    progress = await page.evaluate("() => sessionStorage.getItem('progress')")
    assert progress is not None
    assert progress.endswith(",100"), progress
    await expect(
        page.locator("#attachments").get_by_role("link", name="report.pdf")
    ).to_be_visible()
    attachments = (await read_entry(site, organisation, entry_id))["attachments"]
    assert [(a["filename"], a["size"]) for a in attachments] == [("report.pdf", len(PDF))]
    await check(page, "33-team-attachment-added")

    await page.get_by_role("button", name="Submit the entry").click()
    await expect(page.get_by_text("Your entry is submitted.")).to_be_visible()
    await expect(page.locator(".status").first).to_have_text("Submitted")
    assert (await read_entry(site, organisation, entry_id))["status"] == "submitted"
    await check(page, "34-team-entry-submitted")

    # Amending: the same form, checked again on save.
    await page.get_by_role("link", name="Amend the entry").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Amend the entry")
    await expect(page.locator("#entry-form")).not_to_have_attribute("data-autosave", re.compile(""))
    await page.fill("#f-short_description", text_of(120))
    await page.get_by_role("button", name="Save the changes").click()
    await expect(page.locator("#f-short_description")).to_have_accessible_description(
        re.compile("has 120 words; it must have 150 to 200")
    )
    await check(page, "35-team-amend-refused")
    assert (
        word_count((await read_entry(site, organisation, entry_id))["content"]["short_description"])
        == 170
    )
    await page.fill("#f-short_description", text_of(180))
    await page.fill("#f-title", "Solar classrooms for 80 schools")
    await page.get_by_role("button", name="Save the changes").click()
    await expect(page.get_by_text("Your changes to the entry are saved.")).to_be_visible()
    amended = await read_entry(site, organisation, entry_id)
    assert amended["content"]["title"] == "Solar classrooms for 80 schools"
    assert amended["status"] == "submitted"

    # Withdrawing asks first.
    await page.get_by_role("link", name="Withdraw the entry").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Withdraw the entry")
    await check(page, "36-team-withdraw-confirm")
    await page.get_by_label("Reason (optional)").fill("Merged with another entry")
    await page.get_by_role("button", name="Yes, withdraw the entry").click()
    await expect(page.get_by_text("Your entry is withdrawn.")).to_be_visible()
    assert (await read_entry(site, organisation, entry_id))["status"] == "withdrawn"
    await page.goto(f"{site.url}/team")
    await expect(
        page.get_by_text(re.compile("Withdrawn on .*: it does not compete"))
    ).to_be_visible()
    await check(page, "37-team-entry-withdrawn")

    # Another organisation's team: the service says 404, so does the page.
    other = await mobile_page(browser)
    await staff_sign_in(other, site, Role.SUBMITTER, "team-z", organisation="org-team-z")
    for path in ("", "/edit", "/withdraw"):
        response = await other.goto(f"{site.url}/team/entries/{entry_id}{path}")
        assert response is not None
        assert response.status == 404, path
        await expect(other.get_by_role("heading", level=1)).to_have_text("Sorry")


async def test_without_javascript_a_team_saves_and_meets_the_contest_rules(
    browser: Browser, site: Site
) -> None:
    await edition_2031(site)
    organisation = "org-team-b"
    # The organisation already competes in C4 (entered through the API).
    token = team_token(site, organisation)
    async with httpx.AsyncClient(
        base_url=site.platform.url("submissions"),
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ) as http:
        first = await http.post(
            f"/editions/{YEAR}/entries",
            json={
                "title": "Mobile libraries for island schools",
                "category": "C4",
                "short_description": text_of(160),
                "full_description": text_of(200),
                "sdgs": [4],
                "country": "FJ",
                "stakeholder_type": "government",
                "organisation_name": "Ministry of Test",
                "impact_qualitative": "More children read every week.",
                "beneficiaries": "Pupils of 30 island schools.",
                "start_date": "2023-01-15",
                "project_status": "completed",
                "contact_name": "Sione Test",
                "contact_email": "sione@example.org",
            },
        )
        assert first.status_code == 201, first.text
        submitted = await http.post(f"/entries/{first.json()['entry_id']}/submit")
        assert submitted.status_code == 200, submitted.text

    page = await mobile_page(browser, java_script_enabled=False)
    await staff_sign_in(page, site, Role.SUBMITTER, "team-b", organisation=organisation)
    section = page.locator("section.edition", has=page.get_by_role("heading", name="2031"))
    await expect(
        section.get_by_role("link", name="Mobile libraries for island schools")
    ).to_be_visible()
    await section.get_by_role("button", name="Start a new entry").click()
    entry_id = entry_id_of(page)

    # A plain save: what the service accepts is saved, a refused field says why at the field.
    await page.fill("#f-title", "Coding clubs in rural libraries")
    await page.fill("#f-website", "not a web address")
    await page.get_by_role("button", name="Save the draft").click()
    website = page.locator("#f-website")
    await expect(website).to_have_attribute("aria-invalid", "true")
    await expect(website).to_have_accessible_description(re.compile("Enter a full web address"))
    await expect(website).to_have_value("not a web address")  # what was typed is kept
    await expect(
        page.locator(".error-summary").get_by_role("link", name=re.compile("^Website"))
    ).to_be_visible()
    await check_without_script(browser, page, "38-team-plain-save-refused")
    content = (await read_entry(site, organisation, entry_id))["content"]
    assert content["title"] == "Coding clubs in rural libraries"
    assert content["website"] is None

    await page.fill("#f-website", "https://coding-clubs.example.org")
    await page.get_by_role("button", name="Save the draft").click()
    await expect(page.get_by_text("Saved.", exact=True)).to_be_visible()
    assert (await read_entry(site, organisation, entry_id))["content"]["website"] == (
        "https://coding-clubs.example.org/"
    )

    # The file form without a script.
    png = whole_png()
    await page.set_input_files(
        "#file", files=[FilePayload(name="poster.png", mimeType="image/png", buffer=png)]
    )
    await page.get_by_role("button", name="Upload the file").click()
    await expect(page.get_by_text("The file was added.")).to_be_visible()
    attachments = (await read_entry(site, organisation, entry_id))["attachments"]
    assert [a["content_type"] for a in attachments] == ["image/png"]
    await page.get_by_role("button", name="Remove poster.png").click()
    await expect(page.get_by_text("The file was removed.")).to_be_visible()
    assert (await read_entry(site, organisation, entry_id))["attachments"] == []

    # One project per category per organisation: a second entry in C4 is refused on submit.
    await fill_complete(page, category="C4", title="Coding clubs in rural libraries")
    await page.get_by_role("button", name="Submit the entry").click()
    await expect(page.locator(".error-summary")).to_contain_text(
        "Your organisation already has an entry in this category"
    )
    category = page.locator("#f-category")
    await expect(category).to_have_attribute("aria-invalid", "true")
    await expect(category).to_have_accessible_description(
        re.compile("already has an entry in this category")
    )
    await check_without_script(browser, page, "39-team-one-per-category")
    assert (await read_entry(site, organisation, entry_id))["status"] == "draft"
    await page.select_option("#f-category", "C3")
    await page.get_by_role("button", name="Submit the entry").click()
    await expect(page.get_by_text("Your entry is submitted.")).to_be_visible()
    entry = await read_entry(site, organisation, entry_id)
    assert (entry["status"], entry["content"]["category"]) == ("submitted", "C3")

    # Once the submission phase is over, submitting is refused with the phase's dates.
    await page.goto(f"{site.url}/team")
    await section.get_by_role("button", name="Start a new entry").click()
    late_id = entry_id_of(page)
    await page.fill("#f-title", "Night classes in market halls")
    await edition_phase(site, "review")
    try:
        await page.get_by_role("button", name="Submit the entry").click()
        await expect(page.locator(".error-summary")).to_contain_text(
            re.compile(
                r"possible only while the submission phase is open, from Jan 10, 2031.* UTC "
                r"to Feb 10, 2031.* UTC"
            )
        )
        late = await read_entry(site, organisation, late_id)
        assert (late["status"], late["content"]["title"]) == (
            "draft",
            "Night classes in market halls",
        )
    finally:
        await edition_phase(site, "submission")


def test_a_refusal_for_the_wrong_phase_names_the_dates() -> None:
    from starlette.requests import Request

    request = Request({"type": "http", "query_string": b"", "headers": [], "method": "GET"})
    problem = Problem(
        409,
        {
            "code": "phase-closed",
            "detail": "…",
            "opens_at": "2031-01-10T00:00:00Z",
            "closes_at": "2031-02-10T00:00:00Z",
        },
    )
    message = refusal(problem, None, request)
    assert message.startswith("This is possible only while the submission phase is open")
    assert re.search(r"from Jan 10, 2031.* UTC to Feb 10, 2031.* UTC\.$", message), message


@pytest.mark.parametrize(
    ("stored", "typed", "expected"),
    [
        ({"title": "A"}, {"title": " A "}, {}),
        ({"sdgs": [4, 1]}, {"sdgs": ["1", "4"]}, {}),
        ({"sdgs": [4]}, {"sdgs": []}, {"sdgs": []}),
        ({"partners": ["X"]}, {"partners": "X\n\nY "}, {"partners": ["X", "Y"]}),
        ({}, {"sdg_targets": "4.4, 9.c"}, {"sdg_targets": ["4.4", "9.c"]}),
        ({"title": "A"}, {"title": ""}, {"title": None}),
        # Characters Python calls digits that are not numbers ("²", "①") are no SDG (a 500 before).
        ({"sdgs": [4]}, {"sdgs": ["²", "①", "4"]}, {}),
        ({}, {"sdgs": ["٤"]}, {"sdgs": [4]}),  # an Arabic-Indic four is a four
    ],
)
def test_only_what_changed_is_sent(
    stored: dict[str, Any], typed: dict[str, Any], expected: dict[str, Any]
) -> None:
    values = values_of_content(stored) | typed
    assert changes_between(stored, values) == expected


@pytest.mark.parametrize("typed", ["20510", "²⁰²⁵", "2025x", "", "1999"])
def test_a_year_that_is_not_one_is_refused_not_cut_or_a_500(typed: str) -> None:
    assert parse_year(typed) is None


def test_a_year_is_read() -> None:
    assert parse_year("2031") == 2031


def test_a_text_posted_with_other_line_endings_is_the_same_text() -> None:
    """A browser posts a textarea with CRLF; stored text and the page's copy have LF. An
    untouched multi-line field must not read as changed (it would be sent over another tab's
    save)."""
    stored = values_of_content({"full_description": "First line\nSecond line"})
    posted = FormData(
        [("full_description", "First line\r\nSecond line"), ("base", json.dumps(stored))]
    )

    typed = values_of_form(posted)

    assert typed["full_description"] == "First line\nSecond line"
    assert touched_fields(posted, typed) == set()
    assert values_of_base(json.dumps({"full_description": "a\r\nb"}))["full_description"] == "a\nb"  # type: ignore[index]
