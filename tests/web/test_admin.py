"""The admins' pages at 360 × 740: an edition created with its schedule (a refusal shown at its
field first) and moved to its next phase after a confirmation; an edition under way changed
(its dates still to come, a passed date shown but not editable, a date out of order refused at
its field, an unchanged form sending nothing); reviewers imported from a CSV file with the
refused row explained; the dead letters of the broker, counted per topic. Every outcome is
checked in the services. Editions 2034 and `CHANGE_YEAR` and reviewers `admin-rev-*` are this
file's."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import httpx
from aiokafka import AIOKafkaProducer
from playwright.async_api import Browser, FilePayload, expect

from tests.web.conftest import Site, check, mobile_page, staff_sign_in
from wsis_devstack.demo import DEMO_YEAR, OPEN_CALL_YEAR
from wsis_shared.auth import sign_dev_token
from wsis_shared.events import EditionSchedule
from wsis_shared.vocabulary import Category, Phase, Role
from wsis_web.admin_pages import change_values, edition_changes, schedule_error
from wsis_web.i18n import Formatter
from wsis_web.services import Edition

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


def _year_near_now() -> int:
    """An edition year whose dates may lie around now (the service keeps them within two years
    of it) and that no other web test uses."""
    taken = {DEMO_YEAR, OPEN_CALL_YEAR, 2031, 2032, 2033, 2034, 2036}
    this_year = datetime.now(UTC).year
    return next(y for y in (this_year, this_year - 1, this_year + 1) if y not in taken)


CHANGE_YEAR: Final = _year_near_now()


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


def _local(moment: datetime) -> str:
    """As a `datetime-local` input holds it (UTC)."""
    return moment.strftime("%Y-%m-%dT%H:%M")


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def _edition(site: Site, year: int) -> dict[str, Any]:
    answer = await api(site, "submissions", f"/editions/{year}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


async def test_an_admin_changes_the_dates_still_to_come(browser: Browser, site: Site) -> None:
    # An edition open for submissions since yesterday: its first date has passed.
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    dates = {
        "submission_opens": start - timedelta(days=1),
        "submission_closes": start + timedelta(days=10),
        "review_closes": start + timedelta(days=20),
        "voting_opens": start + timedelta(days=21),
        "voting_closes": start + timedelta(days=30),
        "results_at": start + timedelta(days=40),
    }
    title = f"WSIS Prizes {CHANGE_YEAR}"
    async with httpx.AsyncClient(timeout=15) as http:
        made = await http.post(
            f"{site.platform.url('submissions')}/editions",
            headers=admin_headers(site),
            json={
                "year": CHANGE_YEAR,
                "title": title,
                "schedule": {name: moment.isoformat() for name, moment in dates.items()},
            },
        )
    assert made.status_code == 201, made.text
    deadline = time.monotonic() + 30  # the scheduler opens it (a change racing it would wait)
    while (await _edition(site, CHANGE_YEAR))["phase"] != "submission":
        assert time.monotonic() < deadline, "the scheduler did not open the submissions"
        await asyncio.sleep(0.5)

    page = await mobile_page(browser)
    await staff_sign_in(
        page, site, Role.ADMIN, "admin-id", next_url=f"/admin/editions/{CHANGE_YEAR}"
    )
    await expect(page.get_by_role("heading", level=2, name="Change the edition")).to_be_visible()
    # The passed date is shown, not editable; the others are prefilled in UTC.
    await expect(page.locator("input[name=submission_opens]")).to_have_count(0)
    await expect(page.locator("#submission_opens")).to_contain_text(
        Formatter("en").datetime(dates["submission_opens"])
    )
    await expect(page.locator("#submission_opens")).to_contain_text("passed: it stays as it was")
    await expect(page.locator("#schedule-hint")).to_contain_text("Dates that have passed stay")
    for name in ("submission_closes", "voting_closes", "results_at"):
        await expect(page.locator(f"#{name}")).to_have_value(_local(dates[name]))
    await expect(page.locator("#title")).to_have_value(title)
    await expect(page.locator("#no_ceremony")).to_be_checked()
    await expect(page.locator("#ceremony_at")).to_have_value("")

    # Saved as it is: nothing to send, no refusal (the passed date is not sent back).
    before = await _edition(site, CHANGE_YEAR)
    await page.get_by_role("button", name="Save the changes").click()
    await expect(page).to_have_url(f"{site.url}/admin/editions/{CHANGE_YEAR}?done=unchanged")
    await expect(page.get_by_role("status")).to_have_text(
        "Nothing was changed: the form held the edition as it was."
    )
    await expect(page.locator("#change-problem")).to_have_count(0)
    await expect(page.locator("[aria-invalid=true]")).to_have_count(0)
    after = await _edition(site, CHANGE_YEAR)
    assert {k: after[k] for k in ("title", "schedule", "show_running_counts")} == {
        k: before[k] for k in ("title", "schedule", "show_running_counts")
    }

    # Voting closing after the results: refused at that date, what was typed kept.
    late = _local(dates["results_at"] + timedelta(days=5))
    await page.fill("#title", f"{title}: extended")
    await page.fill("#voting_closes", late)
    await page.get_by_role("button", name="Save the changes").click()
    await expect(page.locator("#voting_closes")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#voting_closes")).to_have_attribute(
        "aria-describedby", "voting_closes-error"
    )
    await expect(page.locator("#voting_closes-error")).to_contain_text("must not be after")
    summary = page.locator("#change-problem")
    await expect(summary.get_by_role("link")).to_have_count(1)
    await expect(summary.get_by_role("link")).to_have_attribute("href", "#voting_closes")
    await expect(summary.get_by_role("link")).to_contain_text("Voting closes")
    await expect(page.locator("#voting_closes")).to_have_value(late)
    await expect(page.locator("#title")).to_have_value(f"{title}: extended")
    await expect(page.locator("input[name=submission_opens]")).to_have_count(0)
    refused = await _edition(site, CHANGE_YEAR)
    assert refused["title"] == title
    assert refused["schedule"] == before["schedule"]
    await check(page, "66-admin-edition-change-refused")

    # Voting and the results ten days later: sent, and the page shows the new dates.
    voting_closes = dates["voting_closes"] + timedelta(days=10)
    results_at = dates["results_at"] + timedelta(days=10)
    await page.fill("#title", title)
    await page.fill("#voting_closes", _local(voting_closes))
    await page.fill("#results_at", _local(results_at))
    await page.get_by_role("button", name="Save the changes").click()
    await expect(page).to_have_url(f"{site.url}/admin/editions/{CHANGE_YEAR}?done=changed")
    await expect(page.get_by_role("status")).to_contain_text("The edition is changed")
    await expect(page.locator("#schedule-voting_closes")).to_have_text(
        Formatter("en").datetime(voting_closes)
    )
    await expect(page.locator("#schedule-results_at")).to_have_text(
        Formatter("en").datetime(results_at)
    )
    await expect(page.locator("#voting_closes")).to_have_value(_local(voting_closes))
    await expect(page.locator("#results_at")).to_have_value(_local(results_at))
    changed = await _edition(site, CHANGE_YEAR)
    assert _at(changed["schedule"]["voting_closes"]) == voting_closes
    assert _at(changed["schedule"]["results_at"]) == results_at
    for name in ("submission_opens", "submission_closes", "review_closes", "voting_opens"):
        assert _at(changed["schedule"][name]) == dates[name], name
    assert changed["schedule"]["ceremony_at"] is None
    assert changed["title"] == title
    await check(page, "67-admin-edition-changed")

    # A ceremony set, then removed with "No ceremony".
    ceremony = results_at + timedelta(days=5)
    await page.uncheck("#no_ceremony")
    await page.fill("#ceremony_at", _local(ceremony))
    await page.get_by_role("button", name="Save the changes").click()
    await expect(page).to_have_url(f"{site.url}/admin/editions/{CHANGE_YEAR}?done=changed")
    await expect(page.locator("#schedule-ceremony_at")).to_have_text(
        Formatter("en").datetime(ceremony)
    )
    assert _at((await _edition(site, CHANGE_YEAR))["schedule"]["ceremony_at"]) == ceremony
    await page.check("#no_ceremony")
    await page.get_by_role("button", name="Save the changes").click()
    await expect(page).to_have_url(f"{site.url}/admin/editions/{CHANGE_YEAR}?done=changed")
    await expect(page.locator("#schedule-ceremony_at")).to_have_count(0)
    assert (await _edition(site, CHANGE_YEAR))["schedule"]["ceremony_at"] is None
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


def _edition_of(schedule: dict[str, datetime]) -> Edition:
    return Edition(
        year=2031,
        title="WSIS Prizes 2031",
        schedule=EditionSchedule.model_validate(schedule),
        categories=tuple(Category),
        show_running_counts=False,
        phase=Phase.SUBMISSION,
    )


def test_the_change_form_sends_only_what_differs() -> None:
    now = datetime(2031, 2, 1, 12, 0, tzinfo=UTC)
    edition = _edition_of(
        {
            "submission_opens": datetime(2031, 1, 10, tzinfo=UTC),  # passed
            "submission_closes": datetime(2031, 2, 10, 8, 30, 45, tzinfo=UTC),  # seconds
            "review_closes": datetime(2031, 3, 10, tzinfo=UTC),
            "voting_opens": datetime(2031, 3, 11, tzinfo=UTC),
            "voting_closes": datetime(2031, 4, 10, tzinfo=UTC),
            "results_at": datetime(2031, 4, 20, tzinfo=UTC),
        }
    )
    unchanged = change_values(edition)
    assert unchanged["submission_closes"] == "2031-02-10T08:30"
    assert edition_changes(edition, unchanged, now) == ({}, {})
    # The form, with two dates, the title and the running counts changed.
    moved = unchanged | {
        "voting_closes": "2031-04-17T00:00",
        "results_at": "2031-04-27T00:00",
        "title": "WSIS Prizes 2031 (extended)",
        "show_running_counts": True,
    }
    assert edition_changes(edition, moved, now) == (
        {
            "title": "WSIS Prizes 2031 (extended)",
            "show_running_counts": True,
            "schedule": {
                "voting_closes": "2031-04-17T00:00:00Z",
                "results_at": "2031-04-27T00:00:00Z",
            },
        },
        {},
    )
    # A passed date changed on a page opened before it passed: refused here, never sent.
    assert edition_changes(edition, unchanged | {"submission_opens": "2031-01-20T00:00"}, now) == (
        {},
        {"submission_opens": "passed"},
    )
    # The ceremony: set; a date with "No ceremony" still ticked; removed.
    with_ceremony = unchanged | {"ceremony_at": "2031-05-05T00:00", "no_ceremony": False}
    assert edition_changes(edition, with_ceremony, now)[0] == {
        "schedule": {"ceremony_at": "2031-05-05T00:00:00Z"}
    }
    assert edition_changes(edition, with_ceremony | {"no_ceremony": True}, now)[1] == {
        "ceremony_at": "untick"
    }
    held = _edition_of(
        edition.schedule.model_dump() | {"ceremony_at": datetime(2031, 5, 5, tzinfo=UTC)}
    )
    assert edition_changes(held, change_values(held) | {"no_ceremony": True}, now)[0] == {
        "schedule": {"ceremony_at": None}
    }
    assert edition_changes(held, change_values(held) | {"ceremony_at": ""}, now)[1] == {
        "ceremony_at": "date-or-none"
    }
    assert edition_changes(edition, unchanged | {"title": "ab", "review_closes": "x"}, now)[1] == {
        "title": "title",
        "review_closes": "date",
    }
