"""The README's walk-through for project teams runs as written, on the edition `make up` opens.

A team copies that block into a shell: if an edition year, a path or a field in it drifts from
the API, they are stuck at the first step. Here it runs with bash and curl against the platform,
only the token and the address swapped for the test's.
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

from tests.e2e.conftest import Platform
from wsis_devstack.demo import DemoTokens, load_open_call
from wsis_shared.auth import sign_dev_token
from wsis_shared.vocabulary import Role

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("curl") is None, reason="the README's examples use curl"),
]

README = Path(__file__).parents[2] / "README.md"
TOKEN_COMMAND = "$(make -s token ROLE=submitter ORG=org-demo SUB=team-1)"
ADDRESS = "S=http://127.0.0.1:8001"
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


async def test_the_project_teams_walk_through_runs_as_written(
    platform: Platform, tmp_path: Path
) -> None:
    def token(subject: str, role: Role, org: str | None = None) -> str:
        return sign_dev_token(
            platform.private_key, subject=subject, roles=[role], organisation_id=org
        )

    tokens = DemoTokens(
        admin=token("demo-admin", Role.ADMIN),
        chair=token("demo-chair", Role.CHAIR),
        voters=[],
        team=lambda org: token(f"demo-team-{org}", Role.SUBMITTER, org),
        reviewer=lambda subject: token(subject, Role.REVIEWER),
    )
    await load_open_call({"submissions": platform.url("submissions")}, tokens)

    block = bash_block_after("## For project teams: submitting an entry")
    assert TOKEN_COMMAND in block, "the walk-through gets its token differently now"
    assert ADDRESS in block, "the walk-through names the submissions service differently now"
    script = block.replace(TOKEN_COMMAND, token("team-1", Role.SUBMITTER, "org-demo")).replace(
        ADDRESS, f"S={platform.url('submissions')}"
    )
    (tmp_path / "report.pdf").write_bytes(REPORT_PDF)
    python_first = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    shell = await asyncio.create_subprocess_exec(
        "bash",
        "-euo",
        "pipefail",
        "-c",
        script,
        cwd=tmp_path,
        env=os.environ | {"PATH": python_first},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(shell.communicate(), timeout=60)
    assert shell.returncode == 0, stderr.decode()

    drafted, attached, refused, completed, submitted, amended, withdrawn, history = json_documents(
        stdout.decode()
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
