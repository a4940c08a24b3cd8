"""The public pages in Debian's Chromium at 360×740: the voter's whole journey with JavaScript
on and off, axe-core on every page, right-to-left Arabic, the voting page's weight, and results
that change without a reload. Screenshots go to test-artifacts/screenshots/.

The tests share one platform with the demo data of `make up` (edition 2027, voting open) and run
in file order: the last one closes the vote."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Final

import httpx
import pytest
from playwright.async_api import Browser, Page, Response, expect

from tests.web.conftest import Site, check, mobile_page

BUDGET_BYTES: Final = 60 * 1024


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


async def test_results_change_without_a_reload_then_champions(browser: Browser, site: Site) -> None:
    """Closes the vote (results phase): the open page shows the counts as they are published."""
    page = await mobile_page(browser)
    await page.goto(site.url + "/results/2027/C4")
    await expect(page.locator("#counts-hidden")).to_be_visible()
    await expect(page.locator("table[data-updated]")).to_have_count(1, timeout=10_000)
    counts = page.locator("table.results tbody td.number")
    await expect(counts.first).to_have_text("—")

    admin = site.platform.headers(roles=["admin"], sub="admin-web")
    async with httpx.AsyncClient() as http:
        for phase in ("selection", "results"):
            changed = await http.post(
                f"{site.platform.url('submissions')}/editions/2027/phase",
                json={"phase": phase},
                headers=admin,
            )
            assert changed.status_code == 200, changed.text

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
    await page.context.close()
