"""Hostile input to the review service over HTTP, on the real mongod: what a chair's CSV of
reviewers may hold is answered with a report or a clear 4xx, never a 500, and never creates a
reviewer the API cannot address afterwards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from asgi_lifespan import LifespanManager

from wsis_review.app import create_app
from wsis_review.settings import ReviewSettings
from wsis_shared.auth import ensure_dev_keys, sign_dev_token
from wsis_shared.vocabulary import Role

pytestmark = pytest.mark.integration

HEADER = "reviewer_id,name,email,organisation,country,languages,categories,max_load\n"


@dataclass
class Api:
    client: httpx.AsyncClient
    chair: dict[str, str]

    async def import_csv(self, text: str, *, dry_run: bool = False) -> httpx.Response:
        return await self.client.post(
            "/reviewers/import" + ("?dry_run=true" if dry_run else ""),
            content=text.encode("utf-8"),
            headers={**self.chair, "content-type": "text/csv"},
        )


@pytest.fixture
async def api(
    mongo_uri: str, mongo_db_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Api]:
    private_key, public_key = ensure_dev_keys(tmp_path_factory.mktemp("keys"))
    app = create_app(
        ReviewSettings(
            mongo_uri=mongo_uri,
            mongo_db_prefix=f"{mongo_db_prefix}{uuid.uuid4().hex[:6]}_",
            jwt_public_key_file=public_key,
        )
    )
    token = sign_dev_token(
        private_key.read_bytes(), subject="chair-1", roles=[Role.CHAIR], organisation_id="org-1"
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as http,
    ):
        yield Api(client=http, chair={"Authorization": f"Bearer {token}"})
        resources = app.state.resources
        await resources.mongo.drop_database(resources.db.name)


async def test_a_cell_too_large_for_the_csv_reader_is_a_422_naming_the_line(api: Api) -> None:
    text = HEADER + "kenji,Kenji,kenji@keio.example.org,Keio,JP,ja,C4,8\n"
    text += "lucia,Lucia,lucia@x.example.org," + "K" * 140_000 + ",BR,pt,C4,8\n"

    response = await api.import_csv(text)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["detail"].startswith("line 3 of the CSV cannot be read"), problem
    assert problem["line"] == 3
    listed = await api.client.get("/reviewers", headers=api.chair)
    assert listed.json() == [], "a file refused as a whole imports nothing"


async def test_an_imported_reviewer_id_can_be_read_and_changed_afterwards(api: Api) -> None:
    bad_ids = ["kenji sato", "x/y", "a" * 5000, "ken\x00ji"]
    text = HEADER + "".join(
        f'"{reviewer_id}",N,n{n}@keio.example.org,Keio,JP,ja,C4,8\n'
        for n, reviewer_id in enumerate(bad_ids)
    )
    text += "kenji.sato@keio,Kenji,kenji@keio.example.org,Keio,JP,ja,C4,8\n"

    response = await api.import_csv(text)

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["errors"]) == (1, 4)
    for row in report["rows"][:4]:
        assert row["outcome"] == "error"
        assert [e["column"] for e in row["errors"]] == ["reviewer_id"], row
    [created] = [row["reviewer_id"] for row in report["rows"] if row["outcome"] == "created"]
    assert (await api.client.get(f"/reviewers/{created}", headers=api.chair)).status_code == 200
    patched = await api.client.patch(
        f"/reviewers/{created}", json={"max_load": 3}, headers=api.chair
    )
    assert patched.status_code == 200, patched.text
    listed = await api.client.get("/reviewers", headers=api.chair)
    assert [r["reviewer_id"] for r in listed.json()] == [created]


async def test_import_rows_carry_the_line_they_start_on(api: Api) -> None:
    text = (
        HEADER  # line 1
        + "kenji,Kenji,kenji@keio.example.org,Keio,JP,ja,C4,8\n"  # 2
        + "\n"  # 3: blank
        + 'lucia,Lucia,lucia@x.example.org,"Fiocruz\nRio",BR,pt,C4,8\n'  # 4 and 5
        + "tomas,Tomas,tomas@,Charles,XZ,cs,C12,8\n"  # 6
    )

    response = await api.import_csv(text, dry_run=True)

    assert response.status_code == 200, response.text
    rows = [(row["row"], row["reviewer_id"]) for row in response.json()["rows"]]
    assert rows == [(2, "kenji"), (4, "lucia"), (6, "tomas")]
