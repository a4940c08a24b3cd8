"""The README's walk-throughs for project teams and voters run as written, on `make up`'s data.

A reader copies such a block into a shell: if an edition year, a path or a field in it drifts
from the API, they are stuck at the first step. Here each runs with bash and curl against the
platform, only tokens and addresses swapped for the test's.
"""

from __future__ import annotations

import asyncio
import json
import os
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
TOKEN_COMMAND = "$(make -s token ROLE=submitter ORG=org-demo SUB=team-1)"
ADDRESS = "S=http://127.0.0.1:8001"
VOTING = "http://127.0.0.1:8003"
MAIL = "http://127.0.0.1:8025"
# The smallest PDF whose type is sniffed from its bytes.
REPORT_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def bash_block_after(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n{heading}\n")
    fence = text.index("```bash\n", start) + len("```bash\n")
    return text[fence : text.index("```", fence)]


def json_documents(output: str) -> list[Any]:
    """curl prints the answers back to back: split them."""
    decoder, documents, at = json.JSONDecoder(), [], 0
    while at < len(output):
        document, at = decoder.raw_decode(output, at)
        documents.append(document)
        while at < len(output) and output[at].isspace():
            at += 1
    return documents


async def run_bash(script: str, cwd: Path) -> str:
    """What the script printed; it must succeed (`python3` is this interpreter)."""
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
    stdout, stderr = await asyncio.wait_for(shell.communicate(), timeout=60)
    assert shell.returncode == 0, stderr.decode()
    return stdout.decode()


async def test_the_project_teams_walk_through_runs_as_written(
    platform: Platform, tmp_path: Path
) -> None:
    tokens = demo_tokens(platform)
    await load_open_call({"submissions": platform.url("submissions")}, tokens)

    block = bash_block_after("## For project teams: submitting an entry")
    assert TOKEN_COMMAND in block, "the walk-through gets its token differently now"
    assert ADDRESS in block, "the walk-through names the submissions service differently now"
    script = block.replace(
        TOKEN_COMMAND,
        sign_dev_token(
            platform.private_key,
            subject="team-1",
            roles=[Role.SUBMITTER],
            organisation_id="org-demo",
        ),
    ).replace(ADDRESS, f"S={platform.url('submissions')}")
    (tmp_path / "report.pdf").write_bytes(REPORT_PDF)
    output = await run_bash(script, cwd=tmp_path)

    drafted, attached, refused, completed, submitted, amended, withdrawn, history = json_documents(
        output
    )
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
    assert platform.mail is not None
    block = bash_block_after("## Voters")
    for written in (VOTING, MAIL):
        assert written in block, f"the walk-through no longer uses {written}"
    script = block.replace(VOTING, platform.url("voting")).replace(
        MAIL, f"http://{platform.mail.host}:{platform.mail.http_port}"
    )

    asked, receipt, refused, mine = json_documents(await run_bash(script, cwd=tmp_path))
    assert asked["status"] == "accepted"
    assert receipt["edition"] == DEMO_YEAR
    assert refused["status"] == 409
    assert refused["code"] == "already-voted"
    assert refused["receipt_id"] == receipt["receipt_id"]
    assert mine == [receipt]
