"""Secrets and exposure: the API key is in no artefact (server log, journal, error pages, `check` and `fuzz`
reports), whatever a client does with it; `serve` listens on 127.0.0.1 unless told otherwise; `--no-admin` turns
the `/__mock` endpoints off."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from mockserver.cli import _config, parser

from .support import CONVERSATION, KEY, KEY_HEADER, exchange, key_forms, report, request_bytes, run_cli, serve

ENCODED = quote(KEY, safe="")
WRONG = "not-the-key-4471"
BASIC = base64.b64encode(f"user:{KEY}".encode()).decode()

# Every place a client can put the key, with the right and a wrong value, on every kind of answer.
TRAFFIC: list[tuple[str, str, list[tuple[str, str]], bytes]] = [
    ("GET", CONVERSATION + "ready", [(KEY_HEADER, KEY)], b""),
    ("GET", CONVERSATION + "generated-1", [(KEY_HEADER, KEY), ("Origin", "http://localhost:3000")], b""),
    ("GET", CONVERSATION + "ready", [(KEY_HEADER, WRONG)], b""),  # 401
    ("GET", CONVERSATION + "ready", [], b""),  # 401
    ("GET", CONVERSATION + "ready", [("Authorization", f"Bearer {KEY}")], b""),  # 401: wrong place
    ("GET", CONVERSATION + "ready", [("Authorization", f"Basic {BASIC}")], b""),
    ("GET", CONVERSATION + "ready", [("Cookie", f"session={KEY}; {KEY_HEADER}={KEY}")], b""),
    ("GET", CONVERSATION + f"ready?api_key={ENCODED}&token={ENCODED}&q={ENCODED}&{ENCODED}=1", [(KEY_HEADER, KEY)],
     b""),
    ("GET", CONVERSATION + ENCODED, [], b""),  # the key as an id, no credentials: 401
    ("GET", f"/no/such/route/{ENCODED}", [(KEY_HEADER, KEY)], b""),  # 404
    ("DELETE", CONVERSATION + "ready", [(KEY_HEADER, KEY)], b""),  # 405
    ("GET", CONVERSATION + "%ff" + ENCODED, [(KEY_HEADER, KEY)], b""),  # 422
    ("GET", CONVERSATION + "ready", [(KEY_HEADER, KEY), ("Prefer", "code=abc")], b""),  # 400
    ("GET", CONVERSATION + "ready", [(KEY_HEADER, KEY), ("Prefer", "example=nope")], b""),  # 400 listing names
    ("GET", CONVERSATION + "ready", [(KEY_HEADER, KEY)], b"k" * 1_100_000),  # 413
    ("GET", CONVERSATION + "ready",
     [(KEY_HEADER, KEY), ("X-Debug", f"key={KEY}"), ("Referer", f"http://app.local/?key={ENCODED}")], b""),
    ("OPTIONS", CONVERSATION + "ready",
     [("Origin", "http://localhost:3000"), ("Access-Control-Request-Method", "GET"),
      ("Access-Control-Request-Headers", KEY_HEADER)], b""),
    ("GET", "/__mock/health", [(KEY_HEADER, KEY)], b""),
]  # fmt: skip


def _leaks(text: str) -> list[str]:
    return [form for form in (*key_forms(), WRONG, BASIC) if form in text]


@pytest.mark.e2e
def test_the_api_key_is_in_no_artefact(tmp_path: Path):
    artefacts: dict[str, str] = {}
    statuses: list[int] = []
    with serve(env={"MOCKSERVER_API_KEY": KEY}) as server:  # from the environment: not even in the process list
        for i, (method, target, headers, body) in enumerate(TRAFFIC):
            answer = exchange(server.port, request_bytes(method, target, headers, body))
            assert answer.status is not None and answer.status < 500
            statuses.append(answer.status)
            if answer.status >= 400:
                artefacts[f"error page {i} ({answer.status})"] = (answer.head + answer.body).decode("latin-1")
        journal = httpx.get(server.url + "/__mock/requests", timeout=10)
        mocked = len(TRAFFIC) - 2  # the CORS preflight and the admin call never reach the mock
        assert journal.status_code == 200 and journal.json()["total"] == mocked + 1  # + the preflight, journaled
        artefacts["journal JSON"] = journal.text
        artefacts["health JSON"] = httpx.get(server.url + "/__mock/health", timeout=10).text
    artefacts["server log"] = server.output()
    assert sum(line.startswith(("GET ", "DELETE ")) for line in server.stderr.lines) == mocked
    assert {401, 404, 405, 413, 422, 400} <= set(statuses)

    # Reports: `check` and `fuzz` against a server that fails half the time, so they report failures with
    # reproductions (curl lines, cassettes) that carry headers.
    with serve("--error-rate", "0.5", "--no-request-log", env={"MOCKSERVER_API_KEY": KEY}) as faulty:
        check, _ = run_cli("check", faulty.url, "--api-key", KEY, "--max-examples", "5", "--seed", "1",
                           "--junit-xml", str(tmp_path / "check.xml"), "--no-progress", timeout=300)  # fmt: skip
        # bounded by a count (--max-requests); --duration and the timeout only guard against a hang: under load a
        # 3-second run once sent a single request
        fuzz, _ = run_cli("fuzz", faulty.url, "--max-requests", "40", "--rate-limit", "100/s", "--duration", "240",
                          "--seed", "1", "--cassette", str(tmp_path / "fuzz.yaml"), "--junit-xml",
                          str(tmp_path / "fuzz.xml"), "--no-progress", timeout=300,
                          env={"MOCKSERVER_API_KEY": KEY})  # fmt: skip
    assert check.returncode == 1 and fuzz.returncode == 1, (check.stdout[-2000:], fuzz.stdout[-2000:])
    artefacts["check output"] = check.stdout + check.stderr
    artefacts["fuzz output"] = fuzz.stdout + fuzz.stderr
    for report_file in sorted(tmp_path.iterdir()):
        artefacts[f"report file {report_file.name}"] = report_file.read_text(errors="replace")
    assert {"check.xml", "fuzz.xml", "fuzz.yaml"} <= {p.name for p in tmp_path.iterdir()}
    assert "Reproduce" in artefacts["check output"] or "curl" in artefacts["check output"]

    leaked = {name: _leaks(text) for name, text in artefacts.items() if _leaks(text)}
    assert not leaked, leaked
    assert "[redacted]" in artefacts["journal JSON"]
    size = sum(len(text) for text in artefacts.values())
    report(
        f"secrets: {len(artefacts)} artefacts searched ({size / 1e6:.1f} MB: server log, journal, health, "
        f"{sum(name.startswith('error page') for name in artefacts)} error pages, check/fuzz output, JUnit XML, "
        f"cassette) for {len(key_forms()) + 2} forms of the key (5 encodings, a wrong key, a Basic credential): 0 found"
    )


def test_serve_listens_on_loopback_by_default():
    args = parser().parse_args(["serve"])
    assert args.host == "127.0.0.1"
    assert _config(parser().parse_args(["serve", "--no-admin"])).admin is False


@pytest.mark.e2e
def test_a_running_server_is_bound_to_127_0_0_1_only():
    with serve("--no-admin", "--no-request-log") as server:
        assert server.host == "127.0.0.1"
        listeners = _listening_addresses(server.port)
        assert listeners == {"127.0.0.1"}, listeners
        # --no-admin: the admin paths are just paths the contract does not have
        for path in ("/__mock/health", "/__mock/requests"):
            answer = exchange(server.port, request_bytes("GET", path))
            assert answer.status == 404 and b"/no-path" in answer.body
        assert "admin at" not in server.stderr.text()


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on `port`, from /proc/net/tcp and tcp6 (Linux)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                if len(address) == 8:
                    found.add(".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0)))
                else:
                    found.add("ipv6:" + address)
    return found
