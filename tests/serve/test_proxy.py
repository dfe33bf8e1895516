"""The validating proxy in process: answers passed on unchanged, both directions checked, hybrid serving, and an
upstream that is down, slow, resetting or too generous answered 502/504 with one log line and nothing recorded."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.responses import Response, StreamingResponse
from starlette.testclient import TestClient

from mockserver.cli import main
from mockserver.serve.app import create_app
from mockserver.serve.config import Config, ConfigError
from mockserver.serve.forward.proxy import Forwarder, Upstream, decoded, outgoing
from mockserver.serve.pipeline.core import build_mock
from tests.serve import openhands_upstream as oh
from tests.support import CONVERSATION, KEY_HEADER, SHOP, free_port, listening

KEY = {KEY_HEADER: oh.KEY}
UPSTREAM = "http://upstream.test"
Factory = Callable[..., tuple[TestClient, Forwarder]]


@pytest.fixture
def proxy_factory() -> Iterator[Factory]:
    """`proxy_factory(transport or URL, **config)`: the app in process with a Forwarder to that upstream."""
    clients: list[TestClient] = []

    def make(target: httpx.AsyncBaseTransport | str, *, log: io.StringIO | None = None, **options: Any):
        url = target if isinstance(target, str) else options.pop("upstream", UPSTREAM)
        options.setdefault("request_log", False)
        options.setdefault("proxy", True)
        if options["proxy"]:
            options.setdefault("fixtures", "")
        options.setdefault("upstream_timeout", 5.0)
        options.setdefault("max_upstream_bytes", 1_000_000)
        config = Config(upstream=url, **options)
        mock = build_mock(config)
        transport = None if isinstance(target, str) else target
        upstream = Upstream(url, config.upstream_timeout, config.max_upstream_bytes, transport=transport)
        forwarder = Forwarder(config, mock, upstream, stream=log or io.StringIO())
        client = TestClient(create_app(config, mock, forwarder), base_url="http://proxy")
        clients.append(client)
        return client, forwarder

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def openhands() -> tuple[httpx.ASGITransport, oh.Upstream]:
    app, state = oh.create()
    return httpx.ASGITransport(app=app), state


def _log(forwarder: Forwarder) -> str:
    forwarder.log.flush()
    stream = forwarder.log.stream
    assert isinstance(stream, io.StringIO)
    return stream.getvalue()


def _recorded(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.yaml")) if folder.exists() else []


# --- passing answers on --------------------------------------------------------------------------------------------


def test_answers_pass_through_unchanged(proxy_factory, openhands):
    client, _ = proxy_factory(openhands[0])
    answer = client.get(CONVERSATION + "running", headers=KEY)
    assert answer.status_code == 200
    assert answer.json() == oh.CONVERSATIONS["running"]
    assert answer.headers["cache-control"] == "no-store" and answer.headers["set-cookie"] == oh.COOKIE
    assert answer.headers["x-mock-source"] == "upstream"
    assert client.get(CONVERSATION + "nobody-has-this", headers=KEY).content == b"null"
    refused = client.get(CONVERSATION + "running")
    assert (refused.status_code, refused.json()) == (401, {"detail": "Unauthorized"})
    too_long = client.get(CONVERSATION + "x" * 300, headers=KEY)
    assert (too_long.status_code, too_long.text, too_long.headers["content-type"]) == (
        500, "Internal Server Error", "text/plain; charset=utf-8"
    )  # fmt: skip


def test_raw_path_headers_and_redirects(proxy_factory, openhands):
    transport, state = openhands
    client, _ = proxy_factory(transport)
    slashed = client.get(CONVERSATION + "a%2Fb", headers=KEY)
    assert (slashed.status_code, slashed.json()) == (404, {"detail": "Not Found"})
    method, raw_path, _ = state.seen[-1]
    assert (method, raw_path.split(b"?")[0]) == ("GET", b"/api/conversations/a%2Fb")  # %2F stays %2F on the way
    hops = {"Connection": "x-hop", "X-Hop": "1", "Proxy-Authorization": "Basic abc", "Accept-Encoding": "br"}
    client.get(CONVERSATION + "running", headers={**KEY, **hops})
    _, _, sent = state.seen[-1]
    assert sent["host"] == "upstream.test" and sent["x-session-api-key"] == oh.KEY
    assert sent["accept-encoding"] == "identity"
    assert "x-hop" not in sent and "proxy-authorization" not in sent
    redirect = client.get(CONVERSATION + "running/", headers=KEY, follow_redirects=False)
    assert redirect.status_code == 307
    assert redirect.headers["location"] == "/api/conversations/running"  # was http://upstream.test/...: stay here
    method_not_allowed = client.post(CONVERSATION + "running", headers=KEY)
    assert (method_not_allowed.status_code, method_not_allowed.json()) == (405, {"detail": "Method Not Allowed"})


def test_cors_is_the_proxys_own_unless_turned_off(proxy_factory):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=None, headers={"access-control-allow-origin": "http://localhost"})

    origin = {"Origin": "http://app.local", **KEY}
    client, _ = proxy_factory(httpx.MockTransport(handler))
    assert client.get(CONVERSATION + "x", headers=origin).headers["access-control-allow-origin"] == "http://app.local"
    passthrough, _ = proxy_factory(httpx.MockTransport(handler), cors=False)
    assert (
        passthrough.get(CONVERSATION + "x", headers=origin).headers["access-control-allow-origin"] == "http://localhost"
    )


# --- checking both directions ----------------------------------------------------------------------------------


def test_a_violation_is_logged_journaled_and_optionally_a_header(proxy_factory, openhands):
    client, forwarder = proxy_factory(openhands[0], violations_header=True)
    drifted = client.get(CONVERSATION + "drifted", headers=KEY)
    assert drifted.status_code == 200 and drifted.json()["status"] == "PAUSED"  # passed on as it came
    header = drifted.headers["x-contract-violations"]
    assert header.startswith("GET /api/conversations/{conversation_id} response /body/status:") and "PAUSED" in header
    log = _log(forwarder)
    assert "mockserver: violation: GET /api/conversations/{conversation_id} response /body/status: " in log
    assert "[GET /api/conversations/drifted]" in log
    entry = client.get("/__mock/requests").json()["requests"][-1]
    assert entry["source"] == "upstream" and entry["operation"] == "GET /api/conversations/{conversation_id}"
    (violation,) = entry["violations"]
    assert violation["severity"] == "violation" and violation["direction"] == "response"
    assert violation["pointer"] == "/body/status" and "PAUSED" in violation["reason"]
    assert "x-contract-violations" not in client.get(CONVERSATION + "running", headers=KEY).headers
    quiet, _ = proxy_factory(openhands[0])
    assert "x-contract-violations" not in quiet.get(CONVERSATION + "drifted", headers=KEY).headers


def test_undocumented_401_and_429_are_warnings(proxy_factory, openhands):
    client, forwarder = proxy_factory(openhands[0], violations_header=True)
    answers = [client.get(CONVERSATION + oh.POLLED, headers=KEY) for _ in range(oh.POLL_BUDGET + 1)]
    assert answers[-1].status_code == 429 and answers[-1].headers["retry-after"] == "1"
    assert client.get(CONVERSATION + "running").status_code == 401
    assert all("x-contract-violations" not in a.headers for a in answers)
    journal = client.get("/__mock/requests").json()["requests"]
    severities = [v["severity"] for entry in journal for v in entry["violations"]]
    assert severities == ["warning", "warning"]
    assert "no valid credentials" in journal[-1]["violations"][0]["reason"]
    assert not forwarder.failed
    assert "warning: GET /api/conversations/{conversation_id} response /status: status 429" in _log(forwarder)


def _shop(status: int = 200, headers: dict[str, str] | None = None, body: bytes = b"[]") -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"content-type": "application/json", **(headers or {})})

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    "target, transport, pointer, severity",
    [
        ("/v1/pets?limit=0", _shop(headers={"x-total-count": "0"}), "/query/limit", "request"),
        ("/v1/pets", _shop(), "/header/X-Total-Count", "response"),
        ("/v1/pets", _shop(headers={"x-total-count": "many"}), "/header/X-Total-Count", "response"),
        ("/v1/pets", _shop(headers={"x-total-count": "1", "content-type": "text/plain"}), "/header/content-type",
         "response"),
        ("/v1/pets", _shop(headers={"x-total-count": "1"}, body=b"[{"), "/body", "response"),
        ("/v1/pets", _shop(headers={"x-total-count": "1"}, body=b'[{"id": "seven"}]'), "/body/0", "response"),
        ("/v1/pets", _shop(500, {"x-total-count": "1"}), "/status", "response"),
    ],
)  # fmt: skip
def test_each_kind_of_violation_names_its_pointer(proxy_factory, target, transport, pointer, severity):
    client, forwarder = proxy_factory(transport, spec=SHOP)
    client.get(target, headers={"Authorization": "Bearer token-1234"})
    (found,) = [v for v in client.get("/__mock/requests").json()["requests"][-1]["violations"]]
    assert (found["direction"], found["severity"]) == (severity, "violation")
    assert found["pointer"].startswith(pointer), found
    assert forwarder.failed


def test_a_conforming_answer_has_no_findings(proxy_factory):
    client, forwarder = proxy_factory(_shop(headers={"x-total-count": "3"}), spec=SHOP)  # "3": an integer header
    answer = client.get("/v1/pets?limit=2", headers={"Authorization": "Bearer token-1234"})
    assert answer.status_code == 200
    assert client.get("/__mock/requests").json()["requests"][-1]["violations"] == []
    assert not forwarder.failed and _log(forwarder) == ""


def test_a_gzipped_answer_is_passed_on_as_is_and_checked_decoded(proxy_factory, tmp_path):
    body = json.dumps(oh.conversation("z", "PAUSED")).encode()

    asked = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        asked.append(dict(scope["headers"])[b"accept-encoding"])
        response = Response(gzip.compress(body), media_type="application/json", headers={"content-encoding": "gzip"})
        await response(scope, receive, send)  # compressed although the proxy asked for identity

    client, forwarder = proxy_factory(httpx.ASGITransport(app=app), record=str(tmp_path))
    answer = client.get(CONVERSATION + "z", headers=KEY)
    assert answer.headers["content-encoding"] == "gzip" and answer.json()["status"] == "PAUSED"  # the client decodes
    assert asked == [b"identity"]
    forwarder.finish("proxy", None)
    entry = client.get("/__mock/requests").json()["requests"][-1]
    assert [v["pointer"] for v in entry["violations"]] == ["/body/status"]
    (recorded,) = _recorded(tmp_path)
    assert "status: PAUSED" in recorded.read_text()  # written decoded


def test_no_secret_in_findings(proxy_factory):
    secret = "sk-very-secret-value"
    client, forwarder = proxy_factory(_shop(headers={"x-total-count": secret}), spec=SHOP, api_key=secret)
    client.get("/v1/pets", headers={"Authorization": f"Bearer {secret}"})
    journal = client.get("/__mock/requests").text
    assert "X-Total-Count" in journal and secret not in journal
    assert secret not in _log(forwarder) and secret not in "\n".join(forwarder.finish("proxy", None))


# --- hybrid serving --------------------------------------------------------------------------------------------


def test_hybrid_serves_fixtures_and_forwards_the_rest(proxy_factory, openhands):
    client, _ = proxy_factory(openhands[0], proxy=False)  # the built-in fixtures
    assert client.get(CONVERSATION + "running", headers=KEY).headers["x-mock-source"] == "fixture"
    forwarded = client.get(CONVERSATION + "stopped-elsewhere", headers=KEY)
    assert (forwarded.headers["x-mock-source"], forwarded.content) == ("upstream", b"null")
    asked = client.get(CONVERSATION + "anything", headers={**KEY, "Prefer": "code=422"})
    assert (asked.status_code, asked.headers["x-mock-source"]) == (422, "generated")  # asked of the mock: stays
    unauthorized = client.get(CONVERSATION + "anything")
    assert (unauthorized.status_code, unauthorized.headers["x-mock-source"]) == (401, "fixture")


# --- a bad upstream ------------------------------------------------------------------------------------------


def _slow() -> httpx.ASGITransport:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(30)

    return httpx.ASGITransport(app=app)


def _huge(streamed: bool) -> httpx.ASGITransport:
    chunk = b"x" * 65536

    async def chunks() -> Any:
        for _ in range(64):  # 4 MiB
            yield chunk

    async def app(scope: Any, receive: Any, send: Any) -> None:
        response = StreamingResponse(chunks()) if streamed else Response(chunk * 64, media_type="application/json")
        await response(scope, receive, send)

    return httpx.ASGITransport(app=app)


def _failing(error: Exception) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    "make, status, words",
    [
        (lambda: f"http://127.0.0.1:{free_port()}", 502, "cannot connect"),
        (_slow, 504, "no whole answer"),
        (lambda: _huge(streamed=True), 502, "over 1000000 bytes"),
        (lambda: _huge(streamed=False), 502, "over 1000000 bytes"),
        (lambda: _failing(httpx.RemoteProtocolError("peer closed connection")), 502, "broke off"),
        (lambda: _failing(httpx.ReadError("connection reset by peer")), 502, "broke off"),
    ],
    ids=["down", "slow", "huge-streamed", "huge-declared", "reset", "read-error"],
)
def test_a_bad_upstream_is_a_problem_answer_and_nothing_is_recorded(proxy_factory, tmp_path, make, status, words):
    client, forwarder = proxy_factory(make(), upstream_timeout=0.3, record=str(tmp_path / "rec"))
    for _ in range(2):  # and the proxy keeps serving
        answer = client.get(CONVERSATION + "running", headers=KEY)
        assert answer.status_code == status
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["status"] == status and words in answer.json()["detail"]
    assert client.get("/__mock/health").status_code == 200
    log = _log(forwarder)
    assert log.count("mockserver: upstream error: GET /api/conversations/running: ") == 2 and words in log
    lines = forwarder.finish("proxy", None)
    assert "2 upstream errors" in lines[0]
    assert _recorded(tmp_path / "rec") == []


class _RawServer:
    """A loopback TCP server that misbehaves: `reset` sends half an answer then resets the connection; `silent`
    reads the request and never answers. Always stopped."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        held = []
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            conn.recv(65536)
            if self.mode == "reset":
                conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{"par')
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                conn.close()  # linger 0: a TCP reset
            else:
                held.append(conn)
        for conn in held:
            conn.close()

    def __enter__(self) -> _RawServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


@pytest.mark.e2e  # a real listening socket on loopback
@pytest.mark.parametrize("mode, status", [("reset", 502), ("silent", 504)])
def test_a_real_socket_that_resets_or_stalls(proxy_factory, mode, status):
    with _RawServer(mode) as server:
        client, forwarder = proxy_factory(f"http://127.0.0.1:{server.port}", upstream_timeout=0.5)
        assert client.get(CONVERSATION + "running", headers=KEY).status_code == status
        assert "mockserver: upstream error:" in _log(forwarder)


# --- start-up ----------------------------------------------------------------------------------------------------


def test_an_unwritable_record_folder_stops_start_up(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="cannot write fixtures there"):
        Forwarder(Config(upstream=UPSTREAM, record=str(blocker / "rec"), fixtures=""), build_mock(Config(fixtures="")))
    port = free_port()
    code = main(["proxy", "--upstream", UPSTREAM, "--record", str(blocker / "rec"), "--port", str(port)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("mockserver proxy: error: --record ") and err.count("\n") == 1
    assert "Traceback" not in err
    assert not listening(port)  # nothing was left listening


@pytest.mark.parametrize(
    "argv, words",
    [
        (["proxy"], "mockserver proxy: error: the following arguments are required: --upstream"),
        (["proxy", "--upstream", "ftp://x"], "http(s) URL"),
        (["proxy", "--upstream", "http://user:pw@host"], "must not carry credentials"),
        (["serve", "--record", "d"], "--record needs --upstream"),
        (["serve", "--upstream", "http://127.0.0.1:9", "--workers", "2"], "one worker"),
    ],
)
def test_forwarding_option_mistakes_exit_2(argv, words, capsys):
    try:
        code = main(argv)
    except SystemExit as exit:  # argparse's own usage error (a missing required option)
        code = exit.code
    assert code == 2
    assert words in capsys.readouterr().err


def test_serve_only_options_are_not_proxy_options(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["proxy", "--upstream", UPSTREAM, "--seed", "3"])
    assert caught.value.code == 2 and "--seed" in capsys.readouterr().err


# --- helpers ---------------------------------------------------------------------------------------------------


def test_outgoing_headers_drop_hop_by_hop_and_ask_for_identity():
    sent = outgoing([(b"host", b"proxy:4010"), (b"connection", b"keep-alive, X-Private"), (b"x-private", b"1"),
                     (b"te", b"trailers"), (b"x-session-api-key", b"k"), (b"accept-encoding", b"gzip"),
                     (b"content-length", b"3"), (b"cookie", b"a=b")])  # fmt: skip
    assert sent == [(b"x-session-api-key", b"k"), (b"cookie", b"a=b"), (b"accept-encoding", b"identity")]


def test_decoding_is_bounded():
    body = b'{"a": 1}'
    assert decoded(gzip.compress(body), "gzip", 100) == body
    import zlib

    assert decoded(zlib.compress(body), "deflate", 100) == body
    raw = zlib.compressobj(wbits=-15)
    assert decoded(raw.compress(body) + raw.flush(), "deflate", 100) == body
    assert decoded(gzip.compress(b"0" * 10_000_000), "gzip", 1_000_000) is None  # a small bomb stays small
    assert decoded(b"...", "br", 100) is None and decoded(body, "", 100) == body


def test_a_large_body_is_checked_off_the_event_loop(proxy_factory, monkeypatch):
    import mockserver.serve.forward.proxy as proxy_module

    threads = []
    original = asyncio.to_thread

    async def counted(function: Callable[..., Any], *args: Any) -> Any:
        threads.append(function)
        return await original(function, *args)

    monkeypatch.setattr(proxy_module.asyncio, "to_thread", counted)
    big = json.dumps(oh.conversation("big", "PAUSED", title="t" * 400_000)).encode()
    body = gzip.compress(big)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await Response(body, media_type="application/json", headers={"content-encoding": "gzip"})(scope, receive, send)

    client, _ = proxy_factory(httpx.ASGITransport(app=app), max_upstream_bytes=1_000_000)
    assert client.get(CONVERSATION + "big", headers=KEY).content == big
    assert len(threads) == 1  # a few hundred compressed bytes, 400 KB once inflated: in a thread
    big_raw, _ = proxy_factory(httpx.MockTransport(lambda request: httpx.Response(200, content=big, headers=[JSON_CT])))
    assert big_raw.get(CONVERSATION + "big", headers=KEY).status_code == 200
    assert len(threads) == 2
    small, _ = proxy_factory(_shop())
    small.get(CONVERSATION + "x", headers=KEY)
    assert len(threads) == 2  # a small plain body is checked in line
    (found,) = big_raw.get("/__mock/requests").json()["requests"][-1]["violations"]
    assert found["pointer"] == "/body/status"


JSON_CT = ("content-type", "application/json")


@pytest.mark.parametrize(
    "location, shown",
    [
        ("http://upstream.test/api/x?a=1", "/api/x?a=1"),
        ("HTTP://UPSTREAM.TEST/api/x", "/api/x"),
        ("http://upstream.test", "/"),
        ("http://upstream.test.evil/api/x", "http://upstream.test.evil/api/x"),
        ("http://upstream.test:8080/api/x", "http://upstream.test:8080/api/x"),
        ("https://elsewhere.example/login", "https://elsewhere.example/login"),
        ("/already/relative", "/already/relative"),
    ],
)
def test_only_a_location_on_the_upstream_is_made_relative(proxy_factory, location, shown):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(307, headers={"location": location})

    client, _ = proxy_factory(httpx.MockTransport(handler))
    answer = client.get(CONVERSATION + "x/", headers=KEY, follow_redirects=False)
    assert answer.headers["location"] == shown


def test_an_upstream_base_path_is_kept_out_of_relative_locations(proxy_factory):
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.raw_path.startswith(b"/base/api/")  # the base path goes in front of every request
        where = {"a": "http://upstream.test/base/api/z", "b": "http://upstream.test/other"}[request.url.path[-1]]
        return httpx.Response(307, headers={"location": where})

    client, _ = proxy_factory(httpx.MockTransport(handler), upstream="http://upstream.test/base")
    assert client.get("/api/a", follow_redirects=False).headers["location"] == "/api/z"
    assert client.get("/api/b", follow_redirects=False).headers["location"] == "http://upstream.test/other"


def test_hybrid_keeps_what_the_mock_was_asked_for(proxy_factory, openhands):
    client, _ = proxy_factory(openhands[0], proxy=False, fixtures="")
    assert client.get(CONVERSATION + "abc", headers=KEY).headers["x-mock-source"] == "upstream"
    controlled = client.get(CONVERSATION + "abc?__code=422", headers=KEY)
    assert (controlled.status_code, controlled.headers["x-mock-source"]) == (422, "generated")  # a query control
    added = client.post("/__mock/overrides", json={"operation": "GET /api/conversations/{conversation_id}",
                                                  "prefer": "code=422"})  # fmt: skip
    assert added.status_code == 201
    overridden = client.get(CONVERSATION + "abc", headers=KEY)
    assert (overridden.status_code, overridden.headers["x-mock-source"]) == (422, "override")


def test_hybrid_keeps_stateful_items_local(proxy_factory):
    from tests.support import CONVERSATIONS, CONVERSATIONS_FIXTURES

    forwarded: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        forwarded.append(request.url.path)
        return httpx.Response(200, json=None)

    client, _ = proxy_factory(httpx.MockTransport(handler), proxy=False, spec=CONVERSATIONS,
                              fixtures=CONVERSATIONS_FIXTURES, stateful=True)  # fmt: skip
    created = client.post("/api/conversations", headers=KEY, json={"title": "local"})
    assert created.headers["x-mock-source"] == "state", created.text
    item = created.json()["conversation_id"]
    read = client.get(f"/api/conversations/{item}", headers=KEY)
    assert (read.headers["x-mock-source"], read.json()["title"]) == ("state", "local")
    assert forwarded == []


def test_a_reloaded_contract_reaches_the_forwarder(proxy_factory):
    client, forwarder = proxy_factory(_shop(headers={"x-total-count": "1"}))
    client.get("/v1/pets", headers=KEY)
    assert client.get("/__mock/requests").json()["requests"][-1]["operation"] == ""  # not in the built-in contract
    app = client.app
    app.reload(build_mock(Config(spec=SHOP, fixtures="")))  # what --watch does on a change
    client.get("/v1/pets", headers=KEY)
    assert client.get("/__mock/requests").json()["requests"][-1]["operation"] == "GET /pets"
    assert "GET /pets" in forwarder.report.operations
