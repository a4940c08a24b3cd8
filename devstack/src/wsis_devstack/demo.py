"""Demo data for `make up`, loaded through the public HTTP APIs only (as a real client would).

Creates edition 2027, eight entries from eight organisations in four categories, an expert
group of four reviewers who score them all, nominates them and opens voting with a few votes
cast, so every page of the platform has something to show.
`load_open_call` adds edition 2029, open for submissions with one team's draft in it, for the
project teams' pages. Loading twice is harmless: an existing edition means it is already there.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx

DEMO_YEAR = 2027
OPEN_CALL_YEAR = DEMO_YEAR + 2  # 2028 is the README's walk-through by hand

_PROJECTS: list[tuple[str, str, str, str, str, list[int]]] = [
    # (title, category, country, stakeholder type, organisation, SDGs)
    ("Solar classrooms for digital skills", "C4", "KE", "civil society", "Open Schools", [4, 7]),
    ("Coding clubs for girls in secondary schools", "C4", "PE", "academia", "Univ. Andina", [4, 5]),
    ("National e-ID for public services", "C7.e-government", "EE", "government", "RIA", [16]),
    (
        "Tele-consultations for remote clinics",
        "C7.e-health",
        "IN",
        "private sector",
        "MedLink",
        [3],
    ),
    ("Farmers' market prices by SMS", "C7.e-agriculture", "SN", "civil society", "AgriSMS", [2, 1]),
    ("Community networks in mountain villages", "C2", "NP", "civil society", "Mesh Nepal", [9]),
    ("Open data portal for public budgets", "C7.e-government", "UY", "government", "AGESIC", [16]),
    ("Digital literacy buses", "C4", "MA", "international organisation", "Digital Bus", [4, 10]),
]


_SENTENCES = [
    "Local volunteers were trained first, so the work continued when the grant ended.",
    "Women and girls make up more than half of the people who took part.",
    "Everything runs on low-cost phones and works offline when the network is down.",
    "The team published its software and training material under open licences.",
    "A district council now pays for the service from its own budget.",
    "Community radio helped reach families who do not read or write.",
    "Each site is run by a committee elected by the people it serves.",
    "Data about users is kept in the country and never sold.",
    "Partners from universities measured the results every six months.",
    "Schools, clinics and markets were the first places to be connected.",
    "The project translated its interfaces into four local languages.",
    "Solar power keeps the equipment running through long power cuts.",
    "Young graduates were hired as technicians and now train others.",
    "A helpline answers questions in person, by phone and by message.",
    "Costs fell by a third once the second phase reached full scale.",
    "Government agencies adopted the approach for three other regions.",
    "Older people learned to use the tools in weekly afternoon classes.",
    "Farmers, traders and teachers designed the services with the team.",
    "An independent review confirmed the gains two years after launch.",
    "The lessons learned are shared freely with projects in other countries.",
    "People with disabilities tested every screen before it was released.",
    "Mobile money made small payments possible where banks are far away.",
    "Weather alerts now arrive hours earlier than they did before.",
    "Libraries opened their rooms in the evening for the training sessions.",
]


def _short_description(number: int, title: str) -> str:
    """About 170 words: the project's own opening, then sentences in a project-specific order
    (each project a different text, as the near-duplicate check expects of real entries)."""
    rng = random.Random(number)  # noqa: S311 - demo text, not security
    sentences = [f"{title} is a project of its community, started to close a digital gap."]
    pool = _SENTENCES[:]
    rng.shuffle(pool)
    words = len(sentences[0].split())
    for sentence in pool:
        if words >= 165:
            break
        sentences.append(sentence)
        words += len(sentence.split())
    return " ".join(sentences)


@dataclass(frozen=True)
class DemoTokens:
    admin: str
    chair: str
    voters: list[str]
    team: Callable[[str], str]
    reviewer: Callable[[str], str]


DEMO_REVIEWERS = [
    ("demo-reviewer-1", "Amina Diallo", "University of Dakar", "SN", ["fr", "en"]),
    ("demo-reviewer-2", "Li Wei", "Tsinghua University", "CN", ["zh", "en"]),
    ("demo-reviewer-3", "Olga Petrova", "Moscow ICT Centre", "RU", ["ru", "en"]),
    ("demo-reviewer-4", "Carlos Ruiz", "CEPAL", "CL", ["es", "en"]),
]
_CRITERIA = ("impact", "innovation", "sustainability", "replicability", "alignment")


def _schedule(year: int = DEMO_YEAR) -> dict[str, str]:
    return {
        "submission_opens": f"{year}-01-10T00:00:00Z",
        "submission_closes": f"{year}-02-10T00:00:00Z",
        "review_closes": f"{year}-03-10T00:00:00Z",
        "voting_opens": f"{year}-03-11T00:00:00Z",
        "voting_closes": f"{year}-04-10T00:00:00Z",
        "results_at": f"{year}-04-20T00:00:00Z",
        "ceremony_at": f"{year}-05-05T00:00:00Z",
    }


async def _until_ok(
    call: Callable[[], Awaitable[httpx.Response]], what: str, timeout_s: float = 30.0
) -> httpx.Response:
    """Retry a call that depends on an event still travelling between services."""
    deadline = time.monotonic() + timeout_s
    while True:
        response = await call()
        if response.is_success or time.monotonic() > deadline:
            if not response.is_success:
                raise RuntimeError(f"demo data: {what} failed: {response.text}")
            return response
        await asyncio.sleep(0.2)


async def load_demo_data(urls: Mapping[str, str], tokens: DemoTokens) -> str:
    """Load the demo; returns a one-line summary for the console."""
    s, r, v = urls["submissions"], urls["review"], urls["voting"]

    def auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    async with httpx.AsyncClient(timeout=10) as http:
        existing = await http.get(f"{s}/editions/{DEMO_YEAR}")
        if existing.status_code == 200:
            return f"demo edition {DEMO_YEAR} already loaded (phase {existing.json()['phase']})"

        async def phase(name: str) -> None:
            response = await http.post(
                f"{s}/editions/{DEMO_YEAR}/phase", json={"phase": name}, headers=auth(tokens.admin)
            )
            response.raise_for_status()

        created = await http.post(
            f"{s}/editions",
            json={"year": DEMO_YEAR, "title": f"WSIS Prizes {DEMO_YEAR}", "schedule": _schedule()},
            headers=auth(tokens.admin),
        )
        created.raise_for_status()
        await phase("submission")

        entry_ids: list[tuple[str, str]] = []
        for number, (title, category, country, stakeholder, org_name, sdgs) in enumerate(_PROJECTS):
            team = auth(tokens.team(f"org-demo-{number}"))
            body: dict[str, Any] = {
                "title": title,
                "short_description": _short_description(number, title),
                "full_description": f"{title}: how it started, who took part, what it achieved.",
                "category": category,
                "sdgs": sdgs,
                "country": country,
                "stakeholder_type": stakeholder,
                "organisation_name": org_name,
                "impact_qualitative": f"{title} reached people in places no project had reached.",
                "beneficiaries": "communities, schools and local public services",
                "start_date": f"{DEMO_YEAR - 3}-03-01",
                "project_status": "completed",
                "contact_name": f"{org_name} team",
                "contact_email": f"contact@org-demo-{number}.example.org",
            }
            draft = await http.post(f"{s}/editions/{DEMO_YEAR}/entries", json=body, headers=team)
            draft.raise_for_status()
            entry_id = draft.json()["entry_id"]
            (await http.post(f"{s}/entries/{entry_id}/submit", headers=team)).raise_for_status()
            entry_ids.append((entry_id, category))

        chair = auth(tokens.chair)
        for reviewer_id, name, organisation, country, languages in DEMO_REVIEWERS:
            added = await http.post(
                f"{r}/reviewers",
                json={
                    "reviewer_id": reviewer_id,
                    "name": name,
                    "email": f"{reviewer_id}@example.org",
                    "organisation": organisation,
                    "country": country,
                    "languages": languages,
                    "categories": sorted({category for _, category in entry_ids}),
                    "max_load": 20,
                },
                headers=chair,
            )
            if added.status_code != 409:  # already there from an earlier demo
                added.raise_for_status()

        await phase("review")
        for entry_id, _ in entry_ids:
            eligible = partial(
                http.post,
                f"{r}/candidates/{entry_id}/eligibility",
                json={"eligible": True},
                headers=chair,
            )
            await _until_ok(eligible, f"marking {entry_id} eligible")
        (
            await http.post(f"{r}/editions/{DEMO_YEAR}/assignments/run", headers=chair)
        ).raise_for_status()
        for number, (reviewer_id, *_) in enumerate(DEMO_REVIEWERS):
            reviewer = auth(tokens.reviewer(reviewer_id))
            mine = await http.get(
                f"{r}/me/assignments", params={"year": DEMO_YEAR}, headers=reviewer
            )
            mine.raise_for_status()
            for position, assignment in enumerate(mine.json()):
                entry_id = assignment["entry"]["entry_id"]
                marks = {
                    key: {"score": 4 + (number + position + offset) % 6, "comment": "Seen."}
                    for offset, key in enumerate(_CRITERIA)
                }
                review = {"scores": marks, "recommendation": "nominate"}
                url = f"{r}/me/assignments/{entry_id}/review"
                (await http.patch(url, json=review, headers=reviewer)).raise_for_status()
                (await http.post(f"{url}/submit", headers=reviewer)).raise_for_status()
        nominated = await http.post(
            f"{r}/editions/{DEMO_YEAR}/nominations",
            json={"top_per_category": 10, "reason": "demo: every eligible entry"},
            headers=chair,
        )
        nominated.raise_for_status()

        await phase("voting")
        votes = 0
        for voter_number, voter in enumerate(tokens.voters):
            entry_id, category = entry_ids[voter_number % len(entry_ids)]
            cast = partial(
                http.post,
                f"{v}/editions/{DEMO_YEAR}/votes",
                json={"category": category, "entry_id": entry_id},
                headers=auth(voter),
            )
            await _until_ok(cast, "casting a demo vote")
            votes += 1
    return (
        f"demo edition {DEMO_YEAR}: {len(entry_ids)} entries submitted and nominated, "
        f"voting open, {votes} votes cast"
    )


async def load_open_call(urls: Mapping[str, str], tokens: DemoTokens) -> str:
    """Edition 2029 in its submission phase, with a draft of the first demo organisation."""
    s = urls["submissions"]
    admin = {"Authorization": f"Bearer {tokens.admin}"}
    async with httpx.AsyncClient(timeout=10) as http:
        if (await http.get(f"{s}/editions/{OPEN_CALL_YEAR}")).status_code == 200:
            return f"edition {OPEN_CALL_YEAR} already open for submissions"
        body = {
            "year": OPEN_CALL_YEAR,
            "title": f"WSIS Prizes {OPEN_CALL_YEAR}",
            "schedule": _schedule(OPEN_CALL_YEAR),
        }
        (await http.post(f"{s}/editions", json=body, headers=admin)).raise_for_status()
        moved = await http.post(
            f"{s}/editions/{OPEN_CALL_YEAR}/phase", json={"phase": "submission"}, headers=admin
        )
        moved.raise_for_status()
        team = {"Authorization": f"Bearer {tokens.team('org-demo-0')}"}
        draft = {
            "title": "Solar classrooms, second phase: teacher training",
            "category": "C4",
            "country": "KE",
            "organisation_name": "Open Schools",
        }
        created = await http.post(
            f"{s}/editions/{OPEN_CALL_YEAR}/entries", json=draft, headers=team
        )
        created.raise_for_status()
    return f"edition {OPEN_CALL_YEAR} open for submissions (a draft of org-demo-0)"
