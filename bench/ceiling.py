"""The ceiling: a bare Starlette app returning one pre-serialized JSON body, the best this stack can do.

Run it under the same uvicorn as the mock (uvloop + httptools, no access log): `uvicorn bench.ceiling:app`.
`BENCH_CEILING_BODY` names a file holding the body (the harness writes a body the mock served, so sizes match).
`BENCH_CEILING_WORK_US` adds that many microseconds of busy work per request: a calibration of what a given amount of
application work costs in requests/s on this machine and stack.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_FILE = os.environ.get("BENCH_CEILING_BODY")
BODY = Path(_FILE).read_bytes() if _FILE else b'{"conversation_id":"ceiling","title":"' + b"x" * 400 + b'"}'
WORK = float(os.environ.get("BENCH_CEILING_WORK_US") or 0) / 1e6


async def conversation(request: Request) -> Response:
    return Response(BODY, media_type="application/json")


async def conversation_with_work(request: Request) -> Response:
    until = time.perf_counter() + WORK
    while time.perf_counter() < until:
        pass
    return Response(BODY, media_type="application/json")


app = Starlette(
    routes=[Route("/api/conversations/{conversation_id}", conversation_with_work if WORK else conversation)]
)
