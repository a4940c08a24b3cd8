"""Every error reaches the client as RFC 9457 problem+json with a machine-readable code."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import BaseModel, Field
from pymongo.errors import AutoReconnect, BulkWriteError, OperationFailure, PyMongoError

from wsis_shared.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PhaseClosed,
    Unauthenticated,
    WsisError,
)
from wsis_shared.vocabulary import Phase
from wsis_shared.web import PROBLEM_JSON, WsisFastAPI, install_problem_handlers

SECRET = "mongodb://admin:hunter2@db.internal:27017"
OPENS = datetime(2027, 4, 1, tzinfo=UTC)


class QuotaExceeded(WsisError):
    status = 429
    code = "quota-exceeded"
    title = "Too many requests"


class Project(BaseModel):
    title: str = Field(min_length=3)
    sdgs: list[int]


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/quota")
    async def quota() -> None:
        raise QuotaExceeded("slow down: 10 requests a minute", retry_after_s=42)

    @app.get("/phase")
    async def phase() -> None:
        raise PhaseClosed(
            "voting has not opened yet",
            current_phase=Phase.REVIEW,
            required_phase=Phase.VOTING,
            opens_at=OPENS,
        )

    @app.get("/spoof")
    async def spoof() -> None:
        raise NotFound("no entry x", status=200, title="OK", code="fine", type="about:blank")

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError(f"cannot connect to {SECRET}")

    @app.post("/projects")
    async def create(project: Project) -> dict[str, str]:
        return {"title": project.title}

    @app.get("/search")
    async def search(limit: int = Query(ge=1, le=100)) -> dict[str, int]:
        return {"limit": limit}

    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(_app(), raise_server_exceptions=False)


def _problem(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:wsis:problem:{code}"
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


def test_a_wsis_error_subclass_keeps_its_status_code_and_extensions(client: TestClient) -> None:
    body = _problem(client.get("/quota"), 429, "quota-exceeded")

    assert body["title"] == "Too many requests"
    assert body["detail"] == "slow down: 10 requests a minute"
    assert body["retry_after_s"] == 42


def test_extensions_are_rendered_as_json(client: TestClient) -> None:
    body = _problem(client.get("/phase"), 409, "phase-closed")

    assert body["title"] == PhaseClosed.title
    assert body["current_phase"] == "review"
    assert body["required_phase"] == "voting"
    assert datetime.fromisoformat(body["opens_at"]) == OPENS


def test_extensions_never_override_the_standard_members(client: TestClient) -> None:
    body = _problem(client.get("/spoof"), 404, "not-found")

    assert body["title"] == NotFound.title
    assert body["type"] == "urn:wsis:problem:not-found"


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (InvalidInput, 422, "invalid-input"),
        (Unauthenticated, 401, "unauthenticated"),
        (Forbidden, 403, "forbidden"),
        (NotFound, 404, "not-found"),
        (Conflict, 409, "conflict"),
        (PhaseClosed, 409, "phase-closed"),
        (AlreadyExists, 409, "already-exists"),
        (PayloadTooLarge, 413, "payload-too-large"),
        (WsisError, 400, "bad-request"),
    ],
)
def test_every_shared_error_has_its_status(error: type[WsisError], status: int, code: str) -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/fail")
    async def fail() -> None:
        raise error("what went wrong, and what to do about it")

    body = _problem(TestClient(app).get("/fail"), status, code)

    assert body["title"] == error.title
    assert body["detail"] == "what went wrong, and what to do about it"


def test_an_invalid_body_is_422_listing_each_field(client: TestClient) -> None:
    response = client.post("/projects", json={"title": "ab", "sdgs": ["three"]})

    body = _problem(response, 422, "invalid-input")
    errors = body["errors"]
    assert isinstance(errors, list)
    described = json_text(errors)
    assert "title" in described
    assert "sdgs" in described
    assert len(errors) == 2
    assert "title" in body["detail"]


def test_a_missing_field_is_named(client: TestClient) -> None:
    body = _problem(client.post("/projects", json={"title": "Telemedicine"}), 422, "invalid-input")

    assert "sdgs" in json_text(body["errors"])


def test_a_body_that_is_not_json_is_422_not_500(client: TestClient) -> None:
    response = client.post(
        "/projects", content=b"{title: nope", headers={"content-type": "application/json"}
    )

    _problem(response, 422, "invalid-input")


def test_an_invalid_query_parameter_is_422_naming_it(client: TestClient) -> None:
    body = _problem(client.get("/search", params={"limit": 1000}), 422, "invalid-input")

    assert "limit" in json_text(body["errors"])


def test_an_unknown_route_is_a_404_problem(client: TestClient) -> None:
    _problem(client.get("/no/such/route"), 404, "not-found")


def test_a_wrong_method_is_a_405_problem(client: TestClient) -> None:
    response = client.delete("/projects")

    _problem(response, 405, "method-not-allowed")
    assert "POST" in response.headers["allow"]


def test_an_unexpected_error_is_a_500_problem_that_reveals_nothing(client: TestClient) -> None:
    response = client.get("/crash")

    body = _problem(response, 500, "internal-error")
    assert SECRET not in response.text
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    assert body["correlation_id"]


def test_an_oversize_body_is_a_413_problem() -> None:
    app = WsisFastAPI(max_body_size=1024)
    install_problem_handlers(app)

    @app.post("/projects")
    async def create(project: Project) -> dict[str, str]:
        return {"title": project.title}

    client = TestClient(app, raise_server_exceptions=False)
    small = client.post("/projects", json={"title": "Telemedicine", "sdgs": [3]})
    large = client.post("/projects", json={"title": "x" * 4096, "sdgs": [3]})

    assert small.status_code == 200
    _problem(large, 413, "payload-too-large")


def json_text(value: object) -> str:
    """A value as text, to look for a field name wherever the error format puts it."""
    return json.dumps(value)


@pytest.mark.parametrize(
    "error",
    [
        AutoReconnect("connection closed"),
        # What an unordered insert_many reports while mongod shuts down (seen in the vote storm).
        BulkWriteError({"writeErrors": [{"index": 0, "code": 11600, "errmsg": "interrupted"}]}),
        BulkWriteError({"writeErrors": [], "writeConcernErrors": [{"code": 91}]}),
        OperationFailure("not primary", code=10107),
        OperationFailure(
            "no such transaction", code=251, details={"errorLabels": ["TransientTransactionError"]}
        ),
    ],
    ids=["connection", "shutdown-write-error", "write-concern", "not-primary", "transaction-label"],
)
def test_a_database_that_says_not_now_is_a_503_to_retry(error: PyMongoError) -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/votes")
    async def vote() -> None:
        raise error

    response = TestClient(app, raise_server_exceptions=False).post("/votes")

    _problem(response, 503, "unavailable")
    assert response.headers["retry-after"] == "5"


@pytest.mark.parametrize(
    "error",
    [
        BulkWriteError({"writeErrors": [{"index": 0, "code": 121, "errmsg": "validation"}]}),
        OperationFailure("bad value", code=2),
    ],
    ids=["document-validation", "bad-value"],
)
def test_a_database_that_says_never_is_a_500(error: PyMongoError) -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/votes")
    async def vote() -> None:
        raise error

    _problem(TestClient(app, raise_server_exceptions=False).post("/votes"), 500, "internal-error")
