"""The web pages in a real browser: the four services and `python -m wsis_web` as processes on
the session's broker and mongod (their own topic and database prefixes), the demo data of
`make up`, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
from playwright.async_api import Browser, Page, ViewportSize, async_playwright

from tests.e2e.conftest import SERVICES, Platform, demo_tokens, free_port, wait_ready
from wsis_devstack.demo import DEMO_YEAR, load_demo_data
from wsis_devstack.smtp_sink import SmtpSink
from wsis_devstack.tools import CHROMIUM, axe_core_script
from wsis_shared.auth import ensure_dev_keys, sign_dev_token
from wsis_shared.vocabulary import Role

REPO: Final = Path(__file__).resolve().parents[2]
SCREENSHOTS: Final = REPO / "test-artifacts" / "screenshots"
MOBILE: Final = ViewportSize(width=360, height=740)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.web)


@dataclass
class Site:
    url: str
    platform: Platform
    year: int = DEMO_YEAR

    @property
    def mail(self) -> SmtpSink:
        assert self.platform.mail is not None
        return self.platform.mail


def _start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        argv, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def site(
    kafka_bootstrap: str,
    mongo_uri: str,
    topic_prefix: str,
    mongo_db_prefix: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Site]:
    if not CHROMIUM.exists() or not axe_core_script().exists():
        pytest.fail(
            "Chromium or axe-core missing: run `make tools` (python -m wsis_devstack ensure-tools)"
        )
    workdir = tmp_path_factory.mktemp("web")
    private_key, public_key = ensure_dev_keys(workdir / "keys")
    mail = SmtpSink(smtp_port=free_port(), http_port=free_port())
    platform = Platform(
        ports={service: free_port() for service in SERVICES},
        private_key=private_key.read_bytes(),
        mail=mail,
    )
    env = os.environ | {
        "WSIS_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "WSIS_MONGO_URI": mongo_uri,
        "WSIS_TOPIC_PREFIX": f"{topic_prefix}web.",
        "WSIS_MONGO_DB_PREFIX": f"{mongo_db_prefix}web_",
        "WSIS_JWT_PUBLIC_KEY_FILE": str(public_key),
        "WSIS_LOG_FORMAT": "json",
        "WSIS_VOTING_SMTP_HOST": mail.host,
        "WSIS_VOTING_SMTP_PORT": str(mail.smtp_port),
        "WSIS_VOTING_VOTER_TOKEN_PRIVATE_KEY_FILE": str(private_key),
    }
    web_port = free_port()
    web_env = env | {f"WSIS_WEB_{s.upper()}_URL": platform.url(s) for s in SERVICES}
    web_env |= {"WSIS_WEB_PORT": str(web_port), "WSIS_WEB_DEV_SIGN_IN_KEY_FILE": str(private_key)}
    mail.start()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for service in SERVICES:
            service_env = env | {
                f"WSIS_{service.upper()}_PORT": str(platform.ports[service]),
                f"WSIS_{service.upper()}_OUTBOX_POLL_INTERVAL_S": "0.05",
            }
            platform.processes[service] = _start(
                [sys.executable, "-m", f"wsis_{service}", "all"],
                service_env,
                workdir / f"{service}.log",
            )
            processes.append(platform.processes[service])
        web = _start([sys.executable, "-m", "wsis_web"], web_env, workdir / "web.log")
        processes.append(web)
        wait_ready(platform, workdir)
        _wait_for_web(f"http://127.0.0.1:{web_port}", web, workdir / "web.log")
        asyncio.run(
            load_demo_data({s: platform.url(s) for s in SERVICES}, demo_tokens(platform, voters=12))
        )
        yield Site(url=f"http://127.0.0.1:{web_port}", platform=platform)
    finally:
        _stop(processes)
        mail.stop()


def _wait_for_web(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"wsis_web exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("wsis_web did not answer within 30 s")


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            # The test machine runs as root, where Chromium's sandbox cannot start.
            args=["--no-sandbox"] if os.geteuid() == 0 else [],
        )
        yield launched
        await launched.close()


async def mobile_page(browser: Browser, **options: Any) -> Page:
    # bypass_csp: axe-core is injected as an inline script, which the site's policy forbids.
    context = await browser.new_context(
        viewport=MOBILE, device_scale_factor=1, bypass_csp=True, **options
    )
    return await context.new_page()


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (every rule axe runs by default: WCAG 2.0,
    2.1 and 2.2 A and AA, and its best practices)."""
    await page.add_script_tag(path=str(axe_core_script()))
    result: dict[str, Any] = await page.evaluate("() => axe.run(document)")
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "nodes": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in result["violations"]
    ]


async def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def staff_sign_in(
    page: Page,
    site: Site,
    role: Role,
    user_id: str,
    *,
    organisation: str | None = None,
    name: str | None = None,
    next_url: str = "/account",
) -> None:
    """Sign the page's browser in through the development sign-in form, as a person would."""
    await page.goto(f"{site.url}/account/sign-in?next={next_url}")
    await page.select_option("#role", role.value)
    await page.fill("#user_id", user_id)
    if name:
        await page.fill("#name", name)
    if organisation:
        await page.fill("#organisation", organisation)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.wait_for_load_state()


async def check(page: Page, name: str) -> None:
    """Every page: zero axe violations, and its screenshot (named `NN-what`, linked from the
    README)."""
    await screenshot(page, name)
    violations = await axe_violations(page)
    assert violations == [], f"{name}: {violations}"


def bearer(site: Site, subject: str, role: Role, org: str | None = None) -> dict[str, str]:
    """The header a caller of the services sends, signed with the site's development key."""
    signed = sign_dev_token(
        site.platform.private_key, subject=subject, roles=[role], organisation_id=org
    )
    return {"Authorization": f"Bearer {signed}"}


async def until_ok(call: Callable[[], Awaitable[httpx.Response]], what: str) -> httpx.Response:
    """Repeats `call` until a service accepts it (its events may still be on their way)."""
    deadline = time.monotonic() + 30
    while True:
        response = await call()
        if response.is_success:
            return response
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: {response.status_code} {response.text}")
        await asyncio.sleep(0.2)
