"""The README's walk-throughs run as written: for project teams, for voters, and the walking
skeleton across the four services, on `make up`'s data.

A reader copies such a block into a shell: if an edition year, a path or a field in it drifts
from the API, or a step races the events it depends on, they are stuck. Here each runs whole
with bash and curl against the platform, only tokens and addresses swapped for the test's.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Platform, demo_tokens
from wsis_devstack.demo import DEMO_YEAR, load_open_call
from wsis_shared.auth import sign_dev_token
from wsis_shared.vocabulary import Role

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("curl") is None, reason="the README's examples use curl"),
]

README = Path(__file__).parents[2] / "README.md"
# `make token ROLE=… [ORG=…] [SUB=…]`, as the README's blocks call it.
TOKEN_COMMAND = re.compile(r"\$\(make -s token ROLE=(\w+)(?: ORG=([\w-]+))?(?: SUB=([\w-]+))?\)")
# Where `make up` serves each service and the mail sink.
MAKE_UP_PORTS = {"submissions": 8001, "review": 8002, "voting": 8003, "stocktaking": 8004}
MAKE_UP_MAIL = "http://127.0.0.1:8025"
# The smallest PDF whose type is sniffed from its bytes.
REPORT_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def bash_block_after(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n{heading}\n")
    fence = text.index("```bash\n", start) + len("```bash\n")
    return text[fence : text.index("```", fence)]


def for_the_platform(block: str, platform: Platform) -> str:
    """The block with the test's tokens and addresses instead of `make up`'s."""

    def token(match: re.Match[str]) -> str:
        role, organisation, subject = match.groups()
        return sign_dev_token(
            platform.private_key,
            subject=subject or "dev-user",
            roles=[Role(role)],
            organisation_id=organisation,
        )

    script = TOKEN_COMMAND.sub(token, block)
    assert "$(make" not in script, "a README block calls make in a way this test does not know"
    for service, port in MAKE_UP_PORTS.items():
        script = script.replace(f"http://127.0.0.1:{port}", platform.url(service))
    if platform.mail is not None:
        mail = f"http://{platform.mail.host}:{platform.mail.http_port}"
        script = script.replace(MAKE_UP_MAIL, mail)
    return script


def json_documents(output: str) -> list[Any]:
    """curl prints the answers back to back: split them."""
    decoder, documents, at = json.JSONDecoder(), [], 0
    while at < len(output):
        document, at = decoder.raw_decode(output, at)
        documents.append(document)
        while at < len(output) and output[at].isspace():
            at += 1
    return documents


async def run_bash(script: str, cwd: Path) -> list[Any]:
    """The answers the script printed; it must succeed (`python3` is this interpreter)."""
    python_first = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    shell = await asyncio.create_subprocess_exec(
        "bash",
        "-euo",
        "pipefail",
        "-c",
        script,
        cwd=cwd,
        env=os.environ | {"PATH": python_first},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(shell.communicate(), timeout=90)
    assert shell.returncode == 0, stderr.decode()
    return json_documents(stdout.decode())


async def test_the_project_teams_walk_through_runs_as_written(
    platform: Platform, tmp_path: Path
) -> None:
    await load_open_call({"submissions": platform.url("submissions")}, demo_tokens(platform))
    block = bash_block_after("## For project teams: submitting an entry")
    (tmp_path / "report.pdf").write_bytes(REPORT_PDF)

    answers = await run_bash(for_the_platform(block, platform), cwd=tmp_path)

    drafted, attached, refused, completed, submitted, amended, withdrawn, history = answers
    assert drafted["status"] == "draft"
    assert drafted["content"]["sdgs"] == [4, 7]
    assert attached["content_type"] == "application/pdf"
    assert refused["status"] == 422
    assert "/short_description" in [error["pointer"] for error in refused["errors"]]
    assert completed["status"] == "draft"
    assert submitted["status"] == "submitted"
    assert amended["content"]["title"] == "Solar classrooms for 60 schools"
    assert withdrawn["status"] == "withdrawn"
    assert [record["action"] for record in history] == [
        "created",
        "edited",
        "attached",
        "edited",
        "submitted",
        "amended",
        "withdrawn",
    ]


async def test_the_voters_walk_through_runs_as_written(
    platform: Platform, demo_data: str, tmp_path: Path
) -> None:
    assert MAKE_UP_MAIL in bash_block_after("## Voters")

    answers = await run_bash(for_the_platform(bash_block_after("## Voters"), platform), tmp_path)

    asked, receipt, refused, mine = answers
    assert asked["status"] == "accepted"
    assert receipt["edition"] == DEMO_YEAR
    assert refused["status"] == 409
    assert refused["code"] == "already-voted"
    assert refused["receipt_id"] == receipt["receipt_id"]
    assert mine == [receipt]


async def test_the_walking_skeleton_by_hand_runs_as_written_pasted_whole(
    platform: Platform, tmp_path: Path
) -> None:
    block = bash_block_after("## The walking skeleton by hand (curl)")

    answers = await run_bash(for_the_platform(block, platform), tmp_path)

    edition, *phases_and_steps = answers
    assert edition["year"] == 2028
    submitted, eligible, nominated, receipt, refused, ballot, results, stocktaking = [
        answer for answer in phases_and_steps if "schedule" not in answer
    ]
    entry_id = submitted["entry_id"]
    assert submitted["status"] == "submitted"
    assert eligible["status"] == "eligible"
    assert nominated["status"] == "nominated"
    assert receipt["entry_id"] == entry_id
    assert refused["code"] == "already-voted"
    assert [n["entry_id"] for c in ballot for n in c["nominees"]] == [entry_id]
    assert [(n["nominee"]["entry_id"], n["votes"]) for n in results["nominees"]] == [(entry_id, 1)]
    assert stocktaking["status"] == "nominated"
    assert stocktaking["votes"] == 1
