"""`python -m wsis_shared dlq …` on-call's mistakes and outages: one line, exit status 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from wsis_devstack.processes import free_port

pytestmark = pytest.mark.integration


def dlq_list(*options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wsis_shared", "dlq", "list", *options],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_misspelt_topic_is_named_with_the_topics_there_are(kafka_bootstrap: str) -> None:
    answer = dlq_list("--topic", "wsis.reveiw.v1", "--bootstrap", kafka_bootstrap)

    assert answer.returncode == 2
    assert "'wsis.reveiw.v1' is not a platform topic" in answer.stderr
    assert "wsis.review.v1" in answer.stderr
    assert "Traceback" not in answer.stderr


def test_a_topic_missing_under_the_prefix_is_one_line(kafka_bootstrap: str) -> None:
    answer = dlq_list(
        "--topic", "wsis.review.v1", "--bootstrap", kafka_bootstrap, "--prefix", "nosuch_"
    )

    assert answer.returncode == 2
    assert answer.stderr.strip() == (
        "no topic 'nosuch_wsis.review.v1.dlq' on the broker (check --prefix / WSIS_TOPIC_PREFIX)"
    )


def test_a_broker_out_of_reach_is_named() -> None:
    nowhere = f"127.0.0.1:{free_port()}"

    answer = dlq_list("--topic", "wsis.review.v1", "--bootstrap", nowhere)

    assert answer.returncode == 2
    assert f"cannot reach Kafka at {nowhere} (WSIS_KAFKA_BOOTSTRAP)" in answer.stderr
    assert "Traceback" not in answer.stderr
