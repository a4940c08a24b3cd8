"""Hostile input against every service, in-process on the real mongod.

1. Schemathesis against the OpenAPI schema of each of the four services. Each service runs as
   its ASGI app (its lifespan, its own database) with data seeded through its own API and event
   handlers (see `test_authorization_matrix.py`: an edition, an entry with attachments, a
   reviewer assigned to it, a nominee on the ballot and a vote). Every operation of every schema
   gets cases generated from the schema — valid ones (positive) and, where the schema constrains
   something, invalid ones (negative) — aimed at the seeded resources or at generated ids, each
   with the token of a caller the authorization table lets in (drawn per case; public operations
   also get anonymous calls), so that cases reach the handlers and the rules behind them.
   Every answer must be: not a 5xx; a documented status; of a documented content type; a body
   valid against the documented schema; documented headers right; invalid input refused with a
   4xx. "Documented status" is checked as the schemas say it since issue 10: every 4xx of the
   platform is an RFC 9457 problem, so each operation documents `4XX` as problem+json (see
   `wsis_shared.web`), and a 5xx or an undeclared 2xx/3xx is a failure. A fixed seed and a bounded
   number of examples per operation (`WSIS_FUZZ_SEED`, `WSIS_FUZZ_EXAMPLES`) make a run the same
   every time and bounded in time; shrinking is off, so a failure costs no more than a pass and
   its report carries the curl command that reproduces it.
2. Bodies no parser should choke on (100,000 `[`), oversize bodies with and without a
   Content-Length, an 11 MiB attachment: a quick 4xx, and the service carries on.
3. A 30-digit integer in every integer path or query parameter: a 4xx, not a 500 from MongoDB
   (which stores 64-bit integers).
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from pymongo import MongoClient
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi as schemathesis_asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.test_authorization_matrix import (
    CALLERS,
    MATRIX,
    QUERIES,
    SERVICES,
    Caller,
    Keys,
    Service,
    create_app,
    expected_answer,
    make_keys,
    running,
    settings_for,
)
from tests.integration.test_authorization_matrix import (
    YEAR as YEAR_OF_SEED,
)
from wsis_devstack.processes import free_ports
from wsis_devstack.smtp_sink import SmtpSink
from wsis_review.settings import ReviewSettings
from wsis_shared.settings import ServiceSettings
from wsis_stocktaking.settings import StocktakingSettings
from wsis_submissions.settings import SubmissionsSettings
from wsis_voting.settings import VotingSettings

pytestmark = pytest.mark.integration

SEED: Final = int(os.environ.get("WSIS_FUZZ_SEED", "20261010"))
EXAMPLES: Final = int(os.environ.get("WSIS_FUZZ_EXAMPLES", "16"))
CHECKS: Final = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]


def _documents() -> dict[Service, dict[str, Any]]:
    """Every service's OpenAPI document, read from the apps themselves (a new endpoint is
    fuzzed the day it appears, a row in the authorization table or not)."""
    defaults: dict[Service, ServiceSettings] = {
        "submissions": SubmissionsSettings(),
        "review": ReviewSettings(),
        "voting": VotingSettings(voter_token_private_key_file=None),
        "stocktaking": StocktakingSettings(),
    }
    return {service: create_app(service, defaults[service]).openapi() for service in SERVICES}


DOCUMENTS: Final = _documents()


def _operations() -> list[tuple[Service, str, str]]:
    return [
        (service, method.upper(), path)
        for service, document in DOCUMENTS.items()
        for path, operations in sorted(document["paths"].items())
        for method in sorted(operations)
    ]


def _integer_parameters() -> list[tuple[Service, str, str, str, str]]:
    """(service, method, path, parameter, where) of every integer in a path or a query."""
    found = []
    for service, method, path in _operations():
        operation = DOCUMENTS[service]["paths"][path][method.lower()]
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            options = [schema, *schema.get("anyOf", [])]
            types = {o.get("type") for o in options} | {
                o.get("items", {}).get("type") for o in options if o.get("type") == "array"
            }
            if "integer" in types and parameter["in"] in ("path", "query"):
                found.append((service, method, path, parameter["name"], parameter["in"]))
    return found


OPERATIONS: Final = _operations()
INTEGER_PARAMETERS: Final = _integer_parameters()


@dataclass
class Target:
    schema: Any  # schemathesis' OpenApiSchema
    keys: Keys
    ids: dict[str, str]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return make_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    smtp_port, http_port = free_ports(2)
    with SmtpSink(smtp_port=smtp_port, http_port=http_port) as started:
        yield started


@pytest.fixture(scope="module")
async def seeded(
    mongo_uri: str, kafka_bootstrap: str, mongo_db_prefix: str, keys: Keys, sink: SmtpSink
) -> dict[Service, tuple[ServiceSettings, dict[str, str]]]:
    """Each service's settings (its own database) and the ids of what was seeded there."""
    prefix = f"{mongo_db_prefix}fz{uuid.uuid4().hex[:6]}_"
    prepared: dict[Service, tuple[ServiceSettings, dict[str, str]]] = {}
    for service in SERVICES:
        settings = settings_for(
            service,
            mongo_uri=mongo_uri,
            kafka_bootstrap=kafka_bootstrap,
            db_prefix=prefix,
            keys=keys,
            smtp_port=sink.smtp_port,
        )
        async with running(service, settings, keys, drop=False) as seeded_service:
            prepared[service] = (settings, seeded_service.ids)
    return prepared


@pytest.fixture(scope="module")
def targets(
    seeded: dict[Service, tuple[ServiceSettings, dict[str, str]]], keys: Keys, mongo_uri: str
) -> Iterator[dict[Service, Target]]:
    """The services again, each a new app on its seeded database, run by Schemathesis' ASGI
    client (its lifespan in Schemathesis' own event loop)."""
    opened = {}
    for service, (service_settings, ids) in seeded.items():
        app = create_app(service, service_settings)
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        schema.config.max_stream_events = 1  # the results stream: its first event is enough
        opened[service] = Target(schema, keys, ids)
    try:
        yield opened
    finally:
        schemathesis_asgi.shutdown_lifespans()
        client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
        try:
            for service_settings, _ in seeded.values():
                client.drop_database(service_settings.mongo_database)
        finally:
            client.close()


def _callers_let_in(service: Service, method: str, path: str) -> list[Caller]:
    """Callers the table lets through the door (owners and non-owners alike); every caller,
    anonymous included, for a public operation or one the table does not know yet."""
    door = MATRIX[service].get((method, path))
    if door is None or door.roles is None:
        return list(CALLERS)
    let_in = [c for c in CALLERS if expected_answer(door, c) not in (401, 403)]
    # Owners first: Hypothesis draws the first element most.
    return sorted(let_in, key=lambda c: expected_answer(door, c) == 404)


def _negatable(operation: Any) -> bool:
    """Whether the schema constrains the operation's input at all (otherwise negative cases
    cannot exist: a path segment that is any string)."""
    definition = operation.definition.raw
    if "requestBody" in definition:
        return True
    for parameter in definition.get("parameters", []):
        schema = parameter.get("schema", {})
        if parameter.get("required") or set(schema) - {"type", "title", "description"}:
            return True
        if schema.get("type") not in (None, "string"):
            return True
    return False


def _cases(target: Target, operation: Any, path: str, who: Caller) -> st.SearchStrategy[Any]:
    """Cases of one caller: its token is a fixed header (so no negative case "removes" it, only
    to have it put back), path parameters generated or the seeded ones, valid data and, where
    the schema constrains the input, invalid data."""
    names = set(re.findall(r"{(\w+)}", path))
    known: dict[str, Any] = {
        name: int(value) if name == "year" else value
        for name, value in target.ids.items()
        if name in names
    }
    if operation.method.upper() == "DELETE" and "spare_attachment_id" in target.ids:
        known["attachment_id"] = target.ids["spare_attachment_id"]  # the others stay to be read
    headers = target.keys.headers(who) or None
    modes = [GenerationMode.POSITIVE]
    if _negatable(operation):
        modes.append(GenerationMode.NEGATIVE)
    # The seeded resources first: Hypothesis leans towards the first branch.
    strategies = [
        operation.as_strategy(generation_mode=mode, headers=headers, path_parameters=known)
        for mode in modes
        if known
    ]
    strategies += [operation.as_strategy(generation_mode=mode, headers=headers) for mode in modes]
    return st.one_of(strategies)


@pytest.mark.parametrize(("service", "method", "path"), OPERATIONS, ids=lambda v: str(v))
def test_every_answer_is_documented_and_no_input_gets_a_5xx(
    targets: dict[Service, Target], service: Service, method: str, path: str
) -> None:
    target = targets[service]
    operation = target.schema[path][method]
    callers = _callers_let_in(service, method, path)
    cases = {who: _cases(target, operation, path, who) for who in callers}

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        who = data.draw(st.sampled_from(callers), label="caller")
        case = data.draw(cases[who], label="case")
        response = case.call(timeout=30)
        case.validate_response(response, checks=CHECKS)

    fuzz()


# --- hostile bodies: refused early, whatever the service -----------------------------------------

NESTED: Final = {
    "100,000 [": b"[" * 100_000,
    "100,000 {": b'{"a":' * 100_000,
    "deep but closed": b"[" * 50_000 + b"]" * 50_000,
}
TOO_LARGE: Final = 3 * 1024 * 1024  # past every JSON body limit (1 MiB by default)


def _json_operation(service: Service, target: Target) -> tuple[str, str, dict[str, str]]:
    """The first operation of the service that takes a JSON body, and a caller it lets in."""
    for svc, method, path in OPERATIONS:
        if svc != service or method not in ("POST", "PUT", "PATCH"):
            continue
        body = target.schema[path][method].definition.raw.get("requestBody", {})
        if "application/json" not in body.get("content", {}):
            continue
        who = next((c for c in _callers_let_in(service, method, path) if c.role), CALLERS[0])
        concrete = re.sub(r"{(\w+)}", lambda m: target.ids.get(m.group(1), "x"), path)
        return method, concrete, target.keys.headers(who)
    raise AssertionError(f"{service} takes no JSON body")


def _chunks(total: int, size: int = 64 * 1024, first: bytes = b"") -> Iterator[bytes]:
    """A body sent without Content-Length (chunked), as a client that lies or streams would."""
    if first:
        yield first
    sent = 0
    while sent < total:
        sent += size
        yield b"x" * size


@pytest.mark.parametrize("service", SERVICES)
def test_hostile_bodies_get_a_quick_4xx_and_the_service_carries_on(
    targets: dict[Service, Target], service: Service
) -> None:
    target = targets[service]
    method, path, auth = _json_operation(service, target)
    json_headers = auth | {"content-type": "application/json"}
    with schemathesis_asgi.get_client(target.schema.app) as client:
        for what, body in NESTED.items():
            started = time.monotonic()
            answer = client.request(method, path, data=body, headers=json_headers, timeout=30)
            elapsed = time.monotonic() - started
            assert 400 <= answer.status_code < 500, f"{what}: {answer.status_code} {answer.text}"
            assert answer.headers["content-type"] == "application/problem+json", what
            assert elapsed < 3, f"{what}: {elapsed:.1f}s"
        too_large: dict[str, bytes | Iterator[bytes]] = {
            "3 MiB with Content-Length": b'{"x": "' + b"x" * TOO_LARGE + b'"}',
            "3 MiB chunked": _chunks(TOO_LARGE),
        }
        for what, data in too_large.items():
            answer = client.request(method, path, data=data, headers=json_headers, timeout=30)
            assert answer.status_code == 413, f"{what}: {answer.status_code} {answer.text[:300]}"
            assert answer.json()["code"] == "payload-too-large", what
        assert client.get("/healthz").status_code == 200


def test_a_huge_attachment_is_refused_before_it_is_stored(targets: dict[Service, Target]) -> None:
    target = targets["submissions"]
    team = next(c for c in CALLERS if c.name == "submitter")
    path = f"/entries/{target.ids['entry_id']}/attachments?filename=huge.pdf"
    headers = target.keys.headers(team) | {"content-type": "application/octet-stream"}
    huge = 11 * 1024 * 1024  # the limit is 10 MB
    bodies: dict[str, bytes | Iterator[bytes]] = {
        "11 MiB with Content-Length": b"%PDF-1.4\n" + b"x" * huge,
        "11 MiB chunked": _chunks(huge, first=b"%PDF-1.4\n"),
    }
    with schemathesis_asgi.get_client(target.schema.app) as client:
        for what, body in bodies.items():
            answer = client.post(path, data=body, headers=headers, timeout=60)
            assert answer.status_code == 413, f"{what}: {answer.status_code} {answer.text[:300]}"
        entry = f"/entries/{target.ids['entry_id']}"
        listed = client.get(entry, headers=target.keys.headers(team))
        assert listed.status_code == 200, listed.text
        assert all(a["filename"] != "huge.pdf" for a in listed.json()["attachments"])


@pytest.mark.parametrize(
    ("service", "method", "path", "name", "where"), INTEGER_PARAMETERS, ids=lambda v: str(v)
)
def test_integers_beyond_64_bits_get_a_4xx(
    targets: dict[Service, Target], service: Service, method: str, path: str, name: str, where: str
) -> None:
    """MongoDB stores 64-bit integers: a 30-digit number in a path or a query must be refused
    with a 4xx naming the parameter, never reach a query and fail there with a 500."""
    target = targets[service]
    who = next((c for c in _callers_let_in(service, method, path) if c.role), CALLERS[0])
    needed = QUERIES.get((method, path), "").lstrip("?")
    query = dict(pair.split("=", 1) for pair in needed.split("&") if pair)
    values = target.ids | {"year": str(YEAR_OF_SEED), "category": "C4", "format": "json"}
    with schemathesis_asgi.get_client(target.schema.app) as client:
        for huge in (str(10**30), str(-(10**30))):

            def value(match: re.Match[str], huge: str = huge) -> str:
                return huge if match.group(1) == name else values.get(match.group(1), "x")

            concrete = re.sub(r"{(\w+)}", value, path)
            params = query | ({name: huge} if where == "query" else {})
            answer = client.request(
                method, concrete, params=params, headers=target.keys.headers(who), json={}
            )
            assert 400 <= answer.status_code < 500, (
                f"{where} {name}={huge}: {answer.status_code} {answer.text[:300]}"
            )
            assert answer.headers["content-type"] == "application/problem+json"
