"""`make up`'s demo data loads through the public APIs (and a second load changes nothing)."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import Platform, demo_tokens
from wsis_devstack.demo import DEMO_YEAR, OPEN_CALL_YEAR, load_demo_data, load_open_call

pytestmark = pytest.mark.e2e


async def test_the_demo_data_loads_once(platform: Platform, demo_data: str) -> None:
    assert "8 entries submitted and nominated" in demo_data
    assert "4 votes cast" in demo_data
    tokens = demo_tokens(platform)
    urls = {name: platform.url(name) for name in ("submissions", "review", "voting")}
    assert "already loaded" in await load_demo_data(urls, tokens)
    async with httpx.AsyncClient() as http:
        ballot = (await http.get(f"{platform.url('voting')}/editions/{DEMO_YEAR}/ballot")).json()
    assert sum(len(category["nominees"]) for category in ballot) == 8

    # The open call: an edition taking submissions, with one team's draft for its pages.
    assert "open for submissions" in await load_open_call(urls, tokens)
    assert "already open" in await load_open_call(urls, tokens)
    team = {"Authorization": f"Bearer {tokens.team('org-demo-0')}"}
    async with httpx.AsyncClient() as http:
        edition = (await http.get(f"{urls['submissions']}/editions/{OPEN_CALL_YEAR}")).json()
        drafts = await http.get(
            f"{urls['submissions']}/editions/{OPEN_CALL_YEAR}/entries", headers=team
        )
    assert edition["phase"] == "submission"
    assert [d["status"] for d in drafts.json()] == ["draft"]
