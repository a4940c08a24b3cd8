"""The team page's "Remove" on a file of a submitted entry, after the submission phase closed
(the page was opened before): the service keeps the file, and the page says so instead of "The
file was removed." The web app in-process, in front of the real submissions service (in-process
too, on the real mongod)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from tests.integration.helpers import COMPLETE_ENTRY
from tests.web.in_process import CSRF, submissions_and_web
from wsis_shared.vocabulary import Role

YEAR = 2071
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ENTRY = COMPLETE_ENTRY | {"title": "Libraries online"}


async def test_removing_a_file_after_the_close_says_it_was_not_removed(
    mongo_uri: str, mongo_db_prefix: str, tmp_path: Path
) -> None:
    apps = submissions_and_web(mongo_uri, mongo_db_prefix, tmp_path)
    service, web = apps.service, apps.web
    admin = apps.bearer("admin", Role.ADMIN)
    team_token = apps.token("ana", Role.SUBMITTER, organisation_id="uni")
    team = {"Authorization": f"Bearer {team_token}"}
    to_service = httpx.ASGITransport(app=service)
    async with (
        LifespanManager(service),
        LifespanManager(web),
        httpx.AsyncClient(transport=to_service, base_url="http://submissions") as api,
    ):
        schedule = {
            "submission_opens": f"{YEAR}-01-01T00:00:00Z",
            "submission_closes": f"{YEAR}-02-01T00:00:00Z",
            "review_closes": f"{YEAR}-03-01T00:00:00Z",
            "voting_opens": f"{YEAR}-03-02T00:00:00Z",
            "voting_closes": f"{YEAR}-04-01T00:00:00Z",
            "results_at": f"{YEAR}-04-10T00:00:00Z",
        }
        edition = {"year": YEAR, "title": "WSIS Prizes", "schedule": schedule}
        made = await api.post("/editions", json=edition, headers=admin)
        assert made.status_code == 201, made.text
        phase = f"/editions/{YEAR}/phase"
        assert (await api.post(phase, json={"phase": "submission"}, headers=admin)).is_success
        entry_id = (await api.post(f"/editions/{YEAR}/entries", json=ENTRY, headers=team)).json()[
            "entry_id"
        ]
        assert (await api.post(f"/entries/{entry_id}/submit", headers=team)).is_success
        attached = await api.post(
            f"/entries/{entry_id}/attachments",
            params={"filename": "report.pdf"},
            content=PDF,
            headers=team | {"Content-Type": "application/octet-stream"},
        )
        attachment_id = attached.json()["attachment_id"]
        assert (await api.post(phase, json={"phase": "review"}, headers=admin)).is_success

        async with apps.browser(to_service) as browser:
            answer = await browser.post(
                f"/team/entries/{entry_id}/attachments/{attachment_id}/delete",
                data={"csrf": CSRF},
                headers={"X-Token": team_token},
            )
            assert answer.status_code == 303
            assert answer.headers["location"] == f"/team/entries/{entry_id}?done=files-closed"
            page = await browser.get(answer.headers["location"], headers={"X-Token": team_token})
        assert "change only while submissions are open" in page.text
        still = (await api.get(f"/entries/{entry_id}", headers=team)).json()["attachments"]
        assert [a["attachment_id"] for a in still] == [attachment_id]
        resources = service.state.resources
        await resources.mongo.drop_database(resources.db.name)


pytestmark = pytest.mark.integration
