"""Every endpoint of the review service × every role: exactly the answer the README's roles table
gives. A refused role gets 403 (401 without a token); an allowed one gets past the door (its
answer may still be 404 or 422 for the dummy ids and bodies used here, never 401 or 403)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Final

import httpx
import pytest
from asgi_lifespan import LifespanManager

from wsis_review.app import create_app
from wsis_review.settings import ReviewSettings
from wsis_shared.auth import ensure_dev_keys, sign_dev_token
from wsis_shared.vocabulary import Role

pytestmark = pytest.mark.integration

CHAIR: Final = {Role.CHAIR}
CHAIR_OR_ADMIN: Final = {Role.CHAIR, Role.ADMIN}
REVIEWER: Final = {Role.REVIEWER}
REVIEW_TEAM: Final = {Role.REVIEWER, Role.CHAIR, Role.ADMIN}

# (method, path) -> roles let in. Mirrors the README's table; a new endpoint without a row here
# fails `test_every_endpoint_is_in_the_matrix`.
MATRIX: Final[dict[tuple[str, str], set[Role]]] = {
    ("GET", "/editions/{year}/review-settings"): REVIEW_TEAM,
    ("PUT", "/editions/{year}/review-settings/rules"): CHAIR_OR_ADMIN,
    ("PUT", "/editions/{year}/review-settings/rubric"): CHAIR_OR_ADMIN,
    ("POST", "/reviewers"): CHAIR_OR_ADMIN,
    ("GET", "/reviewers"): CHAIR_OR_ADMIN,
    ("GET", "/reviewers/{reviewer_id}"): CHAIR_OR_ADMIN,
    ("PATCH", "/reviewers/{reviewer_id}"): CHAIR_OR_ADMIN,
    ("POST", "/reviewers/import"): CHAIR_OR_ADMIN,
    ("GET", "/me/reviewer"): REVIEWER,
    ("POST", "/me/conflicts"): REVIEWER,
    ("GET", "/editions/{year}/candidates"): CHAIR_OR_ADMIN,
    ("POST", "/candidates/{entry_id}/eligibility"): CHAIR,
    ("POST", "/candidates/{entry_id}/nomination"): CHAIR,
    ("POST", "/editions/{year}/nominations"): CHAIR,
    ("POST", "/editions/{year}/assignments/run"): CHAIR_OR_ADMIN,
    ("GET", "/editions/{year}/assignments"): CHAIR_OR_ADMIN,
    ("POST", "/candidates/{entry_id}/assignments"): CHAIR_OR_ADMIN,
    ("GET", "/me/assignments"): REVIEWER,
    ("GET", "/me/assignments/{entry_id}"): REVIEWER,
    ("POST", "/me/assignments/{entry_id}/decline"): REVIEWER,
    ("PATCH", "/me/assignments/{entry_id}/review"): REVIEWER,
    ("POST", "/me/assignments/{entry_id}/review/submit"): REVIEWER,
    ("GET", "/candidates/{entry_id}/reviews"): CHAIR_OR_ADMIN,
    ("GET", "/candidates/{entry_id}/trail"): CHAIR_OR_ADMIN,
    ("GET", "/editions/{year}/ranking"): CHAIR,
    ("GET", "/editions/{year}/progress"): CHAIR_OR_ADMIN,
    ("GET", "/editions/{year}/reviews/export"): CHAIR_OR_ADMIN,
    ("GET", "/editions/{year}/finalists"): CHAIR_OR_ADMIN,
    ("POST", "/editions/{year}/categories/{category}/winner"): CHAIR,
}
PUBLIC_PATHS: Final = {"/healthz", "/readyz", "/metrics"}
CALLERS: Final[list[Role | None]] = [None, *Role]


def _concrete(path: str) -> str:
    return (
        path.replace("{year}", "2030")
        .replace("{entry_id}", "no-such-entry")
        .replace("{reviewer_id}", "no-such-reviewer")
        .replace("{category}", "C4")
    )


@pytest.fixture(scope="module")
async def review_api(
    mongo_uri: str, mongo_db_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[httpx.AsyncClient, bytes, set[tuple[str, str]]]]:
    private_key, public_key = ensure_dev_keys(tmp_path_factory.mktemp("keys"))
    app = create_app(
        ReviewSettings(
            mongo_uri=mongo_uri,
            mongo_db_prefix=f"{mongo_db_prefix}{uuid.uuid4().hex[:6]}_",
            jwt_public_key_file=public_key,
        )
    )
    routes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if path not in PUBLIC_PATHS
    }
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http,
    ):
        yield http, private_key.read_bytes(), routes
        resources = app.state.resources
        await resources.mongo.drop_database(resources.db.name)


async def test_every_endpoint_is_in_the_matrix(
    review_api: tuple[httpx.AsyncClient, bytes, set[tuple[str, str]]],
) -> None:
    _, _, endpoints = review_api
    assert endpoints == set(MATRIX)


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: str(c or "anonymous"))
@pytest.mark.parametrize(("method", "path"), sorted(MATRIX), ids=lambda v: str(v))
async def test_each_role_gets_exactly_the_answer_of_the_table(
    review_api: tuple[httpx.AsyncClient, bytes, set[tuple[str, str]]],
    method: str,
    path: str,
    caller: Role | None,
) -> None:
    http, private_key, _ = review_api
    headers = {}
    if caller is not None:
        token = sign_dev_token(
            private_key, subject=f"{caller}-someone", roles=[caller], organisation_id="org-1"
        )
        headers["Authorization"] = f"Bearer {token}"

    response = await http.request(method, _concrete(path), headers=headers, json={})

    if caller is None:
        assert response.status_code == 401, response.text
    elif caller in MATRIX[(method, path)]:
        assert response.status_code not in (401, 403), response.text
        assert response.status_code < 500, response.text
    else:
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == "application/problem+json"
