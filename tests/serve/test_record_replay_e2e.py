"""Record, then replay, end to end (the real CLI on loopback): `mockserver proxy --no-cors --record DIR` in front of an
upstream that behaves as real OpenHands 0.53.0 does where the mock used to differ, then `mockserver serve --fixtures
DIR` given the same key answers every probe as the upstream did: a HEAD it refuses (on every id, once refused on one),
the keyed and keyless answers of one request, its CORS policy (localhost origins on any port, preflights included)."""

from __future__ import annotations

import json

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.serve import openhands_upstream as oh
from tests.support import CONVERSATION, KEY_HEADER, Served, serve

pytestmark = pytest.mark.e2e
KEY = {KEY_HEADER: oh.KEY}
LOCAL, OTHER_PORT, EVIL = "http://localhost:3001", "http://localhost:5173", "https://evil.example"
SHOWN = ("content-type", "allow", "access-control-allow-origin", "access-control-allow-credentials",
         "access-control-allow-methods", "access-control-allow-headers", "access-control-max-age")  # fmt: skip
PREFLIGHT = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": KEY_HEADER.lower()}
PROBES = [
    ("GET", "running", KEY), ("GET", "running", {}), ("GET", "public", KEY), ("GET", "public", {}),
    ("GET", "unknown", KEY), ("HEAD", "running", KEY), ("HEAD", "public", {}),
    ("OPTIONS", "running", {"Origin": LOCAL, **PREFLIGHT}), ("OPTIONS", "running", {"Origin": EVIL, **PREFLIGHT}),
    ("GET", "running", {**KEY, "Origin": LOCAL}), ("GET", "running", {**KEY, "Origin": OTHER_PORT}),
    ("GET", "running", {**KEY, "Origin": EVIL}),
]  # fmt: skip
UNSEEN = [("HEAD", "never-recorded", KEY), ("HEAD", "unknown", {})]  # not sent through the proxy


async def conversation(request: Request) -> Response:
    cid, keyed = request.path_params["conversation_id"], request.headers.get(KEY_HEADER) == oh.KEY
    if request.method == "HEAD":  # FastAPI routes GET only: HEAD is refused
        return JSONResponse({"detail": "Method Not Allowed"}, 405, headers={"allow": "GET"})
    if cid == "public":  # answered without a key too, differently
        return JSONResponse(oh.conversation(cid, "RUNNING" if keyed else "STOPPED"))
    if not keyed:
        return JSONResponse({"detail": "Unauthorized"}, 401)
    return JSONResponse(oh.CONVERSATIONS.get(cid), headers={"cache-control": "no-store"})


def upstream() -> Starlette:
    cors = Middleware(CORSMiddleware, allow_origin_regex=r"https?://(localhost|127\.0\.0\.1)(:\d+)?",  # type: ignore[arg-type]
                      allow_credentials=True, allow_methods=["*"], allow_headers=["*"])  # fmt: skip
    route = Route("/api/conversations/{conversation_id}", conversation, methods=["GET", "HEAD"])
    return Starlette(routes=[route], middleware=[cors])


Probe = tuple[str, str, dict[str, str]]


def probe(base: str, probes: list[Probe] = PROBES) -> list[tuple[str, int, str, dict[str, str]]]:
    with httpx.Client(base_url=base, timeout=30, trust_env=False) as client:
        answers = []
        for method, cid, headers in probes:
            answer = client.request(method, CONVERSATION + cid, headers=headers)
            text = answer.text
            try:
                text = json.dumps(json.loads(text), sort_keys=True)  # the same value, however it was spaced
            except ValueError:
                pass
            answers.append((f"{method} {cid} {sorted(headers)}", answer.status_code, text,
                            {k: answer.headers[k] for k in SHOWN if k in answer.headers}))  # fmt: skip
    return answers


def test_a_replay_answers_every_probe_as_the_upstream_did(tmp_path):
    record = tmp_path / "recorded"
    env = {"MOCKSERVER_API_KEY": oh.KEY}
    with Served(upstream()) as real:
        direct, unseen = probe(real.url), probe(real.url, UNSEEN)
        with serve("--upstream", real.url, "--no-cors", "--record", str(record), env=env, subcommand="proxy") as proxy:
            assert probe(proxy.url) == direct  # passed on unchanged, CORS included (--no-cors)
    log = proxy.stderr.text()
    assert "CORS policy: 2 origins allowed, 1 refused" in log, log
    assert "violation: " not in log, log  # the real 405 to HEAD is no violation: the contract documents no HEAD
    assert "HEAD answered 405: the contract documents no HEAD" in log
    assert {status for _, status, _, _ in direct} == {200, 400, 401, 405}
    with serve("--fixtures", str(record), "--no-request-log", env=env) as mock:
        replayed = probe(mock.url)
        assert probe(mock.url, UNSEEN) == unseen  # a HEAD refused on one id is refused on every id
    differ = [(a, b) for a, b in zip(direct, replayed, strict=True) if a != b]
    assert not differ, "\n".join(f"upstream {a}\nreplay   {b}" for a, b in differ)
