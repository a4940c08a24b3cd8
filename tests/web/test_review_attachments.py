"""The team's files on a reviewer's assignment page, in Debian's Chromium at 360×740: each file a
download link through this site (name, type, size), the bytes the team uploaded; a reviewer the
entry is not assigned to opens nothing; an entry without files says so. Edition 2036, set up
through the services' APIs as the demo does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.integration.helpers import whole_png
from tests.web.conftest import Site, check, mobile_page, staff_sign_in
from wsis_devstack.demo import _schedule, _short_description, _until_ok
from wsis_shared.auth import sign_dev_token
from wsis_shared.vocabulary import Role

YEAR: Final = 2036
REVIEWER: Final = "files-rev-ana"  # assigned to both entries
OUTSIDER: Final = "files-rev-bo"  # in the expert group, assigned none of them
WITH_FILES: Final = "Community radio archive online"
WITHOUT_FILES: Final = "Newsroom training by radio"
PDF: Final = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"1 0 obj << >> endobj\n" * 200 + b"%%EOF\n"


PNG: Final = whole_png()


@dataclass(frozen=True)
class Edition:
    entries: dict[str, str]  # title -> entry_id
    files: dict[str, str]  # file name -> attachment_id


def _auth(site: Site, subject: str, role: Role, org: str | None = None) -> dict[str, str]:
    token = sign_dev_token(
        site.platform.private_key, subject=subject, roles=[role], organisation_id=org
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
async def edition(site: Site) -> Edition:
    """Edition 2036 in its review phase: two entries in C9, one with a PDF and a PNG attached,
    both assigned to REVIEWER by the chair (no assignment run: OUTSIDER, of C10, gets none)."""
    s, r = site.platform.url("submissions"), site.platform.url("review")
    admin = _auth(site, "files-admin", Role.ADMIN)
    chair = _auth(site, "files-chair", Role.CHAIR)
    entries: dict[str, str] = {}
    files: dict[str, str] = {}
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
        for number, title in enumerate((WITH_FILES, WITHOUT_FILES)):
            team = _auth(site, f"files-team-{number}", Role.SUBMITTER, f"org-files-{number}")
            body: dict[str, Any] = {
                "title": title,
                "short_description": _short_description(360 + number, title),
                "full_description": f"{title}: how it started, who took part, what it achieved.",
                "category": "C9",
                "sdgs": [16],
                "country": "SN",
                "stakeholder_type": "civil society",
                "organisation_name": f"Radio group {number}",
                "impact_qualitative": f"{title} reached listeners no station had reached.",
                "beneficiaries": "listeners and journalists",
                "start_date": "2021-03-01",
                "project_status": "completed",
                "contact_name": "Radio team",
                "contact_email": f"contact@org-files-{number}.example.org",
            }
            draft = await http.post(f"{s}/editions/{YEAR}/entries", json=body, headers=team)
            draft.raise_for_status()
            entry_id = draft.json()["entry_id"]
            if title == WITH_FILES:
                for name, data in (("Rapport annuel.pdf", PDF), ("poster.png", PNG)):
                    added = await http.post(
                        f"{s}/entries/{entry_id}/attachments",
                        params={"filename": name},
                        content=data,
                        headers=team | {"content-type": "application/octet-stream"},
                    )
                    assert added.status_code == 201, added.text
                    files[name] = added.json()["attachment_id"]
            sent = await http.post(f"{s}/entries/{entry_id}/submit", headers=team)
            assert sent.status_code == 200, sent.text
            entries[title] = entry_id

        for reviewer_id, name, country, category in (
            (REVIEWER, "Ana Files", "FR", "C9"),
            (OUTSIDER, "Bo Files", "DE", "C10"),
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
        await phase("review")
        for entry_id in entries.values():

            async def eligible(entry_id: str = entry_id) -> httpx.Response:
                return await http.post(
                    f"{r}/candidates/{entry_id}/eligibility", json={"eligible": True}, headers=chair
                )

            await _until_ok(eligible, f"marking {entry_id} eligible")
            assigned = await http.post(
                f"{r}/candidates/{entry_id}/assignments",
                json={"add_reviewer_id": REVIEWER},
                headers=chair,
            )
            assert assigned.status_code == 200, assigned.text
    return Edition(entries=entries, files=files)


def _href(edition: Edition, name: str) -> str:
    return f"/review/{YEAR}/{edition.entries[WITH_FILES]}/attachments/{edition.files[name]}"


async def test_a_reviewer_downloads_the_teams_files_from_the_assignment_page(
    browser: Browser, site: Site, edition: Edition
) -> None:
    page = await mobile_page(browser)
    entry_id = edition.entries[WITH_FILES]
    await staff_sign_in(page, site, Role.REVIEWER, REVIEWER, next_url=f"/review/{YEAR}/{entry_id}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(WITH_FILES)

    files = page.locator("#files")
    await expect(files.get_by_role("heading", name="Attachments")).to_be_visible()
    report = files.get_by_role("link", name="Rapport annuel.pdf")
    poster = files.get_by_role("link", name="poster.png")
    await expect(report).to_have_attribute("href", _href(edition, "Rapport annuel.pdf"))
    await expect(poster).to_have_attribute("href", _href(edition, "poster.png"))
    await expect(files).to_contain_text("PDF · 5 KB")
    await expect(files).to_contain_text("PNG · 1 KB")
    await check(page, "40a-review-attachments")

    async with page.expect_download() as started:
        await report.click()
    download = await started.value
    assert download.suggested_filename == "Rapport annuel.pdf"
    saved = await download.path()
    assert saved.read_bytes() == PDF
    relayed = await page.request.get(f"{site.url}{_href(edition, 'poster.png')}")
    assert relayed.status == 200
    assert relayed.headers["content-type"] == "image/png"
    assert await relayed.body() == PNG

    # A file that is not the entry's: the page's own 404.
    wrong = await page.request.get(
        f"{site.url}/review/{YEAR}/{entry_id}/attachments/{'0' * 32}", max_redirects=0
    )
    assert wrong.status == 404

    # An entry without files says so.
    await page.goto(f"{site.url}/review/{YEAR}/{edition.entries[WITHOUT_FILES]}")
    await expect(page.locator("#files")).to_contain_text("The team attached no files.")


async def test_a_reviewer_not_assigned_opens_no_file(
    browser: Browser, site: Site, edition: Edition
) -> None:
    page = await mobile_page(browser)
    await staff_sign_in(page, site, Role.REVIEWER, OUTSIDER, next_url="/review")
    answer = await page.request.get(
        f"{site.url}{_href(edition, 'Rapport annuel.pdf')}", max_redirects=0
    )

    assert answer.status == 404
    assert b"%PDF" not in await answer.body()
