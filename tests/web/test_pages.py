"""The public pages in Debian's Chromium at 360×740: the voter's whole journey with JavaScript
on and off, axe-core on every page, right-to-left Arabic, the voting page's weight, and results
that change without a reload. Screenshots go to test-artifacts/screenshots/.

The tests share one platform with the demo data of `make up` (edition 2027, voting open) and run
in file order: the last one closes the vote."""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid
from typing import Any, Final

import httpx
import pytest
from playwright.async_api import Browser, Page, Response, expect
from pymongo import AsyncMongoClient

from tests.web.conftest import Site, check, mobile_page
from wsis_web.i18n import translations
from wsis_web.rendering import in_duration

BUDGET_BYTES: Final = 60 * 1024
# The voter who comes back after the close (on a new device) to check their receipt; their
# nominee is withdrawn during the vote. Filled in by the tests before the close.
RETURNING: dict[str, str] = {}
WITHDRAWN_TITLE: Final = "Digital literacy buses"


def code_from_mail(site: Site, address: str, count: int = 1) -> str:
    mails = site.mail.wait_for(address, count=count, timeout_s=15)
    assert len(mails) >= count, f"no code mailed to {address}"
    found = re.search(r"\b\d{6}\b", mails[0].text)
    assert found is not None, mails[0].text
    return found[0]


async def sign_in(page: Page, site: Site, address: str, *, name: str | None = None) -> None:
    """From the sign-in page to the page the vote continues on."""
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to vote")
    await page.get_by_label("Email address").fill(address)
    await page.get_by_role("button", name="Send me a code").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    if name:
        await check(page, name)
    await page.get_by_label("Code from the email").fill(code_from_mail(site, address))
    await page.get_by_role("button", name="Continue").click()


async def test_the_voter_journey_at_360_px(browser: Browser, site: Site) -> None:
    page = await mobile_page(browser)
    await page.goto(site.url + "/")
    await expect(page.get_by_role("heading", name="WSIS Prizes 2027")).to_be_visible()
    await expect(page.get_by_text("Current phase: Public voting")).to_be_visible()
    await check(page, "01-home")

    await page.get_by_role("link", name="Vote now").click()
    await expect(page).to_have_url(f"{site.url}/vote/2027")
    await check(page, "02-ballot")

    await page.get_by_role("link", name=re.compile("Capacity building")).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Capacity building")
    await check(page, "03-category")
    first = page.locator("li.nominee").first
    title = await first.locator("h2").inner_text()
    await first.get_by_role("button", name="Vote for this project").click()

    # The address is checked before any code is asked for; the message belongs to the field.
    await page.get_by_label("Email address").fill("not an address")
    await page.get_by_role("button", name="Send me a code").click()
    field = page.get_by_label("Email address")
    await expect(field).to_have_attribute("aria-invalid", "true")
    await expect(field).to_have_accessible_description(re.compile("not an email address"))
    # A screen reader is moved to the problem: the summary has the focus, and links to the field.
    await expect(page.locator("#error-summary")).to_be_focused()
    await expect(page.locator("#error-summary a")).to_have_attribute("href", "#email")
    await check(page, "04-sign-in-error")

    address = f"vera-{uuid.uuid4().hex[:8]}@example.org"
    await page.get_by_label("Email address").fill(address)
    await page.get_by_role("button", name="Send me a code").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    await check(page, "05-code")
    # A wrong code is explained at the field, with the attempts left.
    right_code = code_from_mail(site, address)
    wrong_code = f"{(int(right_code) + 1) % 1_000_000:06d}"
    await page.get_by_label("Code from the email").fill(wrong_code)
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_label("Code from the email")).to_have_accessible_description(
        re.compile(r"This code is not correct\. 4 attempts left\.")
    )
    await expect(page.locator("#error-summary")).to_be_focused()
    await check(page, "06-code-error")
    await page.get_by_label("Code from the email").fill(right_code)
    await page.get_by_role("button", name="Continue").click()

    # Back on the category, the choice waits for confirmation.
    await expect(page.get_by_role("heading", name="Confirm your vote")).to_be_visible()
    await expect(page.get_by_text(f"You chose: {title}")).to_be_visible()
    await check(page, "07-confirm")
    await page.get_by_role("button", name="Confirm my vote").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("Your vote is recorded")
    await expect(page.locator(".receipt")).to_contain_text(title)
    receipt_number = await page.locator(".receipt code").inner_text()
    assert re.fullmatch(r"[0-9a-f]{32}", receipt_number)
    await check(page, "08-receipt")

    await page.goto(site.url + "/vote/2027/C4")
    await expect(page.get_by_text("You have voted in this category")).to_be_visible()
    await expect(page.get_by_role("button", name="Vote for this project")).to_have_count(0)
    await page.goto(site.url + "/vote/2027")
    card = page.locator("li.card", has_text="Capacity building")
    await expect(card).to_contain_text("You have voted in this category")

    await page.goto(site.url + "/results/2027/C4")
    await expect(page.get_by_role("table", name="Votes per project")).to_contain_text(title)
    await expect(page.locator("#counts-hidden")).to_be_visible()
    # The live stream reached the page through this origin's /live relay.
    await expect(page.locator("table[data-updated]")).to_have_count(1, timeout=10_000)
    await check(page, "09-results")
    await page.context.close()


async def test_voting_with_javascript_off(browser: Browser, site: Site) -> None:
    page = await mobile_page(browser, java_script_enabled=False)
    await page.goto(site.url + "/vote/2027/C7.e-government")
    nominee = page.locator("li.nominee").first
    title = await nominee.locator("h2").inner_text()
    await nominee.get_by_role("button", name="Vote for this project").click()
    await sign_in(page, site, f"nojs-{uuid.uuid4().hex[:8]}@example.org")
    await page.get_by_role("button", name="Confirm my vote").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your vote is recorded")
    await expect(page.locator(".receipt")).to_contain_text(title)

    # A second vote in the category, from a page loaded before the first: the receipt again.
    await page.goto(site.url + "/vote/2027/C7.e-government")
    await expect(page.get_by_text("You have voted in this category")).to_be_visible()
    await page.context.close()


async def test_a_voter_with_an_address_in_another_script_reaches_the_code_page(
    site: Site,
) -> None:
    """The address waits in a cookie for the code; a header is Latin-1 (a 500 before)."""
    address = f"имя.{uuid.uuid4().hex[:6]}@пример.рф"
    async with httpx.AsyncClient(base_url=site.url) as http:
        form = await http.get("/sign-in")
        found = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert found
        sent = await http.post("/sign-in", data={"email": address, "csrf": found.group(1)})
        assert sent.status_code == 303, sent.text
        code_page = await http.get(sent.headers["location"])
    assert code_page.status_code == 200
    assert address in code_page.text


async def test_a_code_sent_twice_signs_in_once_and_then_says_it_was_used(site: Site) -> None:
    """The same code sent again is told it was used (not "expired"), and how to sign in — even in
    a browser where someone is signed in already: it never carries on as that voter."""
    address = f"twice-{uuid.uuid4().hex[:8]}@example.org"
    async with httpx.AsyncClient(base_url=site.url) as http:
        form = await http.get("/sign-in")
        found = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert found
        csrf = found.group(1)
        sent = await http.post("/sign-in", data={"email": address, "csrf": csrf})
        assert sent.status_code == 303, sent.text
        before = dict(http.cookies)  # what the browser sends with both clicks
        code = code_from_mail(site, address)

        first = await http.post("/sign-in/code", data={"code": code, "csrf": csrf})
        assert first.status_code == 303, first.text
        signed_in = before | dict(http.cookies)
    async with httpx.AsyncClient(base_url=site.url, cookies=signed_in) as signed_in_browser:
        again = await signed_in_browser.post("/sign-in/code", data={"code": code, "csrf": csrf})
    async with httpx.AsyncClient(base_url=site.url, cookies=before) as another_browser:
        elsewhere = await another_browser.post("/sign-in/code", data={"code": code, "csrf": csrf})
    for answer in (again, elsewhere):
        assert answer.status_code == 409
        assert "already used to sign in" in answer.text


@pytest.mark.parametrize("entry_id", ["%2E", "%3Flimit=1", "%00", "x%23y"])
async def test_a_catalogue_entry_that_cannot_exist_is_a_404(site: Site, entry_id: str) -> None:
    async with httpx.AsyncClient(base_url=site.url) as http:
        answer = await http.get(f"/stocktaking/entries/{entry_id}")
    assert answer.status_code == 404


async def test_switching_language_on_a_page_answering_a_form_returns_to_the_form(
    site: Site,
) -> None:
    """The answer to a POST has an address that takes only POST: its language links go to the
    form's own page (from the Referer, when it is this site's), never to a 405."""
    async with httpx.AsyncClient(base_url=site.url) as http:
        form_url = f"{site.url}/sign-in?next=%2Fvote%2F{site.year}%2FC4"
        form = await http.get(form_url)
        found = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert found
        refused = await http.post(
            "/sign-in",
            data={"email": "not an address", "csrf": found.group(1)},
            headers={"referer": form_url},
        )
        assert refused.status_code == 422
        french = re.search(r'<a href="([^"]+)" lang="fr"', refused.text)
        assert french
        link = french.group(1).replace("&amp;", "&")
        assert link == f"/sign-in?next=%2Fvote%2F{site.year}%2FC4&lang=fr"
        assert (await http.get(link)).status_code == 200


async def test_a_form_from_another_site_is_refused(site: Site) -> None:
    async with httpx.AsyncClient(base_url=site.url) as http:
        forged = await http.post("/sign-in", data={"email": "x@example.org", "csrf": "forged"})
    assert forged.status_code == 400
    assert "This form has expired" in forged.text


async def test_every_public_page_passes_axe(browser: Browser, site: Site) -> None:
    page = await mobile_page(browser)
    pages = {
        "10-results-index": "/results/2027",
        "11-champions-before-the-close": "/champions/2027",
        "12-stocktaking-search": "/stocktaking",
        "13-stocktaking-search-filtered": "/stocktaking?q=school&category=C4",
        "15-not-found": "/vote/2027/C99",
    }
    for name, path in pages.items():
        await page.goto(site.url + path)
        await check(page, name)

    # The search form works without JavaScript: a facet is a checkbox of a GET form.
    await page.goto(site.url + "/stocktaking")
    await page.get_by_text("Filters", exact=True).click()
    await page.get_by_role("checkbox", name=re.compile(r"^ICT applications: E-health")).check()
    await page.get_by_role("button", name="Apply filters").click()
    await expect(page.get_by_role("status")).to_have_text("1 project found")
    await page.get_by_role("link", name="Tele-consultations for remote clinics").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Tele-consultations for remote clinics"
    )
    await check(page, "16-stocktaking-entry")
    await page.context.close()


async def test_reports_list_and_download_from_this_origin(browser: Browser, site: Site) -> None:
    admin = site.platform.headers(roles=["admin"], sub="admin-web")
    stocktaking = site.platform.url("stocktaking")
    async with httpx.AsyncClient(base_url=stocktaking, timeout=30) as http:
        asked = await http.post(
            "/reports", json={"edition": 2027, "kind": "stocktaking-report"}, headers=admin
        )
        assert asked.status_code == 202, asked.text
        for _ in range(120):
            job = (await http.get(asked.headers["location"], headers=admin)).json()
            if job["status"] in ("done", "failed"):
                break
            await asyncio.sleep(0.5)
        assert job["status"] == "done", job

    page = await mobile_page(browser)
    await page.goto(site.url + "/stocktaking/reports")
    await expect(page.get_by_role("heading", name="WSIS Stocktaking Report 2027")).to_be_visible()
    await check(page, "14-reports")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="PDF").click()
    download = await download_info.value
    assert download.url.startswith(site.url + "/stocktaking/reports/")
    pdf = await download.path()
    assert pdf.read_bytes().startswith(b"%PDF")
    await page.get_by_role("link", name="HTML").click()
    await expect(page.locator("svg").first).to_be_visible()  # the report's charts
    assert page.url.startswith(site.url + "/stocktaking/reports/")
    await page.context.close()


async def test_six_languages_and_arabic_right_to_left(browser: Browser, site: Site) -> None:
    mirrored: dict[str, bool] = {}
    for language, heading in {
        "ar": "جوائز القمة العالمية لمجتمع المعلومات",
        "zh": "信息社会世界峰会奖",
        "en": "WSIS Prizes",
        "fr": "Prix du SMSI",
        "ru": "Премии ВВУИО",
        "es": "Premios de la CMSI",
    }.items():
        page = await mobile_page(browser, locale=language)  # sends Accept-Language
        await page.goto(site.url + "/")
        html = page.locator("html")
        await expect(html).to_have_attribute("lang", language)
        await expect(html).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
        await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        brand = await page.locator(".brand").bounding_box()
        links = page.locator(".main-nav a")
        first, last = await links.first.bounding_box(), await links.last.bounding_box()
        assert brand is not None
        assert first is not None
        assert last is not None
        # Mirrored: the site's name starts at the right edge, the menu runs right to left.
        # (Links on one line follow each other; wrapped, they align on the same side.)
        right_edge = brand["x"] + brand["width"]
        mirrored[language] = (
            right_edge > 340 and first["x"] + first["width"] >= last["x"] + last["width"]
        )
        if language != "ar":
            assert brand["x"] < 20, (language, brand)
            assert first["x"] <= last["x"], (language, first, last)
        await check(page, f"20-home-{language}")
        await page.context.close()
    assert mirrored == {"ar": True, "zh": False, "en": False, "fr": False, "ru": False, "es": False}

    # The switcher is plain links: the choice is remembered for the next pages.
    page = await mobile_page(browser, locale="en")
    await page.goto(site.url + "/vote/2027")
    await page.get_by_role("link", name="français").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Voter")
    await page.goto(site.url + "/vote/2027/C4")
    await expect(page.get_by_role("button", name="Voter pour ce projet").first).to_be_visible()
    await check(page, "21-category-fr")
    await page.goto(site.url + "/vote/2027?lang=ar")
    await expect(page.get_by_text("صوِّت لهذا المشروع")).to_have_count(0)  # ballot: no buttons
    await check(page, "22-ballot-ar")
    await page.context.close()


async def test_the_voting_page_weighs_at_most_60_kb_compressed(
    browser: Browser, site: Site
) -> None:
    page = await mobile_page(browser)
    responses: list[Response] = []
    page.on("response", lambda response: responses.append(response))
    await page.goto(site.url + "/vote/2027/C4", wait_until="load")
    assert {r.request.resource_type for r in responses} >= {"document", "stylesheet", "script"}
    total = 0
    for response in responses:
        sizes = await response.request.sizes()
        total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        assert (await response.header_value("content-encoding")) == "gzip", response.url
    print(f"voting page first load: {len(responses)} responses, {total} bytes compressed")
    assert total <= BUDGET_BYTES, total


async def _csrf(http: httpx.AsyncClient, path: str = "/sign-in") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', (await http.get(path)).text)
    assert found
    return found.group(1)


async def test_a_voter_signs_in_from_the_home_page_to_their_votes(
    browser: Browser, site: Site, mongo_uri: str, mongo_db_prefix: str
) -> None:
    """ "My votes" is reachable without a vote button; the receipt says when the list of votes is
    published; pages with the voter's own state are never kept for Back; a nomination withdrawn
    during the vote keeps its title on the receipt."""
    page = await mobile_page(browser)
    await page.goto(site.url + "/")
    await page.get_by_role("link", name="Voted before? Sign in to see your votes").click()
    address = f"back-{uuid.uuid4().hex[:8]}@example.org"
    await sign_in(page, site, address)
    await expect(page).to_have_url(f"{site.url}/my-votes")
    await expect(page.get_by_role("heading", level=1)).to_have_text("My votes")
    edition = page.locator("section", has=page.get_by_role("heading", name="WSIS Prizes 2027"))
    await expect(edition).to_contain_text("You have not voted in this edition.")
    await check(page, "19-my-votes-empty")

    async with httpx.AsyncClient() as http:
        ballot = (await http.get(f"{site.platform.url('voting')}/editions/2027/ballot")).json()
    [entry_id] = [
        n["entry_id"] for c in ballot for n in c["nominees"] if n["title"] == WITHDRAWN_TITLE
    ]
    # The choice waiting for confirmation is the voter's own state: Back never shows it stale.
    confirm = await page.goto(f"{site.url}/vote/2027/C4?choose={entry_id}")
    assert confirm is not None
    assert confirm.headers["cache-control"] == "no-store"
    await expect(page.get_by_text(f"You chose: {WITHDRAWN_TITLE}")).to_be_visible()
    await page.get_by_role("button", name="Confirm my vote").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your vote is recorded")
    check_section = page.locator(".bulletin-check")
    await expect(check_section).to_contain_text("The list of votes is published with the results")
    receipt = await page.reload()
    assert receipt is not None
    assert receipt.headers["cache-control"] == "no-store"
    RETURNING.update(address=address, receipt=await page.locator(".receipt code").inner_text())

    mine = await page.goto(site.url + "/my-votes")
    assert mine is not None
    assert mine.headers["cache-control"] == "no-store"
    await expect(page.locator("ul.my-votes")).to_contain_text(WITHDRAWN_TITLE)
    await check(page, "19-my-votes")

    # The nomination is withdrawn while voting lasts (as the review service's decision would
    # record it): off the ballot, its title still on the receipt (from the Stocktaking database).
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri)
    try:
        nominees = mongo[f"{mongo_db_prefix}web_voting"]["nominees"]
        changed = await nominees.update_one({"_id": entry_id}, {"$set": {"nominated": False}})
        assert changed.modified_count == 1
    finally:
        await mongo.close()
    await page.get_by_role("link", name="Receipt for C4").click()
    await expect(page.locator(".receipt")).to_contain_text(WITHDRAWN_TITLE)
    await page.goto(site.url + "/vote/2027/C4")
    await expect(page.locator("li.nominee", has_text=WITHDRAWN_TITLE)).to_have_count(0)
    await page.context.close()


async def test_a_second_tab_entering_the_same_code_goes_on_signed_in(site: Site) -> None:
    """Two tabs of one browser share its cookies: the first signs in with the code, the second
    goes on to its own page rather than back to an empty sign-in form."""
    address = f"tabs-{uuid.uuid4().hex[:8]}@example.org"
    async with httpx.AsyncClient(base_url=site.url) as browser_cookies:
        csrf = await _csrf(browser_cookies)
        sent = await browser_cookies.post("/sign-in", data={"email": address, "csrf": csrf})
        assert sent.status_code == 303, sent.text
        code = code_from_mail(site, address)
        first = await browser_cookies.post(
            "/sign-in/code", data={"code": code, "csrf": csrf, "next": "/vote/2027"}
        )
        assert (first.status_code, first.headers["location"]) == (303, "/vote/2027")
        second = await browser_cookies.post(
            "/sign-in/code", data={"code": code, "csrf": csrf, "next": "/vote/2027/C2"}
        )
        assert (second.status_code, second.headers["location"]) == (303, "/vote/2027/C2")
        reloaded = await browser_cookies.get("/sign-in/code?next=/vote/2027/C2")
        assert (reloaded.status_code, reloaded.headers["location"]) == (303, "/vote/2027/C2")
        form = await browser_cookies.get("/sign-in?next=/my-votes")
        assert "You are already signed in in this browser." in form.text
        assert 'href="/my-votes">Continue' in form.text


def test_waits_are_said_as_people_say_them() -> None:
    def said(seconds: int, language: str = "en") -> str:
        catalogue = translations(language)

        def ngettext(singular: str, plural: str, n: int) -> str:
            return catalogue.ngettext(singular, plural, n) % {"num": n}

        return in_duration(seconds, catalogue.gettext, ngettext)

    assert [said(s) for s in (1, 45, 60, 61, 119, 3300, 3600, 4000, 7200, 86400, 3 * 86400)] == [
        "in 1 second",
        "in 45 seconds",
        "in 1 minute",
        "in 2 minutes",
        "in 2 minutes",
        "in 55 minutes",
        "in about an hour",
        "in about an hour",
        "in about 2 hours",
        "in about 24 hours",
        "in about 3 days",
    ]
    assert said(120, "fr") == "dans 2 minutes"
    assert said(3600, "ru") == "примерно через час"


async def test_rate_limits_are_explained_per_limit(site: Site) -> None:
    """A 429 says which limit was reached — the network's codes, the network's code entries, a
    code asked for again too soon — and when to try again, as a duration."""
    network = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    as_network = {"X-Forwarded-For": network}
    async with httpx.AsyncClient(base_url=site.url, headers=as_network) as http:
        csrf = await _csrf(http)
        # Resent within the minute: the address's own wait, not a network limit.
        address = f"soon-{uuid.uuid4().hex[:8]}@example.org"
        sent = await http.post("/sign-in", data={"email": address, "csrf": csrf})
        assert sent.status_code == 303, sent.text
        soon = await http.post("/sign-in/resend", data={"csrf": csrf})
        assert soon.status_code == 429
        assert "A new code can be sent one minute after the last one." in soon.text
        assert re.search(r"Try again in \d+ (second|minute)s?\.", soon.text), soon.text
        assert "from your network" not in soon.text

        # Code entries from one network (60 a minute): the network is named, not the code.
        for _ in range(75):
            entered = await http.post("/sign-in/code", data={"code": "000000", "csrf": csrf})
            if "entered from your network" in entered.text:
                break
        assert entered.status_code == 429, entered.text
        assert "This is not about your code." in entered.text
        assert re.search(r"Try again in \d+ (second|minute)s?\.", entered.text), entered.text

        # Codes asked for from one network (30 a minute), each for another address.
        for number in range(45):
            asked = await http.post(
                "/sign-in", data={"email": f"net-{number}-{network}@example.org", "csrf": csrf}
            )
            if asked.status_code == 429:
                break
        assert asked.status_code == 429, asked.text
        assert "Too many codes were asked for from your network" in asked.text
        assert "Too many codes were asked for this address" not in asked.text
        assert re.search(r"Try again in \d+ (second|minute)s?\.", asked.text), asked.text
        assert asked.headers["cache-control"] == "no-store"


async def test_results_change_without_a_reload_then_champions(browser: Browser, site: Site) -> None:
    """Closes the vote (selection, then results): each phase is said as it is; the open page
    shows the counts as they are published; the returning voter finds their vote in the list."""
    page = await mobile_page(browser)
    await page.goto(site.url + "/results/2027/C4")
    await expect(page.locator("#counts-hidden")).to_be_visible()
    await expect(page.locator("#counts-hidden")).to_contain_text("Voting is open.")
    await expect(page.locator("table[data-updated]")).to_have_count(1, timeout=10_000)
    counts = page.locator("table.results tbody td.number")
    await expect(counts.first).to_have_text("—")

    admin = site.platform.headers(roles=["admin"], sub="admin-web")

    async def move_to(phase: str) -> None:
        async with httpx.AsyncClient() as http:
            changed = await http.post(
                f"{site.platform.url('submissions')}/editions/2027/phase",
                json={"phase": phase},
                headers=admin,
            )
            assert changed.status_code == 200, changed.text

    await move_to("selection")
    other = await mobile_page(browser)
    for _ in range(20):  # the web reads the edition from the submissions service at once
        await other.goto(site.url + "/results/2027/C4")
        if "Voting is closed" in await other.locator("#counts-hidden").inner_text():
            break
        await other.wait_for_timeout(500)
    await expect(other.locator("#counts-hidden")).to_contain_text(
        "Voting is closed. The expert group is choosing the winners among the finalists; "
        "vote counts are published with the results, on"
    )
    await other.goto(site.url + "/vote/2027/C4")
    await expect(other.get_by_role("status")).to_contain_text("Voting is closed.")
    await expect(other.get_by_text("Voting is not open")).to_have_count(0)
    await check(other, "23-category-closed")
    await other.context.close()

    await move_to("results")
    await expect(page.locator("#counts-hidden")).to_be_hidden(timeout=20_000)
    await expect(counts.first).to_have_text(re.compile(r"^\d+$"))
    assert int(await counts.first.inner_text()) >= 1  # the journey's vote, at least
    await check(page, "17-results-live")

    await page.goto(site.url + "/champions/2027")
    for _ in range(30):  # voting announces the finalists a few seconds after the close
        if await page.locator("ol.finalists li").count():
            break
        await page.wait_for_timeout(1000)
        await page.reload()
    await expect(page.locator("ol.finalists li").first).to_be_visible()
    await check(page, "18-champions")

    # After the results, the figures add up: the standing nominees, the votes for the
    # nomination withdrawn during the vote, the published total.
    await page.goto(site.url + "/results/2027/C4")
    shown = [int(n) for n in await counts.all_inner_texts()]
    withdrawn = page.locator("tfoot tr.withdrawn td")
    total = page.locator("tfoot tr.total td")
    await expect(withdrawn).to_have_text(re.compile(r"^\d+$"))
    assert int(await withdrawn.inner_text()) >= 1  # the returning voter's vote, at least
    assert sum(shown) + int(await withdrawn.inner_text()) == int(await total.inner_text())
    await check(page, "24-results-with-withdrawn")
    await page.goto(site.url + "/vote/2027")
    closed = page.get_by_role("status")
    await expect(closed).to_contain_text("Voting is closed. The results are out.")
    await page.context.close()

    # The returning voter, on a new device: signs in from the home page, opens the receipt.
    page = await mobile_page(browser)
    await page.goto(site.url + "/")
    await page.get_by_role("link", name="Voted before? Sign in to see your votes").click()
    await sign_in(page, site, RETURNING["address"])
    await page.get_by_role("link", name="Receipt for C4").click()
    found = page.locator(".bulletin-check")
    await expect(found).to_contain_text(
        f"Your vote is in the published list, counted for {WITHDRAWN_TITLE}."
    )
    async with httpx.AsyncClient(base_url=site.url) as http:
        published = await http.get("/results/2027/C4/bulletin.json")
        assert published.status_code == 200
        assert published.headers["etag"]
        again = await http.get(
            "/results/2027/C4/bulletin.json", headers={"If-None-Match": published.headers["etag"]}
        )
        assert again.status_code == 304
    digest = hashlib.sha256(f"{published.json()['salt']}:{RETURNING['receipt']}".encode())
    await expect(found.locator("code.hash")).to_have_text(digest.hexdigest())
    await check(page, "27-receipt-in-the-list")
    await found.get_by_role("link", name="See the published list of votes").click()
    await expect(page.get_by_role("table")).to_contain_text(WITHDRAWN_TITLE)
    await expect(page.get_by_role("table")).to_contain_text("Nomination withdrawn during the vote")
    await page.get_by_label("Check a receipt number").fill(RETURNING["receipt"])
    await page.get_by_role("button", name="Check", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text(
        f"This receipt is in the list, counted for {WITHDRAWN_TITLE}."
    )
    await check(page, "28-bulletin")
    await page.context.close()


async def test_a_receipt_number_never_stays_in_a_url(site: Site) -> None:
    """Old links with the number go on to the page without it; the page is the voter's own."""
    async with httpx.AsyncClient(base_url=site.url) as http:
        old = await http.get(f"/vote/{site.year}/C4/receipt/0123456789abcdef")
        assert old.status_code == 303
        assert old.headers["location"] == f"/vote/{site.year}/C4/receipt"
        assert (await http.get("/vote/20x7/C4/receipt/0123456789abcdef")).status_code == 404
        anonymous = await http.get(f"/vote/{site.year}/C4/receipt")
        assert anonymous.status_code == 404
