"""Where the local stack keeps its downloads and data: `.cache/` at the repository root."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]


def cache_dir() -> Path:
    path = Path(os.environ.get("WSIS_CACHE_DIR", REPO_ROOT / ".cache")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path
