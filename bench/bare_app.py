"""The ceiling of the HTTP benchmarks: a FastAPI endpoint that validates a body and does nothing
else, served by the same uvicorn the services use (`python -m bench.bare_app PORT [PROCESSES]`)."""

from __future__ import annotations

import sys
from typing import Any

import uvicorn
from fastapi import FastAPI, status

app = FastAPI()


@app.post("/bare", status_code=status.HTTP_201_CREATED)
async def bare(body: dict[str, Any]) -> dict[str, str]:
    return {"entry_id": "bare", "status": "draft"}


@app.get("/bare")
async def bare_read(q: str | None = None, limit: int = 20) -> dict[str, Any]:
    return {"items": [], "total": 0, "q": q, "limit": limit}


if __name__ == "__main__":
    processes = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    uvicorn.run(
        "bench.bare_app:app",
        host="127.0.0.1",
        port=int(sys.argv[1]),
        workers=processes,
        log_level="warning",
    )
