"""Public search against a real mongod: the index is loaded from the catalogue, follows its
inserts, updates and deletions, survives the rebuild's rename-over switchover, resumes after a
mongod restart, and the HTTP API answers with facets, cursor pages and clear refusals."""

from __future__ import annotations

import gc
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from prometheus_client import REGISTRY
from pymongo import AsyncMongoClient

from tests.integration.helpers import eventually
from wsis_devstack.mongodb import MongoServer
from wsis_devstack.paths import cache_dir
from wsis_devstack.processes import free_ports
from wsis_shared.auth import ensure_dev_keys
from wsis_shared.events import EntryPublic
from wsis_shared.mongo import Database, Document, create_client
from wsis_shared.vocabulary import ActionLine, Category, Phase, Region, StakeholderType
from wsis_stocktaking.adapters import search_index_sync
from wsis_stocktaking.adapters.catalogue import Catalogue
from wsis_stocktaking.adapters.search_index_sync import SearchIndexSync
from wsis_stocktaking.app import create_app
from wsis_stocktaking.domain.search_index import FacetValue, SearchQuery
from wsis_stocktaking.settings import StocktakingSettings

pytestmark = pytest.mark.integration

AT = datetime(2027, 3, 1, tzinfo=UTC)


def _entry(
    entry_id: str,
    title: str,
    *,
    category: Category = Category.C4,
    country: str = "KE",
    region: Region = Region.AFRICA,
    sdgs: tuple[int, ...] = (4,),
) -> EntryPublic:
    return EntryPublic(
        entry_id=entry_id,
        category=category,
        title=title,
        short_description=f"{title}: a project that brings people online.",
        organisation_id=f"org-{entry_id}",
        organisation_name=f"Organisation {entry_id}",
        country=country,
        region=region,
        stakeholder_type=StakeholderType.CIVIL_SOCIETY,
        action_lines=(ActionLine.C3,),
        sdgs=sdgs,
    )


async def _put(db: Database, entry: EntryPublic, edition: int = 2027, version: int = 1) -> None:
    await Catalogue(db).put_entry(entry, edition, version, AT)


def _ids(sync: SearchIndexSync, text: str = "", **filters: Iterable[FacetValue]) -> list[str]:
    query = SearchQuery(
        text=text,
        filters={facet: frozenset(values) for facet, values in filters.items()},  # type: ignore[misc]
        limit=100,
    )
    return sync.index.search(query).entry_ids


def _metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_the_index_loads_the_catalogue_then_follows_its_changes(db: Database) -> None:
    await _put(db, _entry("e-1", "Solar schools"))
    await _put(db, _entry("e-2", "Rural telemedicine", category=Category.C7_E_HEALTH))
    await Catalogue(db).set_fact("e-2", 2027, "withdrawn", True, AT)
    await Catalogue(db).add_votes({("e-votes-first", 2027): (3, AT)})  # no entry yet

    async with SearchIndexSync(db, max_await_ms=100).running() as sync:
        # Loaded before `running` lets anyone search.
        assert _ids(sync) == ["e-1", "e-2"]
        assert _ids(sync, status=["withdrawn"]) == ["e-2"], "withdrawn entries stay public"

        await _put(db, _entry("e-3", "Solar farms for water pumps"))

        async def followed_the_insert() -> bool:
            return _ids(sync, "solar") == ["e-1", "e-3"]

        await eventually(followed_the_insert, timeout_s=20, what="the new entry to be found")

        await _put(db, _entry("e-1", "Mesh networks", category=Category.C2), version=2)
        await Catalogue(db).set_fact("e-3", 2027, "nominated", True, AT)

        async def followed_the_updates() -> bool:
            return (
                _ids(sync, "solar") == ["e-3"]
                and _ids(sync, category=[Category.C2]) == ["e-1"]
                and _ids(sync, category=[Category.C4]) == ["e-3"]
                and _ids(sync, status=["nominated"]) == ["e-3"]
            )

        await eventually(followed_the_updates, timeout_s=20, what="the amendment and nomination")

        # Votes change nothing the index holds: the server filters those updates out.
        applied = _metric("wsis_search_index_changes_total")
        await Catalogue(db).add_votes({("e-3", 2027): (5, AT), ("e-1", 2027): (1, AT)})
        await _put(db, _entry("e-votes-first", "Late arrival"))

        async def the_entry_arrived() -> bool:
            return "e-votes-first" in sync.index

        await eventually(the_entry_arrived, timeout_s=20, what="the entry of the voted record")
        assert _metric("wsis_search_index_changes_total") == applied + 1
        assert _metric("wsis_search_index_entries") == 4
        assert _metric("wsis_search_index_lag_seconds") < 60

        await db["catalogue"].delete_one({"_id": "e-2"})

        async def followed_the_deletion() -> bool:
            return "e-2" not in sync.index

        await eventually(followed_the_deletion, timeout_s=20, what="the deletion")


async def test_the_index_is_kept_out_of_full_garbage_collections(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full collection walking 100,000 entries' objects stalls every search for ~350 ms; the
    index is frozen out of its reach after a load and every few changes followed."""
    monkeypatch.setattr(search_index_sync, "_FREEZE_EVERY", 3)
    await _put(db, _entry("gc-1", "Solar schools"))
    async with SearchIndexSync(db, max_await_ms=100).running() as sync:
        assert gc.get_freeze_count() > 0, "the loaded index is frozen"
        gc.unfreeze()
        for n in range(2, 5):
            await _put(db, _entry(f"gc-{n}", "Solar farms"))

        async def followed() -> bool:
            return len(_ids(sync, "solar")) == 4

        await eventually(followed, timeout_s=20, what="the new entries to be found")
        assert gc.get_freeze_count() > 0, "entries that came through the change stream too"
    gc.unfreeze()


async def test_the_index_survives_the_rebuilds_rename_over_switchover(db: Database) -> None:
    await _put(db, _entry("e-1", "Solar schools"))
    await _put(db, _entry("e-2", "Rural telemedicine"))
    scratch = db.client[f"{db.name}__rebuild"]
    async with SearchIndexSync(db, max_await_ms=100).running() as sync:
        loads = _metric("wsis_search_index_loads_total", reason="catalogue rename")
        # What `projections rebuild` does: a fresh catalogue in a scratch database, renamed
        # over the live one.
        await _put(scratch, _entry("e-2", "Rural telemedicine vans"))
        await _put(scratch, _entry("e-4", "Community radio"))
        await db.client.admin.command(
            "renameCollection",
            f"{scratch.name}.catalogue",
            to=f"{db.name}.catalogue",
            dropTarget=True,
        )

        async def switched() -> bool:
            return _ids(sync) == ["e-2", "e-4"] and _ids(sync, "vans") == ["e-2"]

        await eventually(switched, timeout_s=30, what="the index of the rebuilt catalogue")
        assert _metric("wsis_search_index_loads_total", reason="catalogue rename") == loads + 1

        # And it follows the new collection.
        await _put(db, _entry("e-5", "Digital libraries"))

        async def follows_the_new_collection() -> bool:
            return _ids(sync, "libraries") == ["e-5"]

        await eventually(follows_the_new_collection, timeout_s=20, what="a change after it")

        await db["catalogue"].drop()

        async def emptied() -> bool:
            return len(sync.index) == 0

        await eventually(emptied, timeout_s=20, what="an empty index once the catalogue is gone")
    await db.client.drop_database(scratch.name)


async def test_the_index_resumes_where_it_was_when_mongod_comes_back(tmp_path: Path) -> None:
    server = MongoServer(cache_dir(), free_ports(1)[0], data_dir=tmp_path / "mongod")
    await server.start_async()
    client = create_client(server.uri, app_name="wsis-tests-search-restart")
    try:
        db = client["search"]
        await _put(db, _entry("e-1", "Solar schools"))
        async with SearchIndexSync(db, max_await_ms=100, max_backoff_s=0.5).running() as sync:
            loaded = sync.index
            await server.stop_async()

            async def cut_off() -> bool:
                return _metric("wsis_search_index_following") == 0

            await eventually(cut_off, timeout_s=30, what="the sync to notice mongod is gone")
            assert _ids(sync, "solar") == ["e-1"], "searches go on meanwhile"
            await server.start_async()
            await _put(db, _entry("e-2", "Solar farms"))

            async def caught_up() -> bool:
                return _ids(sync, "solar") == ["e-1", "e-2"]

            await eventually(caught_up, timeout_s=60, what="the change made after the restart")
            assert sync.index is loaded, "resumed after its last change, not loaded again"
    finally:
        await client.close()
        await server.stop_async()


# --- the HTTP API ------------------------------------------------------------------------------


@dataclass
class Api:
    http: httpx.AsyncClient
    db: Database


@pytest.fixture
async def api(
    mongo_uri: str,
    mongo_db_prefix: str,
    mongo_client: AsyncMongoClient[Document],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Api]:
    _, public_key = ensure_dev_keys(Path(tmp_path_factory.mktemp("keys")))
    settings = StocktakingSettings(
        mongo_uri=mongo_uri,
        mongo_db_prefix=f"{mongo_db_prefix}{uuid.uuid4().hex[:6]}_",
        jwt_public_key_file=public_key,
    )
    db = mongo_client[settings.mongo_database]
    catalogue = Catalogue(db)
    # Written before the API starts: found through the initial load.
    await catalogue.put_edition(2026, version=5, phase=Phase.RESULTS)
    await catalogue.put_edition(2027, version=4, phase=Phase.VOTING, show_running_counts=False)
    await _put(db, _entry("a-1", "Solar schools"), edition=2026)
    await _put(db, _entry("b-1", "Solar clinics", region=Region.EUROPE, country="FR"))
    await _put(db, _entry("b-2", "Solar water", sdgs=(6,)))
    await _put(db, _entry("b-3", "Mesh networks", category=Category.C2))
    await catalogue.add_votes({("a-1", 2026): (7, AT), ("b-1", 2027): (4, AT)})
    app = create_app(settings)
    try:
        async with (
            LifespanManager(app, startup_timeout=60),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://test"
            ) as http,
        ):
            yield Api(http, db)
    finally:
        await mongo_client.drop_database(db.name)


def _facet(body: dict[str, Any], facet: str) -> dict[Any, int]:
    return {item["value"]: item["count"] for item in body["facets"][facet]}


async def test_search_answers_with_items_facets_and_total(api: Api) -> None:
    r = await api.http.get("/entries", params={"q": "solar", "region": "Africa"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [item["entry_id"] for item in body["items"]] == ["b-2", "a-1"], "newest edition first"
    assert body["total"] == 2
    assert body["next_cursor"] is None
    assert _facet(body, "region") == {"Africa": 2, "Europe": 1}, "counts without its own filter"
    assert _facet(body, "country") == {"KE": 2}
    assert _facet(body, "edition") == {2026: 1, 2027: 1}
    assert _facet(body, "sdg") == {4: 1, 6: 1}
    assert _facet(body, "action_line") == {"C4": 2, "C3": 2}
    assert set(body["facets"]) == {
        "edition",
        "action_line",
        "category",
        "sdg",
        "region",
        "country",
        "stakeholder_type",
        "status",
    }
    votes = {item["entry_id"]: item["votes"] for item in body["items"]}
    assert votes == {"a-1": 7, "b-2": None}, "2027 keeps its running counts private"
    assert body["items"][1]["entry"]["title"] == "Solar schools"

    r = await api.http.get("/entries", params={"q": "sola", "country": ["fr", "KE"]})
    assert r.json()["total"] == 3, "the last word completes; codes in any case"
    r = await api.http.get("/entries", params={"sdg": [6], "edition": [2027]})
    assert [item["entry_id"] for item in r.json()["items"]] == ["b-2"]


async def test_cursor_pages_cover_everything_once_while_entries_arrive(api: Api) -> None:
    seen: list[str] = []
    r = await api.http.get("/entries", params={"limit": 2})
    assert r.json()["total"] == 4
    seen.extend(item["entry_id"] for item in r.json()["items"])
    cursor = r.json()["next_cursor"]
    # Arrives between pages, sorting after the cursor: shows up later, exactly once.
    await _put(api.db, _entry("b-9", "Community radio"))

    async def arrived() -> bool:
        r = await api.http.get("/entries", params={"q": "radio"})
        return bool(r.json()["total"] == 1)

    await eventually(arrived, timeout_s=20, what="the new entry to be searchable")
    while cursor is not None:
        r = await api.http.get("/entries", params={"limit": 2, "cursor": cursor})
        assert r.status_code == 200, r.text
        seen.extend(item["entry_id"] for item in r.json()["items"])
        cursor = r.json()["next_cursor"]
    assert seen == ["b-1", "b-2", "b-3", "b-9", "a-1"]


async def test_the_api_follows_an_amendment(api: Api) -> None:
    await _put(api.db, _entry("b-3", "Mesh networks", category=Category.C9), version=2)

    async def moved() -> bool:
        r = await api.http.get("/entries", params={"category": "C9"})
        return [item["entry_id"] for item in r.json()["items"]] == ["b-3"]

    await eventually(moved, timeout_s=20, what="the amended category")
    r = await api.http.get("/entries", params={"category": "C2"})
    assert r.json()["total"] == 0
    assert _facet(r.json(), "category") == {"C2": 0, "C4": 3, "C9": 1}


async def test_kept_pages_follow_amendments_at_once_and_votes_within_seconds(api: Api) -> None:
    async def shown(entry_id: str) -> dict[str, Any]:
        r = await api.http.get("/entries", params={"q": "solar"})
        return next(item for item in r.json()["items"] if item["entry_id"] == entry_id)

    assert (await shown("a-1"))["votes"] == 7
    assert (await shown("a-1"))["votes"] == 7, "served from the kept JSON"
    await _put(api.db, _entry("a-1", "Solar schools for girls"), edition=2026, version=2)

    async def retitled() -> bool:
        return bool((await shown("a-1"))["entry"]["title"] == "Solar schools for girls")

    # The sync drops the kept JSON when it sees the change: no waiting for it to expire.
    await eventually(retitled, timeout_s=4, what="the amended title in the search results")

    await Catalogue(api.db).add_votes({("a-1", 2026): (3, AT)})

    async def counted() -> bool:
        return bool((await shown("a-1"))["votes"] == 10)

    await eventually(counted, timeout_s=15, what="the new vote count in the search results")


@pytest.mark.parametrize(
    ("params", "status", "code", "says"),
    [
        ({"cursor": "not-a-cursor"}, 400, "invalid-cursor", "first page"),
        ({"cursor": ""}, 400, "invalid-cursor", "first page"),
        ({"country": "XX"}, 422, "invalid-input", "unknown country code 'XX'"),
        ({"country": "Kenya"}, 422, "invalid-input", "two-letter"),
        ({"sdg": "18"}, 422, "invalid-input", "sdg"),
        ({"region": "Atlantis"}, 422, "invalid-input", "region"),
        ({"limit": "0"}, 422, "invalid-input", "limit"),
        ({"limit": "101"}, 422, "invalid-input", "limit"),
        ({"edition": "99999999999999999999999"}, 422, "invalid-input", "edition"),
        ({"q": "x" * 201}, 422, "invalid-input", "q"),
    ],
)
async def test_bad_input_is_refused_with_a_reason(
    api: Api, params: dict[str, str], status: int, code: str, says: str
) -> None:
    r = await api.http.get("/entries", params=params)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == code
    assert says in r.text


async def test_odd_text_is_searched_not_refused(api: Api) -> None:
    for q in ["((((", "\\", "*", "\x00", "the of and", "ß", "日本語"]:
        r = await api.http.get("/entries", params={"q": q})
        assert r.status_code == 200, (q, r.text)


async def test_an_entry_page_and_the_index_metrics(api: Api) -> None:
    r = await api.http.get("/entries/a-1")
    assert (r.status_code, r.json()["votes"]) == (200, 7)
    r = await api.http.get("/entries/nope")
    assert r.status_code == 404
    r = await api.http.get("/metrics")
    assert "wsis_search_index_entries" in r.text
    assert "wsis_search_index_lag_seconds" in r.text
    r = await api.http.get("/readyz")
    assert r.json()["checks"]["mongodb"] is True
