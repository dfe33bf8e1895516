"""The recorder: upstream answers become fixture files the loader reads back and the mock replays, with nothing
secret in them, one file per request identity, contract breaks flagged."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.cli import main
from mockserver.contract import documents, security
from mockserver.contract.verdicts import secret_name
from mockserver.serve.config import Config
from mockserver.serve.forward.drift import Checker
from mockserver.serve.forward.recorder import Exchange, Recorder
from mockserver.serve.journal import Redactor
from mockserver.serve.pipeline.core import MockRequest, build_mock
from mockserver.serve.pipeline.fixtures import parse_fixture
from tests.serve import openhands_upstream as oh
from tests.support import CONVERSATION, KEY_HEADER

MOCK = build_mock(Config(fixtures=""))
OP = MOCK.spec.operations[0]
JSON = ("content-type", "application/json")


def recorder(folder: Path, api_key: str | None = None) -> Recorder:
    schemes = list(MOCK.spec.security_schemes.values())
    redactor = Redactor(security.secret_names(schemes), api_key)
    checker = Checker(MOCK.validators, MOCK.generator.validator, MOCK.producer.body_schema)
    return Recorder(str(folder), MOCK.spec, checker, redactor)


def exchange(cid: str = "running", status: int = 200, body: Any = None, *, raw: bytes | None = None,
             headers: list[tuple[str, str]] | None = None, secrets: tuple[str, ...] = (oh.KEY,), method: str = "GET",
             path: str | None = None, query: dict[str, list[str]] | None = None) -> Exchange:  # fmt: skip
    """An exchange of a request that carried the key (`secrets=()`: one without it)."""
    path = path or CONVERSATION + quote(cid, safe="")  # as sent: percent-encoded
    operation = OP if path.startswith(CONVERSATION) and path.count("/") == 3 and method == "GET" else None
    content = raw if raw is not None else json.dumps(body).encode()
    sent = {KEY_HEADER.lower(): oh.KEY} if secrets else {}
    return Exchange(method, path, operation, {"conversation_id": cid} if operation else {}, query or {},
                    sent, status, headers if headers is not None else [JSON], content, secrets)  # fmt: skip


def files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*.yaml"))}


def test_a_recorded_answer_is_replayed_by_the_mock(tmp_path, client_factory):
    rec = recorder(tmp_path)
    headers = [JSON, ("cache-control", "no-store"), ("date", "Tue, 01 Dec 2026 10:00:00 GMT"), ("server", "uvicorn"),
               ("content-length", "412"), ("access-control-allow-origin", "*"),
               ("transfer-encoding", "chunked")]  # fmt: skip
    rec.submit(exchange("running", body=oh.CONVERSATIONS["running"], headers=headers))
    rec.close()
    (name, text), *_ = files(tmp_path).items()
    assert name == f"{OP.operation_id}/running.yaml"
    assert text.startswith("# Recorded by mockserver from GET /api/conversations/running (200)\n")
    for dropped in ("date:", "server:", "content-length", "access-control", "transfer-encoding"):
        assert dropped not in text
    client = client_factory(fixtures=str(tmp_path))
    answer = client.get(CONVERSATION + "running", headers={KEY_HEADER: "any"})
    assert answer.json() == oh.CONVERSATIONS["running"]
    assert (answer.headers["x-mock-source"], answer.headers["cache-control"]) == ("fixture", "no-store")


def test_nothing_secret_reaches_a_file(tmp_path):
    key = oh.KEY
    basic = security.basic_authorization(key).split()[1]
    rec = recorder(tmp_path, api_key="configured-key-99")
    body = {"conversation_id": "echo", "title": f"key {key} and {basic}", "url": f"https://x/?k={key}",
            "session_api_key": "sess-abcdef",
            "nested": [{"access_token": "tok-123456"}, "configured-key-99"]}  # fmt: skip
    headers = [JSON, ("set-cookie", f"oh_session={key}; Path=/; HttpOnly"), ("x-echo", key),
               ("x-session-api-key", "anything"), ("location", f"/somewhere?key={key}")]  # fmt: skip
    rec.submit(exchange("echo", body=body, headers=headers, secrets=(key,)))
    rec.submit(exchange(method="GET", path="/elsewhere/" + key, query={"token": [key], "q": [key]},
                        body={"detail": "Not Found"}, status=404, secrets=(key,)))  # fmt: skip
    rec.close()
    written = "\n".join(files(tmp_path).values())
    assert len(files(tmp_path)) == 2
    for form in [*security.wire_forms(key), "configured-key-99", "sess-abcdef", "tok-123456"]:
        assert form not in written, form
    assert "oh_session=[redacted]; Path=/; HttpOnly" in written  # the cookie's name and attributes stay
    assert "session_api_key: '[redacted]'" in written
    assert "  query:\n    q: '[redacted]'\n" in written  # `token`, a credential parameter, is not matched on


def test_one_file_per_request_identity(tmp_path, monkeypatch):
    writes: list[Path] = []
    original = documents.write_atomically
    counted = lambda path, text: (writes.append(path), original(path, text))  # noqa: E731
    monkeypatch.setattr(documents, "write_atomically", counted)
    rec = recorder(tmp_path)
    first = oh.conversation("poll", "STARTING")
    rec.submit(exchange("poll", body=first, headers=[JSON, ("date", "one")]))
    rec.submit(exchange("poll", body=first, headers=[JSON, ("date", "two")]))  # the same answer: not written again
    rec.submit(exchange("poll", 429, {"detail": "Too Many Requests"}, headers=[JSON, ("retry-after", "1")]))
    rec.close()
    assert len(writes) == 1 and "status: STARTING" in (tmp_path / OP.operation_id / "poll.yaml").read_text()
    assert "transient 429" in "\n".join(rec.summary())
    rec = recorder(tmp_path)
    rec.submit(exchange("poll", body=first))
    rec.submit(exchange("poll", body=oh.conversation("poll", "RUNNING")))  # both kept: a sequence, in order
    rec.submit(exchange("hot", 429, {"detail": "Too Many Requests"}))  # nothing better known: kept, flagged
    rec.close()
    polled = documents.parse((tmp_path / OP.operation_id / "poll.yaml").read_text(), "poll.yaml")
    assert [step["body"]["status"] for step in polled["responses"]] == ["STARTING", "RUNNING"]
    hot = tmp_path / OP.operation_id / "hot.yaml"
    assert "flagged:" in hot.read_text() and hot in rec.flagged
    rec = recorder(tmp_path)
    rec.submit(exchange("hot", 429, {"detail": "Too Many Requests"}))
    rec.submit(exchange("hot", body=None))  # a real answer replaces a transient one
    rec.close()
    assert "flagged" not in hot.read_text() and hot not in rec.flagged


def test_a_401_becomes_the_operations_unauthorized_fixture(tmp_path, client_factory):
    rec = recorder(tmp_path)
    rec.submit(exchange("whatever", 401, {"detail": "Unauthorized"}))
    rec.close()
    text = (tmp_path / OP.operation_id / "unauthorized.yaml").read_text()
    assert "when: unauthorized" in text and "match:" not in text and "flagged" not in text
    client = client_factory(fixtures=str(tmp_path))
    answer = client.get(CONVERSATION + "other")
    assert (answer.status_code, answer.json()) == (401, {"detail": "Unauthorized"})


def test_a_contract_break_is_flagged_and_reported_by_fixtures_check(tmp_path, capsys, client_factory):
    rec = recorder(tmp_path)
    rec.submit(exchange("drifted", body=oh.CONVERSATIONS["drifted"]))
    rec.submit(exchange("a/b", 404, {"detail": "Not Found"}, path=CONVERSATION + "a%2Fb"))
    rec.submit(exchange("nul", 500, raw=b"Internal Server Error", headers=[("content-type", "text/plain")]))
    rec.close()
    drifted = (tmp_path / OP.operation_id / "drifted.yaml").read_text()
    assert re.search(r"flagged:\n- 'response /body/status: .*PAUSED", drifted)
    assert len(rec.flagged) == 3
    assert main(["fixtures", "check", "--fixtures", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "3 fixtures loaded" in out and "3 flagged" in out
    assert err.count("flagged fixture") == 3 and "drifted.yaml" in err and "PAUSED" in err
    client = client_factory(fixtures=str(tmp_path))
    assert client.get(CONVERSATION + "drifted", headers={KEY_HEADER: "k"}).json()["status"] == "PAUSED"
    text = client.get(CONVERSATION + "nul", headers={KEY_HEADER: "k"})
    assert (text.status_code, text.content) == (500, b"Internal Server Error")
    assert text.headers["content-type"] == "text/plain"
    assert client.get(CONVERSATION + "a%2Fb", headers={KEY_HEADER: "k"}).status_code == 404


def test_traffic_no_operation_matches_is_recorded_on_its_raw_path(tmp_path, client_factory):
    rec = recorder(tmp_path)
    rec.submit(exchange(path=CONVERSATION + "running/", status=307, raw=b"",
                        headers=[("location", "/api/conversations/running")]))  # fmt: skip
    rec.submit(exchange(path=CONVERSATION + "running", method="POST", status=405, body={"detail": "Method Not Allowed"},
                        headers=[JSON, ("allow", "GET")]))  # fmt: skip
    rec.close()
    names = sorted(files(tmp_path))
    assert all(n.startswith("_unmatched/") for n in names) and len(names) == 2
    client = client_factory(fixtures=str(tmp_path))
    redirect = client.get(CONVERSATION + "running/", headers={KEY_HEADER: "k"}, follow_redirects=False)
    assert (redirect.status_code, redirect.content) == (307, b"")
    assert redirect.headers["location"] == "/api/conversations/running"
    refused = client.post(CONVERSATION + "running", headers={KEY_HEADER: "k"})
    assert (refused.status_code, refused.headers["allow"]) == (405, "GET")
    assert refused.json() == {"detail": "Method Not Allowed"}
    other = client.get(CONVERSATION + "other/", headers={KEY_HEADER: "k"})
    assert other.status_code == 404 and other.headers["x-mock-source"] == "error"  # another raw path: not matched


def test_what_cannot_be_a_fixture_is_counted_not_written(tmp_path):
    rec = recorder(tmp_path)
    rec.submit(exchange("img", raw=b"\x89PNG\r\n\x1a\n\xff", headers=[("content-type", "image/png")]))
    rec.submit(Exchange("GET", CONVERSATION + "br", OP, {"conversation_id": "br"}, {}, {}, 200, [JSON], None, ()))
    rec.close()
    assert files(tmp_path) == {}
    summary = "\n".join(rec.summary())
    assert "not UTF-8" in summary and "content coding" in summary


def test_a_write_failure_is_reported_not_raised(tmp_path, capsys):
    rec = recorder(tmp_path)
    (tmp_path / OP.operation_id).write_text("a file where the folder should be")
    rec.submit(exchange("running", body=None))
    rec.close()
    assert "could not record GET /api/conversations/running" in capsys.readouterr().err
    assert "failed to record: 1" in "\n".join(rec.summary())


# --- any answer survives the trip: recorded, read back, served ---------------------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_KEYS = _TEXT.filter(lambda k: not secret_name(k))
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=12,
)
_IDS = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cid=_IDS, body=_JSON, status=st.sampled_from([200, 200, 404, 500]))
def test_any_answer_reads_back_exactly(cid: str, body: Any, status: int) -> None:
    rec = RECORDER
    item = exchange(cid, status, body)
    path, text, flagged = rec.document(rec.identity(item), item)
    fixture = parse_fixture(documents.parse(text, str(path)), str(path), MOCK.spec)
    assert fixture.path == {"conversation_id": cid} and fixture.status == status
    assert json.loads(fixture.first.body_bytes) == body  # exact: integers past 64 bits, floats, any Unicode
    assert flagged == bool(fixture.flagged)


@pytest.fixture(autouse=True, scope="module")
def _recorder(tmp_path_factory: pytest.TempPathFactory) -> Any:
    global RECORDER
    RECORDER = recorder(tmp_path_factory.mktemp("property"))
    yield
    RECORDER.close()


RECORDER: Recorder


def test_a_raw_path_with_control_characters_still_reads_back(tmp_path):
    rec = recorder(tmp_path)
    raw = "/odd/\x1f\u00e9".encode("utf-8").decode("latin-1") + "\u2028".encode().decode("latin-1")  # bytes as sent
    item = exchange(path=raw, status=404, body={"detail": "Not Found"})
    path, text, _ = rec.document(rec.identity(item), item)
    fixture = parse_fixture(documents.parse(text, str(path)), str(path), MOCK.spec)
    assert fixture.path == {"method": "GET", "raw_path": "/odd/%1F%C3%A9%E2%80%A8"}
    assert text.startswith("# Recorded by mockserver from GET /odd/\\x1f\\xc3\\xa9\\xe2\\x80\\xa8 (404)")
    rec.submit(item)
    rec.close()
    replay = build_mock(Config(fixtures=str(tmp_path)))
    outcome = replay.handle(MockRequest("GET", raw.encode("latin-1")))  # the same bytes, unencoded, find it
    answer = outcome.answer
    assert (answer.status, answer.body, answer.source) == (404, b'{"detail":"Not Found"}', "fixture")


def test_keyed_and_keyless_answers_of_one_request_both_replay(tmp_path, client_factory):
    """The keyless 401 never overwrites the answer given with the key, in either order."""
    for order in (1, -1):
        folder = tmp_path / f"order{order}"
        rec = recorder(folder)
        answers = [exchange("does-not-exist", body=None),
                   exchange("does-not-exist", 401, {"detail": "Unauthorized"}, secrets=())][::order]  # fmt: skip
        for answer in answers:
            rec.submit(answer)
        rec.close()
        client = client_factory(fixtures=str(folder), api_key=oh.KEY)
        keyed = client.get(CONVERSATION + "does-not-exist", headers={KEY_HEADER: oh.KEY})
        keyless = client.get(CONVERSATION + "does-not-exist")
        assert (keyed.status_code, keyed.content) == (200, b"null")
        assert (keyless.status_code, keyless.json()) == (401, {"detail": "Unauthorized"})


def test_a_one_off_error_never_replaces_a_good_answer_and_a_success_replaces_errors(tmp_path, client_factory):
    rec = recorder(tmp_path)
    good = oh.CONVERSATIONS["running"]
    rec.submit(exchange("running", body=good))
    rec.submit(exchange("running", 500, {"detail": "boom"}))  # one-off: left out
    rec.submit(exchange("running", 422, {"detail": [{"msg": "x"}]}))  # left out too
    rec.submit(exchange("late", 500, {"detail": "warming up"}))
    rec.submit(exchange("late", body=good))  # the first success is the answer
    rec.close()
    assert "one-off 500 answers kept out" in "\n".join(rec.summary())
    client = client_factory(fixtures=str(tmp_path), api_key=oh.KEY)
    for cid in ("running", "late", "running"):
        answer = client.get(CONVERSATION + cid, headers={KEY_HEADER: oh.KEY})
        assert (answer.status_code, answer.json()) == (200, good)


def test_two_answers_of_one_request_with_and_without_the_key_each_replay_to_their_own(tmp_path, client_factory):
    """The keyed answer for a request with the key, the keyless one for a request without, in either file order
    (`…--keyless.yaml` sorts before the keyed file) and either recording order."""
    keyed_body, keyless_body = oh.CONVERSATIONS["running"], {"detail": "Not Found"}
    for order in (1, -1):
        folder = tmp_path / f"order{order}"
        rec = recorder(folder)
        for answer in [exchange("shared", body=keyed_body),
                       exchange("shared", 404, keyless_body, secrets=())][::order]:  # fmt: skip
            rec.submit(answer)
        rec.close()
        assert sorted(p.name for p in folder.rglob("*.yaml"))[0].endswith("--keyless.yaml")
        client = client_factory(fixtures=str(folder), api_key=oh.KEY)
        for _ in range(2):  # and again: no answer remembered for the other kind of request
            keyed = client.get(CONVERSATION + "shared", headers={KEY_HEADER: oh.KEY})
            keyless = client.get(CONVERSATION + "shared")
            assert (keyed.status_code, keyed.json()) == (200, keyed_body)
            assert (keyless.status_code, keyless.json()) == (404, keyless_body)
        wrong = client.get(CONVERSATION + "shared", headers={KEY_HEADER: "not-the-key"})
        assert (wrong.status_code, wrong.json()) == (404, keyless_body)  # a wrong key is no key, as upstream said


def test_a_head_the_upstream_refuses_replays_as_refused(tmp_path, client_factory):
    """HEAD routes to GET's operation, but the upstream answered it 405: recorded on its raw path, replayed so, and
    for every other id of the operation too (a framework that routes no HEAD refuses it whatever the id)."""
    rec = recorder(tmp_path)
    refused = Exchange("HEAD", CONVERSATION + "running", OP, {"conversation_id": "running"}, {},
                       {KEY_HEADER.lower(): oh.KEY}, 405, [JSON, ("allow", "GET")], b"", (oh.KEY,))  # fmt: skip
    rec.submit(refused)
    rec.submit(exchange("running", body=oh.CONVERSATIONS["running"]))
    rec.close()
    assert not rec.skipped, rec.summary()
    (head,) = [p for p in tmp_path.rglob("*.yaml") if p.name.startswith("head-")]
    assert "method: HEAD" in head.read_text() and "flagged" not in head.read_text()
    client = client_factory(fixtures=str(tmp_path), api_key=oh.KEY)
    answer = client.head(CONVERSATION + "running", headers={KEY_HEADER: oh.KEY})
    assert (answer.status_code, answer.headers["allow"], answer.content) == (405, "GET", b"")
    assert client.get(CONVERSATION + "running", headers={KEY_HEADER: oh.KEY}).json() == oh.CONVERSATIONS["running"]
    for other in ("other", "does-not-exist"):
        answer = client.head(CONVERSATION + other, headers={KEY_HEADER: oh.KEY})
        assert (answer.status_code, answer.headers["allow"], answer.content) == (405, "GET", b"")
        assert client.get(CONVERSATION + other, headers={KEY_HEADER: oh.KEY}).status_code == 200


def test_the_upstreams_cors_policy_is_recorded_and_replayed(tmp_path, client_factory):
    """Starlette's CORSMiddleware with localhost origins only (real OpenHands 0.53.0): seen through the recorder,
    applied by the mock serving the folder; preflights are part of the policy, not fixtures."""
    rec = recorder(tmp_path)
    local, evil = "http://localhost:3001", "https://evil.example"
    echoed = [JSON, ("access-control-allow-origin", local), ("access-control-allow-credentials", "true")]
    rec.submit(replace(exchange("running", body=oh.CONVERSATIONS["running"], headers=echoed),
                       headers={KEY_HEADER.lower(): oh.KEY, "origin": local}))  # fmt: skip
    rec.submit(replace(exchange("stopped", body=oh.CONVERSATIONS["stopped"],
                                headers=[JSON, ("access-control-allow-credentials", "true")]),
                       headers={KEY_HEADER.lower(): oh.KEY, "origin": evil}))  # fmt: skip
    asked = {"origin": local, "access-control-request-method": "GET", "access-control-request-headers": "x-k"}
    rec.submit(Exchange("OPTIONS", CONVERSATION + "running", None, {}, {}, asked, 200,
                        [("access-control-allow-origin", local), ("access-control-allow-methods", "GET, POST"),
                         ("access-control-allow-headers", "x-k"), ("access-control-allow-credentials", "true")],
                        b"OK", ()))  # fmt: skip
    rec.close()
    assert "CORS policy: 1 origin allowed, 1 refused, 1 preflight, in _cors.yaml" in "\n".join(rec.summary())
    assert not (tmp_path / "_unmatched").exists()  # the preflight is no fixture
    client = client_factory(fixtures=str(tmp_path), api_key=oh.KEY)
    assert build_mock(Config(fixtures=str(tmp_path))).fixtures  # the policy file is no fixture to the loader
    mine = client.get(CONVERSATION + "running", headers={KEY_HEADER: oh.KEY, "Origin": "http://localhost:5173"})
    assert mine.headers["access-control-allow-origin"] == "http://localhost:5173"  # any port of an allowed host
    theirs = client.get(CONVERSATION + "running", headers={KEY_HEADER: oh.KEY, "Origin": evil})
    assert "access-control-allow-origin" not in theirs.headers
    assert theirs.headers["access-control-allow-credentials"] == "true"  # as the upstream sent it
    ok = client.options(CONVERSATION + "x", headers={"Origin": local, "Access-Control-Request-Method": "GET"})
    assert (ok.status_code, ok.headers["access-control-allow-methods"]) == (200, "GET, POST")
    refused = client.options(CONVERSATION + "x", headers={"Origin": evil, "Access-Control-Request-Method": "GET"})
    assert (refused.status_code, refused.text) == (400, "Disallowed CORS origin")
    again = recorder(tmp_path)  # a later recording into the same folder keeps what was learnt
    again.close()
    later = client_factory(fixtures=str(tmp_path))
    refused = later.options(CONVERSATION + "x", headers={"Origin": evil, "Access-Control-Request-Method": "GET"})
    assert refused.status_code == 400


def test_a_401_to_an_accepted_key_is_an_answer_not_the_operations_refusal(tmp_path, client_factory):
    """Real OpenHands answers 401 "Git provider token required" to a request whose session key is right: with the key
    the proxy accepts (`authorized`), that 401 is this request's answer, and keyless requests still get the refusal."""
    rec = recorder(tmp_path, api_key=oh.KEY)
    rec.submit(replace(exchange("needs-token", 401, "Git provider token required."), authorized=True))
    rec.submit(exchange("needs-token", 401, {"detail": "Unauthorized"}, secrets=()))
    rec.close()
    assert {p.name for p in (tmp_path / OP.operation_id).iterdir()} == {"needs-token.yaml", "unauthorized.yaml"}
    client = client_factory(fixtures=str(tmp_path), api_key=oh.KEY)
    keyed = client.get(CONVERSATION + "needs-token", headers={KEY_HEADER: oh.KEY})
    assert (keyed.status_code, keyed.json()) == (401, "Git provider token required.")
    keyless = client.get(CONVERSATION + "needs-token")
    assert (keyless.status_code, keyless.json()) == (401, {"detail": "Unauthorized"})
