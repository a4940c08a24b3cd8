"""From nomination to champions and the winner, through the public APIs of all four services:
votes (some ruled out as a bot farm), the window closes, five finalists under the tie rule, the
bulletin of hashed receipts, the chair's winner, and what the public Stocktaking shows."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from tests.e2e.conftest import EditionAdmin, Platform
from tests.e2e.test_review import entry_content
from tests.e2e.test_walking_skeleton import schedule as skeleton_schedule
from tests.integration.helpers import eventually

pytestmark = pytest.mark.e2e

YEAR = 2037
ORGS = [f"org-{n}" for n in range(6)]
# Votes per nominee (by org index): org-3 and org-4 tie at the fourth place; org-4's last vote
# comes first, so org-4 ranks fourth and org-3 fifth. With the bots' votes org-5 would be a
# finalist; ruled out, it is not.
VOTES = {0: 6, 1: 5, 2: 4, 3: 2, 4: 2, 5: 1}
BOTS = 4
TITLES = [
    "Community radio for rural news",
    "Fact-checking desk for local elections",
    "Podcasts in indigenous languages",
    "Open archive of regional newspapers",
    "Training young video journalists",
    "Mobile newsroom on a river boat",
]


def schedule() -> dict[str, str]:
    return {
        name: value.replace(str(YEAR - 6), str(YEAR)) for name, value in skeleton_schedule().items()
    }


async def test_from_nomination_to_champions_and_the_winner(
    platform: Platform, mongo_uri: str, mongo_db_prefix: str
) -> None:
    admin = platform.headers(roles=["admin"], sub="admin-1")
    chair = platform.headers(roles=["chair"], sub="chair-1")
    submissions, review = platform.url("submissions"), platform.url("review")
    voting, stocktaking = platform.url("voting"), platform.url("stocktaking")

    async with httpx.AsyncClient(timeout=15) as http:
        edition = EditionAdmin(http, platform, YEAR)
        await edition.open(schedule())
        set_phase = edition.set_phase
        entry_of: dict[int, str] = {}
        for n, org in enumerate(ORGS):
            team = platform.headers(roles=["submitter"], sub=f"team-{org}", org=org)
            content = entry_content(100 + n, f"Organisation {n}", "BR") | {
                "category": "C9",
                "title": TITLES[n],
            }
            r = await http.post(
                f"{submissions}/editions/{YEAR}/entries", json=content, headers=team
            )
            assert r.status_code == 201, r.text
            entry_of[n] = r.json()["entry_id"]
            r = await http.post(f"{submissions}/entries/{entry_of[n]}/submit", headers=team)
            assert r.status_code == 200, r.text
        await set_phase("review")

        async def decided(entry_id: str, path: str, body: dict[str, Any]) -> bool:
            r = await http.post(f"{review}/candidates/{entry_id}/{path}", json=body, headers=chair)
            return r.status_code == 200

        for entry_id in entry_of.values():
            await eventually(
                lambda e=entry_id: decided(e, "eligibility", {"eligible": True}),  # type: ignore[misc]
                what="the entry to reach the review",
            )
            assert await decided(entry_id, "nomination", {"nominated": True})

        async def ballot_complete() -> bool:
            r = await http.get(f"{voting}/editions/{YEAR}/ballot")
            return sum(len(c["nominees"]) for c in r.json()) == len(ORGS)

        await eventually(ballot_complete, what="the ballot to hold every nominee")
        await set_phase("voting")

        receipts: dict[str, tuple[int, str]] = {}  # voter -> (nominee, receipt)

        async def cast(voter: str, nominee: int) -> None:
            headers = platform.headers(roles=["voter"], sub=voter)

            async def accepted() -> bool:
                r = await http.post(
                    f"{voting}/editions/{YEAR}/votes",
                    json={"category": "C9", "entry_id": entry_of[nominee]},
                    headers=headers,
                )
                if r.status_code == 201:
                    receipts[voter] = (nominee, r.json()["receipt_id"])
                return r.status_code == 201

            await eventually(accepted, what=f"{voter}'s vote to be accepted")

        # Order matters for the tie: org-3's last vote comes after org-4's.
        for nominee in (0, 1, 2, 4, 3, 5):
            for n in range(VOTES[nominee]):
                await cast(f"voter-{nominee}-{n}", nominee)
        for n in range(BOTS):
            await cast(f"bot-{n}", 5)

        # An admin rules the bot farm out before the window closes.
        rule = {"reason": "one script, many accounts", "voters": [f"bot-{n}" for n in range(BOTS)]}
        r = await http.post(
            f"{voting}/editions/{YEAR}/invalidations", json=rule | {"dry_run": True}, headers=admin
        )
        assert r.json()["votes_ruled_out"] == BOTS
        r = await http.post(f"{voting}/editions/{YEAR}/invalidations", json=rule, headers=admin)
        assert r.status_code == 200, r.text
        voter = platform.headers(roles=["voter"], sub="voter-0-0")
        r = await http.post(f"{voting}/editions/{YEAR}/invalidations", json=rule, headers=voter)
        assert r.status_code == 403

        async def tally_settled() -> bool:
            r = await http.get(f"{voting}/editions/{YEAR}/tally/verify", headers=admin)
            check = r.json()
            return bool(
                check["ok"]
                and check["uncounted_votes"] == 0
                and check["counted_votes"] == sum(VOTES.values())
            )

        await eventually(tally_settled, what="the tally to count every valid vote")

        # The live stream: admins see running counts, the public does not (edition setting).
        async def first_event(headers: dict[str, str]) -> dict[str, Any]:
            url = f"{voting}/editions/{YEAR}/results/C9/stream"
            async with http.stream("GET", url, headers=headers) as stream:
                assert stream.headers["content-type"].startswith("text/event-stream")
                async for line in stream.aiter_lines():
                    if line.startswith("data:"):
                        return dict(json.loads(line.removeprefix("data:").strip()))
            raise AssertionError("the stream ended without an event")

        live = await first_event(admin)
        assert sorted(n["votes"] for n in live["nominees"]) == sorted(VOTES.values())
        public = await first_event({})
        assert {n["votes"] for n in public["nominees"]} == {None}
        voter_token = await first_event(platform.headers(roles=["voter"], sub="voter-1-0"))
        assert voter_token["counts_public"] is False, "a voter's token is just the public view"

        # Until the results are decided each vote keeps its client address (for rulings).
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri)
        votes = mongo[f"{mongo_db_prefix}e2e_voting"]["votes"]
        with_address = {"edition": YEAR, "ip": {"$exists": True}}
        assert await votes.count_documents(with_address) > 0

        # The window closes: five finalists, once, under the tie rule.
        await set_phase("selection")

        async def champions_out() -> bool:
            r = await http.get(f"{voting}/editions/{YEAR}/champions")
            return len(r.json()) == 1

        await eventually(champions_out, what="the finalists to be decided")
        # While the expert group judges, the public sees who the finalists are, not their votes
        # (the edition hides running counts); admins see everything.
        [hidden] = (await http.get(f"{voting}/editions/{YEAR}/champions")).json()
        assert {f["votes"] for f in hidden["finalists"]} == {None}
        assert hidden["valid_votes"] is None
        r = await http.get(f"{voting}/editions/{YEAR}/bulletins/C9")
        assert r.status_code == 409, "its counts are published with the results"
        [c9] = (await http.get(f"{voting}/editions/{YEAR}/champions", headers=admin)).json()
        finalists = [f["entry_id"] for f in c9["finalists"]]
        assert sorted(finalists) == sorted(f["entry_id"] for f in hidden["finalists"])
        assert finalists[:3] == [entry_of[0], entry_of[1], entry_of[2]]
        assert finalists[3] == entry_of[4], "equal votes: the one that got there first"
        assert finalists[4] == entry_of[3]
        assert entry_of[5] not in finalists, "the bots' votes do not count"
        assert [f["votes"] for f in c9["finalists"]] == [6, 5, 4, 2, 2]

        # Decided: no ruling needs the voters' addresses any more; they are erased.
        async def addresses_erased() -> bool:
            return await votes.count_documents(with_address) == 0

        await eventually(addresses_erased, what="the voters' addresses to be erased")
        await mongo.close()

        # Each voter finds their receipt in the bulletin; each count equals its hashes.
        r = await http.get(f"{voting}/editions/{YEAR}/bulletins/C9", headers=admin)
        bulletin = r.json()
        hashes = {n["entry_id"]: n["receipt_hashes"] for n in bulletin["nominees"]}
        nominee, receipt = receipts["voter-2-0"]
        mine = hashlib.sha256(f"{bulletin['salt']}:{receipt}".encode()).hexdigest()
        assert mine in hashes[entry_of[nominee]]
        bot_nominee, bot_receipt = receipts["bot-0"]
        bot_hash = hashlib.sha256(f"{bulletin['salt']}:{bot_receipt}".encode()).hexdigest()
        assert bot_hash not in hashes[entry_of[bot_nominee]]
        assert {e: len(h) for e, h in hashes.items()} == {entry_of[n]: VOTES[n] for n in VOTES}
        assert bulletin["valid_votes"] == c9["valid_votes"] == sum(VOTES.values())
        assert c9["votes_for_withdrawn"] == 0

        # The review receives the finalists; the chair picks the winner among them.
        async def winner_selected() -> bool:
            r = await http.post(
                f"{review}/editions/{YEAR}/categories/C9/winner",
                json={"entry_id": entry_of[1]},
                headers=chair,
            )
            return r.status_code == 200

        await eventually(winner_selected, what="the finalists to reach the review")
        r = await http.post(
            f"{review}/editions/{YEAR}/categories/C9/winner",
            json={"entry_id": entry_of[0]},
            headers=chair,
        )
        assert r.status_code == 409, "one winner per category"

        # The public Stocktaking database shows the winner and the champions.
        expected = ["champion", "winner", "champion", "champion", "champion", "nominated"]
        seen: list[str] = []

        async def stocktaking_shows_results() -> bool:
            seen[:] = []
            for n in range(len(ORGS)):
                r = await http.get(f"{stocktaking}/entries/{entry_of[n]}")
                seen.append(r.json()["status"])
            return seen == expected

        try:
            await eventually(stocktaking_shows_results, what="stocktaking to show the results")
        finally:
            assert seen == expected

        # Once results are out the public sees the counts: the bots' votes are not among them.
        await set_phase("results")

        async def counts_public() -> bool:
            votes = []
            for n in range(len(ORGS)):
                r = await http.get(f"{stocktaking}/entries/{entry_of[n]}")
                votes.append(r.json()["votes"])
            return votes == [VOTES[n] for n in range(len(ORGS))]

        await eventually(counts_public, what="stocktaking's counts without the ruled-out votes")

        async def bulletin_public() -> bool:
            r = await http.get(f"{voting}/editions/{YEAR}/bulletins/C9")
            return r.status_code == 200

        await eventually(bulletin_public, what="the bulletin to be published with the results")
        r = await http.get(f"{voting}/editions/{YEAR}/bulletins/C9")
        assert r.json() == bulletin, "the one the admin saw"
        [public] = (await http.get(f"{voting}/editions/{YEAR}/champions")).json()
        assert public["finalists"] == c9["finalists"]
