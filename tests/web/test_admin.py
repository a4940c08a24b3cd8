"""The admins' pages at 360 × 740: an edition created with its schedule (a refusal shown at its
field first) and moved to its next phase after a confirmation; reviewers imported from a CSV
file with the refused row explained; the dead letters of the broker, counted per topic. Every
outcome is checked in the services. Edition 2034 and reviewers `admin-rev-*` are this file's."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Final

import httpx
from aiokafka import AIOKafkaProducer
from playwright.async_api import Browser, FilePayload, expect

from tests.web.conftest import Site, check, mobile_page, staff_sign_in
from wsis_shared.auth import sign_dev_token
from wsis_shared.vocabulary import Role
from wsis_web.admin_pages import schedule_error

YEAR: Final = 2034
SCHEDULE: Final = {
    "submission_opens": f"{YEAR}-01-10T00:00",
    "submission_closes": f"{YEAR}-02-10T00:00",
    "review_closes": f"{YEAR}-03-10T00:00",
    "voting_opens": f"{YEAR}-03-11T00:00",
    "voting_closes": f"{YEAR}-04-10T12:00",
    "results_at": f"{YEAR}-04-20T00:00",
}
CSV: Final = (
    "reviewer_id,name,email,organisation,country,languages,categories,max_load\n"
    "admin-rev-1,Kenji Sato,kenji@keio.example.org,Keio University,JP,ja;en,C4;C9,8\n"
    "admin-rev-2,Lucía Ferreira,lucia@fiocruz.example.org,Fiocruz,BR,pt;es,C9,8\n"
    "admin-rev-3,Tomáš Novák,tomas@,Charles University,XZ,cs,C9,8\n"
)


CSV_FILE: Final = FilePayload(name="reviewers.csv", mimeType="text/csv", buffer=CSV.encode())


def admin_headers(site: Site) -> dict[str, str]:
    signed = sign_dev_token(site.platform.private_key, subject="admin-test", roles=[Role.ADMIN])
    return {"Authorization": f"Bearer {signed}"}


async def api(site: Site, service: str, path: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=15) as http:
        return await http.get(f"{site.platform.url(service)}{path}", headers=admin_headers(site))


async def test_an_admin_creates_an_edition_and_moves_its_phase(
    browser: Browser, site: Site
) -> None:
    page = await mobile_page(browser)
    await staff_sign_in(page, site, Role.ADMIN, "admin-id", name="Admin Person")
    await expect(page).to_have_url(f"{site.url}/admin")
    await check(page, "60-admin-home")
    await page.get_by_role("link", name="Editions and phases").first.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Editions and phases")

    await page.fill("#year", str(YEAR))
    await page.fill("#title", f"WSIS Prizes {YEAR}")
    for name, value in SCHEDULE.items():
        await page.fill(f"#{name}", value)
    # Voting cannot open before the review closes: the service refuses, the page says where.
    await page.fill("#voting_opens", f"{YEAR}-03-01T00:00")
    await page.get_by_role("button", name="Create the edition").click()
    await expect(page.locator("#review_closes")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#review_closes-error")).to_contain_text("must not be after")
    await expect(page.locator("#title")).to_have_value(f"WSIS Prizes {YEAR}")
    assert (await api(site, "submissions", f"/editions/{YEAR}")).status_code == 404
    await check(page, "61-admin-edition-refused")

    await page.fill("#voting_opens", SCHEDULE["voting_opens"])
    await page.uncheck("#show_running_counts")
    await page.get_by_role("button", name="Create the edition").click()
    await expect(page).to_have_url(f"{site.url}/admin/editions/{YEAR}?done=created")
    await expect(page.locator("#current-phase")).to_contain_text("Planned")
    created = (await api(site, "submissions", f"/editions/{YEAR}")).json()
    assert created["phase"] == "planned"
    assert created["schedule"]["voting_closes"].startswith(f"{YEAR}-04-10T12:00:00")
    assert len(created["categories"]) == 18
    await check(page, "62-admin-edition")

    # Move it to the submission phase: a confirmation first, then the phase is the new one.
    await expect(page.locator("#phase")).to_have_value("submission")
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the phase change")
    assert (await api(site, "submissions", f"/editions/{YEAR}")).json()["phase"] == "planned"
    await check(page, "63-admin-phase-confirm")
    await page.get_by_role("button", name="Move to “Submission of projects”").click()
    await expect(page.get_by_role("status")).to_contain_text("moved to its new phase")
    await expect(page.locator("#current-phase")).to_contain_text("Submission of projects")
    assert (await api(site, "submissions", f"/editions/{YEAR}")).json()["phase"] == "submission"
    await page.context.close()


async def test_an_admin_imports_reviewers_and_sees_the_refused_row(
    browser: Browser, site: Site
) -> None:
    page = await mobile_page(browser)
    await staff_sign_in(page, site, Role.ADMIN, "admin-id", next_url="/admin/reviewers")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Reviewers")
    # No file: refused at the field, nothing sent.
    await page.get_by_role("button", name="Import").click()
    await expect(page.locator("#problem")).to_contain_text("Choose a CSV file")
    await page.set_input_files(
        "#file",
        files=[CSV_FILE],
    )
    # "Check only" is ticked at first: a report on every line, nothing changed.
    await expect(page.locator("#dry_run")).to_be_checked()
    await page.get_by_role("button", name="Import").click()
    report = page.locator("#report")
    await expect(report.get_by_role("heading", level=2)).to_have_text(
        "Check of the file: nothing was changed"
    )
    await expect(report.get_by_role("status")).to_contain_text("2 rows are valid.")
    await expect(report.get_by_role("status")).to_contain_text("1 row refused.")
    assert (await api(site, "review", "/reviewers/admin-rev-1")).status_code == 404
    # Now for real.
    await page.uncheck("#dry_run")
    await page.set_input_files(
        "#file",
        files=[CSV_FILE],
    )
    await page.get_by_role("button", name="Import").click()
    await expect(report.get_by_role("heading", level=2)).to_have_text("Import done")
    await expect(report.get_by_role("status")).to_contain_text("2 reviewers added.")
    await expect(report.get_by_role("status")).to_contain_text("1 row refused.")
    refused = page.locator("#refused-rows > li")
    await expect(refused).to_have_count(1)
    await expect(refused.first).to_contain_text("Line 4 · admin-rev-3")
    await expect(refused.first).to_contain_text("email")
    await expect(refused.first).to_contain_text("country")
    await expect(page.locator("#group-title + p + ul")).to_contain_text("Kenji Sato")
    await check(page, "64-admin-reviewers-imported")
    assert (await api(site, "review", "/reviewers/admin-rev-1")).json()["name"] == "Kenji Sato"
    assert (await api(site, "review", "/reviewers/admin-rev-2")).status_code == 200
    assert (await api(site, "review", "/reviewers/admin-rev-3")).status_code == 404
    await page.context.close()


async def test_an_admin_sees_the_dead_letters_per_topic(
    browser: Browser, site: Site, kafka_bootstrap: str, topic_prefix: str
) -> None:
    prefix = f"{topic_prefix}web."
    # An unreadable message on the voting topic: its consumers dead-letter it.
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(f"{prefix}wsis.voting.v1", b"{not json", key=b"2034:C9")
    finally:
        await producer.stop()
    deadline = time.monotonic() + 60
    overview: dict[str, Any] = {}
    while time.monotonic() < deadline:
        answer = await api(site, "submissions", "/dead-letters")
        assert answer.status_code == 200, answer.text
        overview = answer.json()
        if overview["topics"][4]["count"] >= 1:
            break
        await asyncio.sleep(0.5)
    voting = overview["topics"][4]
    assert voting["topic"] == "wsis.voting.v1"
    assert voting["count"] >= 1

    page = await mobile_page(browser)
    await staff_sign_in(page, site, Role.ADMIN, "admin-id", next_url="/admin/dead-letters")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Dead letters")
    topic = page.locator("#topic-5")
    await expect(topic.locator("h2")).to_have_text("wsis.voting.v1")
    count = voting["count"]
    await expect(topic.locator(".count")).to_have_text(
        f"{count} dead letter" + ("s" if count != 1 else "")
    )
    await expect(topic).to_contain_text("unreadable (poison)")
    await expect(topic.locator("pre.command")).to_have_text(
        f"python -m wsis_shared dlq replay --topic wsis.voting.v1 --prefix {prefix}"
    )
    await expect(topic.get_by_role("button", name="Copy the command")).to_be_visible()
    await expect(page.locator("#topic-1 .count")).to_contain_text("dead letter")
    await check(page, "65-admin-dead-letters")
    await page.context.close()


def test_a_schedule_refusal_is_shown_at_its_field_with_its_own_reason() -> None:
    assert schedule_error("schedule.voting_opens must not be after schedule.voting_closes") == (
        "voting_opens",
        "order",
    )
    assert schedule_error(
        "schedule.submission_opens is 2026-01-01T00:00:00+00:00: the dates of edition 2031 "
        "fall within 2 years of 2031"
    ) == ("submission_opens", "reason")
    assert schedule_error("the title is too short") is None
