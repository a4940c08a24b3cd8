"""Signing in for project teams, reviewers, the chair and admins (the development sign-in of
`make up`): a page that needs a role sends you to sign in and back, the session is an HttpOnly
cookie holding the same token the services check, and one sign-out ends it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.web.conftest import Site, check, mobile_page, staff_sign_in
from wsis_shared.vocabulary import Role
from wsis_web.rendering import safe_next


async def test_my_pages_need_a_sign_in_and_come_back_after_it(browser: Browser, site: Site) -> None:
    async with httpx.AsyncClient(base_url=site.url) as http:
        anonymous = await http.get("/account")
    assert anonymous.status_code == 303
    target = urlsplit(anonymous.headers["location"])
    assert target.path == "/account/sign-in"
    assert parse_qs(target.query) == {"next": ["/account"]}

    page = await mobile_page(browser)
    await page.goto(f"{site.url}/account/sign-in?next=/stocktaking")
    await check(page, "25-staff-sign-in")

    # A team member without an organisation: the error is tied to the field.
    await page.select_option("#role", Role.SUBMITTER.value)
    await page.fill("#user_id", "amina")
    await page.get_by_role("button", name="Sign in", exact=True).click()
    organisation = page.get_by_label("Organisation id (project teams)")
    await expect(organisation).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#organisation-error")).to_contain_text("belongs to an organisation")
    await check(page, "26-staff-sign-in-error")

    await organisation.fill("org-demo-1")
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page).to_have_url(f"{site.url}/stocktaking")
    await expect(page.get_by_role("link", name="My pages")).to_be_visible()
    cookies = {c["name"]: c for c in await page.context.cookies()}
    assert cookies["wsis_session"]["httpOnly"] is True

    # One sign-out ends the session.
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("link", name="Sign in", exact=True)).to_be_visible()
    assert "wsis_session" not in {c["name"] for c in await page.context.cookies()}
    await page.context.close()


async def test_a_forged_or_foreign_sign_in_is_refused(site: Site) -> None:
    async with httpx.AsyncClient(base_url=site.url) as http:
        forged = await http.post(
            "/account/sign-in", data={"csrf": "forged", "role": "admin", "user_id": "mallory"}
        )
        leaving = await http.get("/account/sign-in", params={"next": "//evil.example/"})
    assert forged.status_code == 400
    assert "wsis_session" not in forged.cookies
    # The page never sends anyone to another site after signing in.
    assert 'name="next" value="/account"' in leaving.text


async def test_a_session_that_is_not_a_valid_token_is_no_session(site: Site) -> None:
    async with httpx.AsyncClient(base_url=site.url, cookies={"wsis_session": "garbage"}) as http:
        answer = await http.get("/account")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/account/sign-in")


async def test_signing_in_as_a_reviewer_leads_to_the_reviewers_pages(
    browser: Browser, site: Site
) -> None:
    page = await mobile_page(browser)
    await staff_sign_in(page, site, Role.REVIEWER, "demo-reviewer-1", name="Amina Diallo")
    assert urlsplit(page.url).path == "/review"
    await page.context.close()


@pytest.mark.parametrize(
    "sent",
    [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "/\t/evil.example",  # a link drops the tab: //evil.example
        "/\n/evil.example",
        "/ /evil.example",
        "/\x7f/evil.example",
        "",
        None,
    ],
)
def test_next_is_only_ever_a_path_of_this_site(sent: str | None) -> None:
    assert safe_next(sent) == "/"


def test_next_keeps_a_path_of_this_site() -> None:
    assert safe_next("/vote/2027/C4?lang=fr") == "/vote/2027/C4?lang=fr"
