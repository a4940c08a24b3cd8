"""`python -m wsis_web`: serve the web pages (WSIS_WEB_HOST / WSIS_WEB_PORT, default :8000)."""

from __future__ import annotations

import uvicorn

from wsis_shared.logging import configure_logging
from wsis_web.app import create_app
from wsis_web.settings import WebSettings


def main() -> None:
    settings = WebSettings()
    configure_logging("web", settings.log_format, settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
