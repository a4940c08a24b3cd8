"""The admins' pages at 360 × 740: an edition created with its schedule (a refusal shown at its
field first) and moved to its next phase after a confirmation; an edition under way changed
(its dates still to come, a passed date shown but not editable, a date out of order refused at
its field, an unchanged form sending nothing); a change form opened before another admin's
change (the web app in-process, in front of the real submissions service: refused, shown anew,
never undoing the other change); reviewers imported from a CSV file with the refused row
explained; the dead letters of the broker, counted per topic. Every outcome is checked in the
services. Editions 2034 and `CHANGE_YEAR` and reviewers `admin-rev-*` are this file's."""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Final

import httpx
from aiokafka import AIOKafkaProducer
from asgi_lifespan import LifespanManager
from playwright.async_api import Browser, FilePayload, expect

from tests.web.conftest import Site, check, mobile_page, staff_sign_in
from tests.web.in_process import CSRF, submissions_and_web
from wsis_devstack.demo import DEMO_YEAR, OPEN_CALL_YEAR
from wsis_shared.auth import sign_dev_token
from wsis_shared.events import EditionSchedule
from wsis_shared.vocabulary import Category, Phase, Role
from wsis_web.admin_pages import _change_refusal, change_values, edition_changes, schedule_error
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
    # The passed date (the service's only fixed one) is shown, not editable; the others are
    # prefilled in UTC. The form carries the version it was made from.
    opened = await _edition(site, CHANGE_YEAR)
    assert opened["fixed_dates"] == ["submission_opens"]
    await expect(page.locator("input[name=version]")).to_have_value(str(opened["version"]))
    await expect(page.locator("input[name=submission_opens]")).to_have_count(0)
    await expect(page.locator("#submission_opens")).to_contain_text(
        Formatter("en").datetime(dates["submission_opens"])
    )
    await expect(page.locator("#submission_opens")).to_contain_text("(can no longer change)")
    await expect(page.locator("#schedule-hint")).to_contain_text(
        "Dates shown without a field can no longer change"
    )
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
    await expect(page.locator("input[name=version]")).to_have_value(str(changed["version"]))
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
    edition = _edition_of(
        {
            "submission_opens": datetime(2031, 1, 10, tzinfo=UTC),
            "submission_closes": datetime(2031, 2, 10, 8, 30, 45, tzinfo=UTC),  # seconds
            "review_closes": datetime(2031, 3, 10, tzinfo=UTC),
            "voting_opens": datetime(2031, 3, 11, tzinfo=UTC),
            "voting_closes": datetime(2031, 4, 10, tzinfo=UTC),
            "results_at": datetime(2031, 4, 20, tzinfo=UTC),
        }
    )
    shown = change_values(edition)
    assert shown["submission_closes"] == "2031-02-10T08:30"
    assert edition_changes(shown, shown) == ({}, {})
    # The form, with two dates, the title and the running counts changed.
    moved = shown | {
        "voting_closes": "2031-04-17T00:00",
        "results_at": "2031-04-27T00:00",
        "title": "WSIS Prizes 2031 (extended)",
        "show_running_counts": True,
    }
    assert edition_changes(shown, moved) == (
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
    # Compared with what the page showed, not with the edition as it is now: another admin's
    # new title or date, left untouched in this form, is not sent back as it was.
    assert edition_changes(shown, shown | {"voting_closes": "2031-04-17T00:00"}) == (
        {"schedule": {"voting_closes": "2031-04-17T00:00:00Z"}},
        {},
    )
    # The ceremony: set; a date with "No ceremony" still ticked; removed.
    with_ceremony = shown | {"ceremony_at": "2031-05-05T00:00", "no_ceremony": False}
    assert edition_changes(shown, with_ceremony)[0] == {
        "schedule": {"ceremony_at": "2031-05-05T00:00:00Z"}
    }
    assert edition_changes(shown, with_ceremony | {"no_ceremony": True})[1] == {
        "ceremony_at": "untick"
    }
    held = change_values(
        _edition_of(
            edition.schedule.model_dump() | {"ceremony_at": datetime(2031, 5, 5, tzinfo=UTC)}
        )
    )
    assert edition_changes(held, held | {"no_ceremony": True})[0] == {
        "schedule": {"ceremony_at": None}
    }
    assert edition_changes(held, held | {"ceremony_at": ""})[1] == {"ceremony_at": "date-or-none"}
    assert edition_changes(shown, shown | {"title": "ab", "review_closes": "x"})[1] == {
        "title": "title",
        "review_closes": "date",
    }
    # An invisible character is not a question of length.
    assert edition_changes(shown, shown | {"title": "WSIS\u202e Prizes 2031"})[1] == {
        "title": "invisible"
    }


def _refused(field: str, detail: str) -> tuple[dict[str, str], dict[str, str]]:
    return _change_refusal({"detail": f"/x/{field}: {detail}", "fields": {field: detail}})


def test_the_services_refusals_are_told_at_their_field_in_the_admins_words() -> None:
    # The order: the earlier date of the pair is after the next one, the later before the
    # previous one — the service names the one that was sent.
    order = "schedule.voting_closes must not be after schedule.results_at"
    assert _refused("voting_closes", order) == ({"voting_closes": "order"}, {})
    assert _refused("results_at", order) == ({"results_at": "order-later"}, {})
    to_change = "(to change the phase now, use POST /editions/2031/phase)"
    assert _refused(
        "voting_closes",
        "schedule.voting_closes would be 2031-04-01T12:00:00+00:00, less than a minute from "
        f"now: every service must learn of a date before it comes {to_change}",
    ) == ({"voting_closes": "soon"}, {})
    assert _refused(
        "voting_closes",
        f"schedule.voting_closes would be 2031-03-01T00:00:00+00:00, which has passed: dates "
        f"move only to moments still to come {to_change}",
    ) == ({"voting_closes": "past"}, {})
    assert _refused(
        "submission_opens",
        "schedule.submission_opens passed on 2031-01-10T00:00:00+00:00: a date that has passed "
        f"stays as it was {to_change}",
    ) == ({"submission_opens": "passed"}, {})
    assert _refused(
        "submission_closes",
        "schedule.submission_closes ends the submission phase, which edition 2031 has already "
        "left (it is in the voting phase): moving it would change nothing",
    ) == ({"submission_closes": "left"}, {})
    far = "schedule.results_at is 2040-01-01T00:00:00+00:00: the dates of edition 2031 fall "
    assert _refused("results_at", far) == ({"results_at": "reason"}, {"results_at": far})
    invisible = "remove the invisible character U+202E: names and titles are one line of text"
    assert _refused("title", invisible) == ({"title": "invisible"}, {"title": "U+202E"})
    short = "String should have at least 3 characters"
    assert _refused("title", short) == ({"title": "title"}, {})


# --- a change form opened before another admin's change -----------------------------------------


class _Recorder(httpx.AsyncBaseTransport):
    """The web app's requests to the service, kept to be read."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return await self.inner.handle_async_request(request)

    def last_patch(self) -> tuple[str | None, Any]:
        patch = [r for r in self.sent if r.method == "PATCH"][-1]
        return patch.headers.get("if-match"), json.loads(patch.content)


class _FormFields(HTMLParser):
    """What a browser posts of the form sent to `action`, as the page holds it."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.inside = False
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        name = found.get("name")
        if tag == "form":
            self.inside = found.get("action") == self.action
            return
        unticked = found.get("type") == "checkbox" and "checked" not in found
        if tag == "input" and self.inside and name and not unticked:
            self.fields[name] = found.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def _change_form(html: str, year: int) -> dict[str, str]:
    parser = _FormFields(f"/admin/editions/{year}/change")
    parser.feed(html)
    return parser.fields


def _field_error(html: str, name: str) -> str:
    found = re.search(rf'<p class="field-error" id="{name}-error">(.*?)</p>', html, re.S)
    assert found, f"no error at {name}"
    return found.group(1).strip()


async def test_a_change_form_opened_before_another_change_neither_undoes_nor_loses_it(
    mongo_uri: str, mongo_db_prefix: str, tmp_path: Path
) -> None:
    apps = submissions_and_web(mongo_uri, mongo_db_prefix, tmp_path)
    service, web = apps.service, apps.web
    token = apps.token("admin", Role.ADMIN)
    admin = {"Authorization": f"Bearer {token}"}
    to_service = _Recorder(httpx.ASGITransport(app=service))
    year = datetime.now(UTC).year
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    dates = {
        "submission_opens": start,
        "submission_closes": start + timedelta(days=10),
        "review_closes": start + timedelta(days=20),
        "voting_opens": start + timedelta(days=21),
        "voting_closes": start + timedelta(days=30),
        "results_at": start + timedelta(days=40),
    }
    async with (
        LifespanManager(service),
        LifespanManager(web),
        httpx.AsyncClient(transport=to_service, base_url="http://submissions") as api,
    ):
        edition = {
            "year": year,
            "title": "WSIS Prizes",
            "schedule": {name: moment.isoformat() for name, moment in dates.items()},
        }
        assert (await api.post("/editions", json=edition, headers=admin)).status_code == 201
        # Voting opened early by an admin: the dates ending the phases it left are fixed,
        # though still to come.
        moved = await api.post(f"/editions/{year}/phase", json={"phase": "voting"}, headers=admin)
        assert moved.status_code == 200, moved.text
        read = await api.get(f"/editions/{year}")
        made = read.json()
        fixed = ["submission_opens", "submission_closes", "review_closes", "voting_opens"]
        assert made["fixed_dates"] == fixed
        assert read.headers["etag"] == f'"{made["version"]}"'

        async with apps.browser(to_service, headers={"X-Token": token}) as browser:
            page = await browser.get(f"/admin/editions/{year}")
            assert page.status_code == 200
            form = _change_form(page.text, year)
            assert form["csrf"] == CSRF
            assert form["version"] == str(made["version"])
            for name in fixed:  # shown, with no field to change
                assert name not in form
                assert form[f"shown_{name}"] == _local(dates[name])
            assert page.text.count("(can no longer change)") == len(fixed)
            assert form["voting_closes"] == _local(dates["voting_closes"])

            # Another admin renames the edition while this page is open.
            renamed = await api.patch(
                f"/editions/{year}",
                json={"title": "WSIS Prizes (renamed)"},
                headers=admin | {"If-Match": f'"{made["version"]}"'},
            )
            assert renamed.status_code == 200, renamed.text
            assert renamed.json()["version"] == made["version"] + 1

            # This page, opened before, moves voting's close: only that is sent (not the title
            # it showed), on the version it was made from; refused, the page shows the edition
            # as it is now, and nothing of the stale form is applied.
            later = dates["voting_closes"] + timedelta(days=2)
            stale = await browser.post(
                f"/admin/editions/{year}/change", data=form | {"voting_closes": _local(later)}
            )
            assert to_service.last_patch() == (
                f'"{made["version"]}"',
                {"schedule": {"voting_closes": later.strftime("%Y-%m-%dT%H:%M:00Z")}},
            )
            assert stale.status_code == 412
            assert (
                "Another change was made to this edition since you opened this page. Here it is "
                "as it is now: make your change again."
            ) in stale.text
            anew = _change_form(stale.text, year)
            assert anew["title"] == "WSIS Prizes (renamed)"
            assert anew["voting_closes"] == _local(dates["voting_closes"])
            assert anew["version"] == str(made["version"] + 1)
            now_is = (await api.get(f"/editions/{year}")).json()
            assert now_is["title"] == "WSIS Prizes (renamed)"
            assert _at(now_is["schedule"]["voting_closes"]) == dates["voting_closes"]

            # Made again on the page shown now: sent on the new version, the other admin's
            # title kept.
            again = await browser.post(
                f"/admin/editions/{year}/change", data=anew | {"voting_closes": _local(later)}
            )
            assert again.status_code == 303
            assert again.headers["location"] == f"/admin/editions/{year}?done=changed"
            assert to_service.last_patch() == (
                f'"{made["version"] + 1}"',
                {"schedule": {"voting_closes": later.strftime("%Y-%m-%dT%H:%M:00Z")}},
            )
            changed = (await api.get(f"/editions/{year}")).json()
            assert changed["title"] == "WSIS Prizes (renamed)"
            assert _at(changed["schedule"]["voting_closes"]) == later
            assert changed["version"] == made["version"] + 2

            # The results before voting closes: refused at the results, the later date of the
            # pair, in words that fit it; what was typed kept.
            form = _change_form((await browser.get(f"/admin/editions/{year}")).text, year)
            early = _local(later - timedelta(days=1))
            refused = await browser.post(
                f"/admin/editions/{year}/change", data=form | {"results_at": early}
            )
            assert refused.status_code == 422
            assert _field_error(refused.text, "results_at") == (
                "This date must not be before the previous one in the schedule."
            )
            kept = _change_form(refused.text, year)
            assert kept["results_at"] == early
            assert kept["version"] == form["version"]
            assert kept["shown_results_at"] == form["shown_results_at"]

            # A fixed date sent from a page made before it was fixed: the admin's words, not
            # the API's.
            closes = _local(dates["submission_closes"] + timedelta(days=1))
            refused = await browser.post(
                f"/admin/editions/{year}/change", data=form | {"submission_closes": closes}
            )
            assert refused.status_code == 422
            assert _field_error(refused.text, "submission_closes") == (
                "This date ends a phase the edition has already left: moving it would change "
                "nothing."
            )
            assert "POST /editions" not in refused.text

            # An invisible character in the title: said so, not as a question of length.
            refused = await browser.post(
                f"/admin/editions/{year}/change",
                data=form | {"title": "WSIS Prizes \u202e(renamed)"},
            )
            assert refused.status_code == 422
            assert _field_error(refused.text, "title").startswith(
                "Remove the invisible character U+202E"
            )
            final = (await api.get(f"/editions/{year}")).json()
            assert {k: final[k] for k in ("title", "schedule", "version")} == {
                k: changed[k] for k in ("title", "schedule", "version")
            }
        resources = service.state.resources
        await resources.mongo.drop_database(resources.db.name)
