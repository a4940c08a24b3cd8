"""After the close, through the voting API on the real mongod: the champions' counts and the
bulletin follow the rule of the results (hidden from the public while the expert group judges an
edition that hides running counts; admins always see them), the bulletin is cached (a strong
ETag, 304, a long public max-age, the body kept per process), and a ruling that matched no vote
is in the audit trail."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from wsis_shared.auth import Principal, ensure_dev_keys, sign_dev_token
from wsis_shared.errors import Conflict
from wsis_shared.events import EditionSchedule, Finalist, NomineeCard, utcnow
from wsis_shared.mongo import Database
from wsis_shared.runtime import Resources
from wsis_shared.uow import MongoUnitOfWorkRunner
from wsis_shared.vocabulary import Category, Phase, Region, Role, StakeholderType
from wsis_voting.adapters import repositories
from wsis_voting.adapters.repositories import VotingUnitOfWork, vote_document
from wsis_voting.app import create_app
from wsis_voting.domain.ballot import CategoryResults, Nominee, Vote, VotingEdition
from wsis_voting.domain.invalidation import InvalidationRule
from wsis_voting.domain.results import TIE_BREAK_RULE, receipt_hash
from wsis_voting.service_layer import closing, invalidation
from wsis_voting.settings import VotingSettings

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"
ENTRIES = ["c4-a", "c4-b", "c4-c"]
VOTES = {"c4-a": 3, "c4-b": 1, "c4-c": 2}


@dataclass
class Api:
    http: httpx.AsyncClient
    db: Database
    private_key: bytes
    resources: Resources

    def headers(self, *roles: Role, sub: str = "someone") -> dict[str, str]:
        token = sign_dev_token(self.private_key, subject=sub, roles=list(roles))
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def api(
    mongo_uri: str, mongo_db_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Api]:
    private_key, public_key = ensure_dev_keys(tmp_path_factory.mktemp("keys"))
    settings = VotingSettings(
        mongo_uri=mongo_uri,
        mongo_db_prefix=f"{mongo_db_prefix}{uuid.uuid4().hex[:6]}_",
        jwt_public_key_file=public_key,
        rate_limits_enabled=False,
    )
    app = create_app(settings)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http,
    ):
        db: Database = app.state.resources.db
        yield Api(http, db, private_key.read_bytes(), app.state.resources)
        await app.state.resources.mongo.drop_database(db.name)


def _schedule() -> EditionSchedule:
    now = utcnow()
    return EditionSchedule(
        submission_opens=now - timedelta(days=90),
        submission_closes=now - timedelta(days=60),
        review_closes=now - timedelta(days=30),
        voting_opens=now - timedelta(days=20),
        voting_closes=now - timedelta(days=1),
        results_at=now + timedelta(days=9),
    )


async def _edition(
    api: Api, year: int, phase: Phase, *, show_running_counts: bool = False, decided: bool = True
) -> dict[str, str]:
    """An edition whose C4 votes are cast (and, if `decided`, its results too): the receipts."""
    edition = VotingEdition(
        year=year,
        phase=phase,
        schedule=_schedule(),
        categories=(Category.C4,),
        show_running_counts=show_running_counts,
        finalised_at=utcnow() if decided else None,
    )
    await api.db["editions"].insert_one(edition.model_dump() | {"_id": year})
    for entry in ENTRIES:
        card = NomineeCard(
            entry_id=f"{year}-{entry}",
            category=Category.C4,
            title=entry,
            short_description="…",
            organisation_name="Org",
            country="KE",
            region=Region.AFRICA,
            stakeholder_type=StakeholderType.ACADEMIA,
        )
        nominee = Nominee(card=card, edition=year, nominated=True)
        await api.db["nominees"].insert_one(nominee.model_dump() | {"_id": card.entry_id})
    receipts, now = {}, utcnow()
    for entry, count in VOTES.items():
        for n in range(count):
            vote = Vote(
                receipt_id=uuid.uuid4().hex,
                edition=year,
                category=Category.C4,
                entry_id=f"{year}-{entry}",
                voter=f"{entry}-voter-{n}",
                cast_at=now - timedelta(days=2, minutes=n),
                ip="203.0.113.9",
            )
            await api.db["votes"].insert_one(vote_document(vote))
            receipts[vote.voter] = vote.receipt_id
    if decided:
        ranked = sorted(VOTES, key=lambda e: -VOTES[e])
        results = CategoryResults(
            edition=year,
            category=Category.C4,
            finalists=tuple(
                Finalist(entry_id=f"{year}-{e}", votes=VOTES[e], rank=r)
                for r, e in enumerate(ranked, start=1)
            ),
            tie_break_rule=TIE_BREAK_RULE,
            bulletin_salt=uuid.uuid4().hex,
            valid_votes=sum(VOTES.values()),
            decided_at=now,
        )
        await api.db["results"].insert_one(results.model_dump() | {"_id": results.key})
    return receipts


async def _set_phase(api: Api, year: int, phase: Phase) -> None:
    await api.db["editions"].update_one({"_id": year}, {"$set": {"phase": phase.value}})


async def test_hidden_counts_stay_hidden_in_the_champions_and_the_bulletin(api: Api) -> None:
    year = 2061
    await _edition(api, year, Phase.SELECTION)
    admin = api.headers(Role.ADMIN)
    voter = api.headers(Role.VOTER)

    for viewer in ({}, voter):
        [c4] = (await api.http.get(f"/editions/{year}/champions", headers=viewer)).json()
        assert c4["counts_public"] is False
        assert c4["finalists"] == [  # announced at the close, in an order that tells nothing
            {"entry_id": f"{year}-{e}", "votes": None, "rank": None} for e in ENTRIES
        ]
        assert (c4["valid_votes"], c4["votes_for_withdrawn"]) == (None, None)

        refused = await api.http.get(f"/editions/{year}/bulletins/C4", headers=viewer)
        assert refused.status_code == 409
        assert refused.headers["content-type"] == PROBLEM
        assert "published with the results on" in refused.json()["detail"]
        assert refused.json()["required_phase"] == "results"
        assert "salt" not in refused.text

    [c4] = (await api.http.get(f"/editions/{year}/champions", headers=admin)).json()
    assert c4["counts_public"] is True
    assert [(f["votes"], f["rank"]) for f in c4["finalists"]] == [(3, 1), (2, 2), (1, 3)]
    assert c4["valid_votes"] == 6
    early = await api.http.get(f"/editions/{year}/bulletins/C4", headers=admin)
    assert early.status_code == 200
    assert early.headers["cache-control"] == "private, no-store", "no shared cache keeps it"
    assert early.json()["valid_votes"] == 6

    await _set_phase(api, year, Phase.RESULTS)
    [c4] = (await api.http.get(f"/editions/{year}/champions")).json()
    assert [(f["votes"], f["rank"]) for f in c4["finalists"]] == [(3, 1), (2, 2), (1, 3)]
    assert (c4["valid_votes"], c4["votes_for_withdrawn"]) == (6, 0)
    published = await api.http.get(f"/editions/{year}/bulletins/C4")
    assert published.status_code == 200
    assert published.content == early.content


async def test_running_counts_shown_by_the_edition_show_in_the_champions_and_bulletin(
    api: Api,
) -> None:
    year = 2062
    await _edition(api, year, Phase.SELECTION, show_running_counts=True)
    [c4] = (await api.http.get(f"/editions/{year}/champions")).json()
    assert [f["votes"] for f in c4["finalists"]] == [3, 2, 1]
    shown = await api.http.get(f"/editions/{year}/bulletins/C4")
    assert shown.status_code == 200
    # An admin may turn the running counts off before the results: caches must ask each time.
    assert shown.headers["cache-control"] == "public, no-cache"


async def test_the_bulletin_is_cached_by_browsers_proxies_and_the_process(api: Api) -> None:
    year = 2063
    receipts = await _edition(api, year, Phase.RESULTS)
    url = f"/editions/{year}/bulletins/C4"

    first = await api.http.get(url)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"'), "strong: the body cannot change once the results are decided"
    assert first.headers["cache-control"] == "public, max-age=86400"
    body = first.json()
    assert set(body) == {"edition", "category", "salt", "how_to_check", "valid_votes", "nominees"}
    assert {n["entry_id"]: n["votes"] for n in body["nominees"]} == {
        f"{year}-{e}": count for e, count in VOTES.items()
    }
    assert set(body["nominees"][0]) == {"entry_id", "votes", "withdrawn", "receipt_hashes"}
    mine = receipt_hash(body["salt"], receipts["c4-b-voter-0"])
    assert [n["receipt_hashes"] for n in body["nominees"] if n["entry_id"] == f"{year}-c4-b"] == [
        [mine]
    ]

    for sent in (etag, f"W/{etag}", f'"other", {etag}'):
        unchanged = await api.http.get(url, headers={"If-None-Match": sent})
        assert unchanged.status_code == 304, sent
        assert unchanged.content == b""
        assert unchanged.headers["etag"] == etag
    assert (await api.http.get(url, headers={"If-None-Match": '"other"'})).status_code == 200

    # Kept by the process: the votes are not read again for the next readers (here they are
    # gone from the database, and the bulletin is still the one published).
    await api.db["votes"].delete_many({"edition": year})
    again = await asyncio.gather(*(api.http.get(url) for _ in range(5)))
    assert {(r.status_code, r.content) for r in again} == {(200, first.content)}


async def test_a_ruling_that_matches_no_vote_is_in_the_audit_trail(api: Api) -> None:
    year = 2064
    await _edition(api, year, Phase.VOTING, decided=False)
    admin = api.headers(Role.ADMIN)
    rule = {"reason": "a farm that never voted", "voters": ["nobody-at-all"]}

    ruled = await api.http.post(f"/editions/{year}/invalidations", json=rule, headers=admin)
    assert ruled.status_code == 200, ruled.text
    assert ruled.json()["votes_ruled_out"] == 0

    trail = (await api.http.get(f"/editions/{year}/invalidations", headers=admin)).json()
    assert [(i["invalidation_id"], i["votes_ruled_out"]) for i in trail] == [
        (ruled.json()["invalidation_id"], 0)
    ]


async def test_a_ruling_by_address_range_asks_mongodb_for_the_range_and_rules_it_exactly(
    api: Api,
) -> None:
    """MongoDB returns the votes whose address text begins as the range's do (203.0. for a
    /20); the range itself decides among them: 203.0.5.1 begins so and stays valid."""
    year = 2065
    await _edition(api, year, Phase.VOTING, decided=False)
    addresses = {
        "203.0.113.5": True,
        "203.0.127.1": True,
        "203.0.5.1": False,
        "198.51.100.1": False,
    }
    for n, address in enumerate(addresses):
        vote = Vote(
            receipt_id=f"range-{n}",
            edition=year,
            category=Category.C9,
            entry_id=f"{year}-c9",
            voter=f"range-voter-{n}",
            cast_at=utcnow() - timedelta(hours=1),
            ip=address,
        )
        await api.db["votes"].insert_one(vote_document(vote))
    admin = api.headers(Role.ADMIN)
    rule = {"reason": "one script, many accounts", "ip_range": "203.0.112.0/20"}

    ruled = await api.http.post(f"/editions/{year}/invalidations", json=rule, headers=admin)

    assert ruled.status_code == 200, ruled.text
    ruled_out = {
        document["ip"]
        async for document in api.db["votes"].find({"edition": year, "invalid": True})
    }
    # The C4 votes of `_edition` came from 203.0.113.9, inside the range too.
    assert ruled_out == {"203.0.113.5", "203.0.127.1", "203.0.113.9"}
    assert ruled.json()["votes_ruled_out"] == 2 + sum(VOTES.values())


async def test_a_ruling_while_the_results_are_decided_never_slips_under_them(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker decides the results while an admin's ruling is between its read and its
    commit: one of the two runs again after the other, so the results count exactly the votes
    that are valid."""
    year = 2066
    await _edition(api, year, Phase.SELECTION, decided=False)
    runner = MongoUnitOfWorkRunner(api.resources, VotingUnitOfWork)
    read_votes = repositories.MongoVoteRepository.matching
    decided: list[int] = []

    async def matching_then_decided(self: Any, *args: Any, **kwargs: Any) -> Any:
        found = await read_votes(self, *args, **kwargs)
        if not decided:
            decided.append(await closing.finalise_closed_windows(runner, [year], utcnow()))
        return found

    monkeypatch.setattr(repositories.MongoVoteRepository, "matching", matching_then_decided)
    rule = InvalidationRule(reason="one script, many accounts", ip_range="203.0.113.0/24")
    with contextlib.suppress(Conflict):
        await invalidation.rule_out_votes(
            runner,
            year=year,
            rule=rule,
            dry_run=False,
            admin=Principal(subject="admin", roles=frozenset({Role.ADMIN})),
            now=utcnow(),
        )

    assert decided == [1]
    results = await api.db["results"].find_one({"_id": f"{year}:C4"})
    assert results is not None
    valid = await api.db["votes"].count_documents(
        {"edition": year, "category": "C4", "invalid": {"$ne": True}}
    )
    assert results["valid_votes"] == valid


@pytest.mark.parametrize("suffix", ["", "/stream"])
async def test_the_results_of_an_edition_voting_never_heard_of_are_a_404(
    api: Api, suffix: str
) -> None:
    """Not an empty ranking, nor a stream held open and polled every second for nothing."""
    missing = await api.http.get(f"/editions/2099/results/C4{suffix}")

    assert missing.status_code == 404, missing.text
    assert missing.headers["content-type"] == "application/problem+json"
    assert "no edition 2099" in missing.json()["detail"]
