"""What an operator sees while the broker is down: every API stays alive (`/healthz`) but says it
is not ready (`/readyz` names Kafka), submissions are still accepted and wait in the outbox
(`wsis_outbox_pending`), and once the broker is back the backlog drains and the consumers'
lag (`wsis_consumer_lag`) returns to zero."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.faults.conftest import SERVICES, SplitPlatform
from tests.integration.helpers import eventually
from wsis_devstack.pytest_plugin import BrokerControl
from wsis_shared.vocabulary import Role

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(600)]

YEAR = 2062


def metric(text: str, name: str, **labels: str) -> list[float]:
    """The values of `name` whose labels include `labels`, from a Prometheus text page."""
    values = []
    for line in text.splitlines():
        match = re.match(rf"^{name}\{{(.*)\}} (\S+)$", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            values.append(float(match.group(2)))
    return values


async def test_readiness_outbox_backlog_and_consumer_lag_while_the_broker_is_down(
    split_platform: SplitPlatform, broker: BrokerControl, topic_prefix: str
) -> None:
    platform = split_platform
    admin = platform.headers(roles=[Role.ADMIN], sub="faults-admin")
    submissions = platform.url("submissions")
    schedule = {
        "submission_opens": f"{YEAR}-01-10T00:00:00Z",
        "submission_closes": f"{YEAR}-02-10T00:00:00Z",
        "review_closes": f"{YEAR}-03-10T00:00:00Z",
        "voting_opens": f"{YEAR}-03-11T00:00:00Z",
        "voting_closes": f"{YEAR}-04-10T00:00:00Z",
        "results_at": f"{YEAR}-04-20T00:00:00Z",
    }
    async with httpx.AsyncClient(timeout=30) as http:
        await broker.stop(crash=True)
        try:

            async def none_ready() -> bool:
                for service in SERVICES:
                    ready = await http.get(f"{platform.url(service)}/readyz")
                    if ready.status_code != 503 or ready.json()["checks"]["kafka"] is not False:
                        return False
                return True

            await eventually(none_ready, timeout_s=30, what="/readyz to report Kafka down")
            for service in SERVICES:
                alive = await http.get(f"{platform.url(service)}/healthz")
                assert alive.status_code == 200
                ready = (await http.get(f"{platform.url(service)}/readyz")).json()
                assert ready["checks"]["mongodb"] is True

            # Accepted while the broker is down: the events wait in the outbox.
            created = await http.post(
                f"{submissions}/editions",
                json={"year": YEAR, "title": f"WSIS Prizes {YEAR}", "schedule": schedule},
                headers=admin,
            )
            assert created.status_code == 201, created.text

            async def backlog_shown() -> bool:
                page = await http.get(platform.worker_metrics_url("submissions"))
                return any(v >= 1 for v in metric(page.text, "wsis_outbox_pending"))

            await eventually(backlog_shown, timeout_s=30, what="the outbox backlog metric")
        finally:
            await broker.start()

        async def all_ready() -> bool:
            for service in SERVICES:
                if (await http.get(f"{platform.url(service)}/readyz")).status_code != 200:
                    return False
            return True

        await eventually(all_ready, timeout_s=60, what="/readyz once the broker is back")

        async def backlog_drained() -> bool:
            page = await http.get(platform.worker_metrics_url("submissions"))
            values = metric(page.text, "wsis_outbox_pending")
            return bool(values) and all(v == 0 for v in values)

        await eventually(backlog_drained, timeout_s=60, what="the outbox to drain")

        async def review_caught_up() -> bool:
            page = await http.get(platform.worker_metrics_url("review"))
            lags = metric(page.text, "wsis_consumer_lag", topic=f"{topic_prefix}wsis.editions.v1")
            return bool(lags) and all(v == 0 for v in lags)

        await eventually(review_caught_up, timeout_s=60, what="review's consumer lag at zero")
