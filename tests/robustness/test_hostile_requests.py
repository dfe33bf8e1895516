"""The mock under hostile requests, in process: a clear 4xx or the contract's answer, never a 500 or a hang, and the
next ordinary request still gets the right answer. Requests go straight into the ASGI app as raw bytes."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mockserver.serve.app as app_module
from mockserver import Config, DocumentError, create_app
from mockserver.serve.pipeline.problems import PROBLEM_JSON

from .support import CONVERSATION, KEY, KEY_HEADER, ROOT, copy_builtin_fixtures, report

AUTH = [(KEY_HEADER, KEY)]
APP = create_app(Config(request_log=False, api_key=KEY))
MOCK = APP.state.mock
OP = MOCK.spec.operations[0]
READY = MOCK.fixtures[OP.key].by_name["ready"].first.body_bytes
VALID = {
    int(status): jsonschema_rs.validator_for(MOCK.spec.schemas.standalone(r.content["application/json"].schema))
    for status, r in OP.responses.items()
}
STATUSES: Counter[str] = Counter()


def still_serving(call) -> None:
    reply = call(APP, "GET", CONVERSATION + "ready", headers=AUTH)
    assert (reply.status, reply.headers["x-mock-source"], reply.body) == (200, "fixture", READY)


def contract_answer(reply, conversation_id: str | None = None) -> None:
    """A 200 or 422 body valid against the contract (a 200 echoes the id), or the mock's own problem document."""
    STATUSES[str(reply.status)] += 1
    assert reply.status < 500, reply.body[:300]
    if reply.status in VALID:
        assert VALID[reply.status].is_valid(reply.json()), reply.body[:300]
        assert reply.headers["content-type"] == "application/json"
        if reply.status == 200 and conversation_id is not None and isinstance(reply.json(), dict):
            assert reply.json()["conversation_id"] == conversation_id
    else:
        assert reply.headers["content-type"] == PROBLEM_JSON
        assert reply.json()["status"] == reply.status


@pytest.fixture(scope="module", autouse=True)
def _counts() -> Iterator[None]:
    yield
    errors = sum(n for status, n in STATUSES.items() if int(status) >= 500)
    report(
        f"hostile requests (in process): {sum(STATUSES.values())} answers by status "
        f"{dict(sorted(STATUSES.items()))}, {errors} 5xx"
    )


# --- ids --------------------------------------------------------------------------------------------------------

# (raw path segment as sent, status, the id the contract answer must echo)
IDS = [
    ("..%2F..%2Fetc%2Fpasswd", 200, "../../etc/passwd"),
    ("%2e%2e%2f%2e%2e%2fetc%2fpasswd", 200, "../../etc/passwd"),
    ("%2E%2E", 200, ".."),
    ("..", 200, ".."),  # the router never normalizes: a literal ".." is just an id
    ("../../etc/passwd", 404, None),
    ("..%5c..%5cwindows", 200, "..\\..\\windows"),
    ("%2F", 200, "/"),
    ("a%2Fb%2Fc", 200, "a/b/c"),
    ("%2F%2F%2F", 200, "///"),
    ("a%00b", 200, "a\x00b"),
    ("%00", 200, "\x00"),
    ("a\x00b", 200, "a\x00b"),  # a raw NUL byte (only an in-process client can send one)
    ("%0d%0aSet-Cookie:%20x=1", 200, "\r\nSet-Cookie: x=1"),
    ("%ff", 422, None),
    ("%c0%ae%c0%ae", 422, None),  # overlong '.' encodings
    ("%ed%a0%80", 422, None),  # an encoded UTF-16 surrogate
    ("%e2%82", 422, None),  # truncated sequence
    ("ok%fe%ff", 422, None),
    ("%", 200, "%"),
    ("%zz", 200, "%zz"),
    ("x" * 100_000, 200, "x" * 100_000),
    (quote("é" * 50_000), 200, "é" * 50_000),
    ("مرحبا-بالعالم", 200, "مرحبا-بالعالم"),
    (quote("\u202egnp.exe"), 200, "\u202egnp.exe"),  # right-to-left override
    (quote("שלום"), 200, "שלום"),
    ("😀👍🏽", 200, "😀👍🏽"),
    (quote("👨\u200d👩\u200d👧"), 200, "👨\u200d👩\u200d👧"),
    (quote("e\u0301\u0301\u0301"), 200, "e\u0301\u0301\u0301"),
    ("", 404, None),
]


@pytest.mark.parametrize("segment, status, echoed", IDS, ids=lambda v: repr(v)[:40] if isinstance(v, str) else None)
def test_hostile_ids(call, segment, status, echoed):
    reply = call(APP, "GET", CONVERSATION + segment, headers=AUTH)
    assert reply.status == status, reply.body[:300]
    contract_answer(reply, echoed)
    assert b"root:" not in reply.body  # nothing from /etc/passwd, whatever the id
    if status == 422:
        assert reply.json()["detail"][0]["loc"] == ["path", "conversation_id"]
    still_serving(call)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(min_size=1, max_size=300))
def test_any_bytes_in_an_id(call, raw):
    """Every byte string, percent-encoded: valid UTF-8 is echoed in a 200, anything else is a 422 naming the id."""
    reply = call(APP, "GET", CONVERSATION + quote(raw, safe=""), headers=AUTH)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        assert reply.status == 422
        assert reply.json()["detail"][0]["loc"] == ["path", "conversation_id"]
    else:
        assert reply.status == 200
        if reply.headers["x-mock-source"] == "generated" and reply.json() is not None:
            assert reply.json()["conversation_id"] == text
    contract_answer(reply)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(st.characters(exclude_characters="/%?#", exclude_categories=["Cs"]), min_size=1, max_size=200))
def test_any_text_in_an_id_sent_unescaped(call, text):
    # '/', '?' and '#' cannot appear unescaped in a path on the wire; '%' starts an escape (covered above)
    reply = call(APP, "GET", (CONVERSATION + text).encode("utf-8"), headers=AUTH)
    assert reply.status == 200
    contract_answer(reply, text if reply.headers["x-mock-source"] == "generated" else None)


# --- fixture-name tricks in Prefer: example= ---------------------------------------------------------------------

_OPENED: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if _OPENED is not None and event == "open" and isinstance(args[0], (str, bytes)):
        _OPENED.append(str(args[0]))


sys.addaudithook(_audit)


@contextmanager
def files_opened() -> Iterator[list[str]]:
    """Every file the process opens inside the block (an audit hook sees open(), io, os.open, pathlib...)."""
    global _OPENED
    _OPENED = []
    try:
        yield _OPENED
    finally:
        _OPENED = None


NAMES = [
    "../../etc/passwd",
    "/etc/passwd",
    "..\\..\\windows\\win.ini",
    "file:///etc/passwd",
    "../openhands/ready",
    "ready.yaml",
    "./ready",
    "ready/../ready",
    "%2e%2e%2fready",
    "~/.ssh/id_rsa",
    "C:\\Windows\\system32",
    str(ROOT / "fixtures" / "openhands" / "ready.yaml"),
    str(ROOT / "pyproject.toml"),
    "/proc/self/environ",
    "ready\x00.yaml",
]


def test_prefer_example_never_reads_a_file(call):
    with files_opened() as probe:  # the audit hook does see a read
        (ROOT / "pyproject.toml").read_bytes()
    assert probe == [str(ROOT / "pyproject.toml")]
    with files_opened() as opened:
        for name in NAMES:
            for header in (f"example={name}", f'example="{name}"'):
                reply = call(APP, "GET", CONVERSATION + "x", headers=[*AUTH, ("Prefer", header)])
                assert reply.status == 400, (name, reply.body[:300])
                body = reply.json()
                assert body["type"].endswith("/bad-prefer")
                assert all("/" not in n and "\\" not in n for n in body["available"])  # names, never paths
                assert b"root:" not in reply.body and b"[build-system]" not in reply.body
                STATUSES["400"] += 1
        still_serving(call)
    assert opened == []


def test_symlinks_planted_in_fixtures_are_refused_or_ignored(call, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(
        "operation: GET /api/conversations/{conversation_id}\nname: leaked\nmatch: {path: {conversation_id: leaked}}\n"
        "response: {status: 200, body: {conversation_id: leaked, title: TOP-SECRET-OUTSIDE}}\n"
    )
    # a file symlink to a fixture outside the folder: start-up refuses it, naming the link
    linked_file = copy_builtin_fixtures(tmp_path / "with-file-link")
    (linked_file / "evil.yaml").symlink_to(outside / "secret.yaml")
    with pytest.raises(DocumentError) as refused:
        create_app(Config(fixtures=str(linked_file), request_log=False))
    assert refused.value.file.endswith("evil.yaml") and "outside the fixtures folder" in refused.value.reason
    # a folder symlink and a suffix-less file symlink: never followed, never read, never served
    linked_dir = copy_builtin_fixtures(tmp_path / "with-dir-link")
    (linked_dir / "more").symlink_to(outside, target_is_directory=True)
    (linked_dir / "passwd").symlink_to("/etc/passwd")
    app = create_app(Config(fixtures=str(linked_dir), request_log=False, api_key=KEY))
    assert sum(len(i.by_name) for i in app.state.mock.fixtures.values()) == len(list(linked_dir.glob("*.yaml")))
    with files_opened() as opened:
        for name in ("leaked", "secret", "more/secret", "passwd", "../outside/secret"):
            reply = call(app, "GET", CONVERSATION + "leaked", headers=[*AUTH, ("Prefer", f"example={name}")])
            assert reply.status == 400 and b"TOP-SECRET" not in reply.body
        reply = call(app, "GET", CONVERSATION + "leaked", headers=AUTH)
        assert reply.headers["x-mock-source"] == "generated" and b"TOP-SECRET" not in reply.body
    assert not [p for p in opened if Path(p).resolve().is_relative_to(tmp_path)]


# --- headers, query strings, bodies, methods ---------------------------------------------------------------------


def test_oversized_headers_and_header_counts(call):
    big = call(APP, "GET", CONVERSATION + "ready", headers=[*AUTH, ("X-Big", "a" * 1_048_576)])
    many = call(APP, "GET", CONVERSATION + "ready", headers=[*AUTH, *((f"X-H{i}", "v" * 100) for i in range(10_000))])
    same = call(APP, "GET", CONVERSATION + "ready", headers=[*AUTH, *(("X-Same", "v") for _ in range(10_000))])
    for reply in (big, many, same):
        assert reply.status == 431
        assert b"headers-too-large" in reply.body
    fits = call(APP, "GET", CONVERSATION + "ready", headers=[*AUTH, *((f"X-H{i}", "v" * 100) for i in range(90))])
    assert (fits.status, fits.body) == (200, READY)
    binary = call(APP, "GET", CONVERSATION + "ready", headers=[*AUTH, (b"x-bin", bytes(range(256)))])
    assert (binary.status, binary.body) == (200, READY)
    STATUSES["431"] += 3
    STATUSES["200"] += 2
    journal = APP.state.journal.snapshot(limit=3)["requests"]
    assert all(len(entry["headers"]) <= 100 for entry in journal)  # kept bounded per entry
    assert all(len(value) < 3000 for entry in journal for _, value in entry["headers"])
    still_serving(call)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    headers=st.lists(
        st.tuples(
            st.one_of(
                st.sampled_from(
                    [
                        "accept",
                        "content-type",
                        "content-length",
                        "cookie",
                        "authorization",
                        "origin",
                        "x-forwarded-for",
                        "host",
                        "range",
                    ]
                ),
                st.text("abcdefghijklmnopqrstuvwxyz0123456789-_!#$%&'*+.^`|~", min_size=1, max_size=40),
            ),
            st.binary(max_size=300),
        ),
        max_size=30,
    )
)
def test_any_headers(call, headers):
    reply = call(APP, "GET", CONVERSATION + "ready", headers=[*AUTH, *headers])
    STATUSES[str(reply.status)] += 1
    assert reply.status < 500
    names = {name.lower() for name, _ in headers}
    if KEY_HEADER.lower() not in names and "prefer" not in names:
        assert (reply.status, reply.body) == (200, READY)


@pytest.mark.parametrize("count", [300, 1000])
def test_hundreds_of_query_parameters(call, count):
    query = "&".join(f"p{i}=%ff{i}" for i in range(count))
    reply = call(APP, "GET", CONVERSATION + "ready", query=query, headers=AUTH)
    assert (reply.status, reply.body) == (200, READY)
    STATUSES["200"] += 1
    still_serving(call)


@pytest.mark.parametrize("count", [1001, 100_000])
def test_too_many_query_parameters_get_a_clear_4xx_true_to_the_contract(call, count):
    query = "&".join(f"p{i}=1" for i in range(count))
    reply = call(APP, "GET", CONVERSATION + "ready", query=query, headers=AUTH)
    assert 400 <= reply.status < 500
    still_serving(call)
    contract_answer(reply)


MiB = 1_048_576


@pytest.mark.parametrize(
    "body, chunks, status",
    [
        (b'{"conversation_id": "x"}', None, 200),
        (bytes(range(256)) * 10, None, 200),
        (b"x" * MiB, None, 200),
        (b"x" * (MiB + 1), None, 413),
        (None, [b"y" * 65536] * 40, 413),  # 2.5 MiB, chunked: refused without being buffered
        (None, [b""] * 1000 + [b"{}"], 200),
    ],
    ids=["json", "binary", "1MiB", "1MiB+1", "chunked-2.5MiB", "1000-empty-chunks"],
)
def test_bodies_on_get(call, body, chunks, status):
    size = len(body) if body is not None else sum(map(len, chunks))
    headers = [*AUTH, ("Content-Length", str(size)) if body is not None else ("Transfer-Encoding", "chunked")]
    reply = call(APP, "GET", CONVERSATION + "ready", headers=headers, body=body, chunks=chunks)
    assert reply.status == status
    contract_answer(reply)
    if status == 200:
        assert reply.body == READY  # a GET's body is ignored: the operation declares none
    still_serving(call)


@pytest.mark.parametrize(
    "method", ["BREW", "PROPFIND", "TRACE", "CONNECT", "DELETE", "PATCH", "get", "G E T", "X" * 1000, ""]
)
def test_unknown_methods(call, method):
    reply = call(APP, method, CONVERSATION + "ready", headers=AUTH)
    assert reply.status == 405
    assert reply.headers["allow"] == "GET"
    contract_answer(reply)
    head = call(APP, "HEAD", CONVERSATION + "ready", headers=AUTH)
    assert (head.status, head.body, head.headers["content-length"]) == (200, b"", str(len(READY)))
    still_serving(call)


# --- Prefer ----------------------------------------------------------------------------------------------------

MALFORMED = [
    "code=", "code=abc", "code=99", "code=600", "code=2000", "code=-200", "code=200.0", "code=418",
    "example", "example=", 'example=""', "example=nope", "dynamic=maybe", "dynamic=", "branch=-1", "branch=99999",
    "branch=1e3", "branch=7", "delay=-1", "delay=abc", "delay=1.5", "delay=1e9", "delay=", "=", "=;;,,", ";;;=x",
    '"', '"""', "code=200 code=201", "\x00", "\x00\x01\x02", "é=1", "😀", "a" * 5000, "code=200," * 1000,
]  # fmt: skip


@pytest.mark.parametrize("prefer", MALFORMED, ids=lambda v: repr(v)[:30])
def test_malformed_prefer_is_a_clear_400(call, prefer):
    reply = call(APP, "GET", CONVERSATION + "x", headers=[*AUTH, ("Prefer", prefer)])
    assert reply.status == 400, reply.body[:200]
    body = reply.json()
    assert body["type"].endswith("/bad-prefer") and body["detail"]
    assert len(reply.body) < 20_000  # the answer quotes the mistake, clipped
    contract_answer(reply)
    still_serving(call)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefer=st.one_of(
        st.text(max_size=300),
        st.lists(
            st.tuples(
                st.sampled_from(["code", "example", "dynamic", "branch", "delay", "x", ""]), st.text(max_size=30)
            ),
            max_size=6,
        ).map(lambda pairs: "; ".join(f"{k}={v}" for k, v in pairs)),
    )
)
def test_any_prefer_header(call, prefer, monkeypatch_sleep):
    reply = call(APP, "GET", CONVERSATION + "x", headers=[*AUTH, ("Prefer", prefer.encode("utf-8", "surrogatepass"))])
    contract_answer(reply)
    if reply.status == 400:
        assert reply.json()["type"].endswith("/bad-prefer")
    assert all(s <= 10.0 for s in monkeypatch_sleep)


@pytest.fixture(scope="module")
def monkeypatch_sleep() -> Iterator[list[float]]:
    """Records the delays the app asks for instead of sleeping them (module scope: Hypothesis shares it)."""
    recorded: list[float] = []

    async def sleep(seconds: float) -> None:
        recorded.append(seconds)

    saved = app_module._sleep
    app_module._sleep = sleep  # type: ignore[assignment]
    try:
        yield recorded
    finally:
        app_module._sleep = saved


@pytest.mark.parametrize(
    "prefer",
    [
        "delay=99999999999999999999999999",
        "delay=10001",
        "delay=" + "9" * 4000,
        "delay=600000, code=200",
        'delay="86400000"',
    ],
)
def test_absurd_delays_are_capped(call, prefer, monkeypatch_sleep):
    monkeypatch_sleep.clear()
    reply = call(APP, "GET", CONVERSATION + "ready", headers=[*AUTH, ("Prefer", prefer)])
    assert (reply.status, reply.body) == (200, READY)
    assert monkeypatch_sleep == [MOCK.config.max_delay_ms / 1000] == [10.0]
