"""How close a replay comes: the same probe requests sent to a real server, through `mockserver proxy --no-cors
--record DIR`, to `mockserver serve --fixtures DIR` replaying that recording, and to the real server again; every
answer of the replay compared with the real server's (status, body, the headers a frontend reads).

`python -m bench.recording --upstream-python /path/to/python` starts the real OpenHands server installed for that
Python (uvicorn on a free loopback port, an empty `./frontend/build` in a throwaway folder, a fresh file store, a
generated `SESSION_API_KEY`); `--upstream http://127.0.0.1:PORT` takes a running one (its key from
$SESSION_API_KEY). Prints the table and writes it to bench/RECORDING.md; answers, the recording and logs go to
bench/out/recording/.

Rules: traffic goes to loopback only (an upstream elsewhere is refused), one request at a time with a pause (the
real server limits a client to 10 requests/s). The key reaches the servers through their environment only: it is
never printed, and every answer, log and file kept here is scrubbed of it. Every process started here is stopped by
its pid, whatever happens. Not part of `make test` (it needs the real server); tests/test_bench_recording.py checks
`compare` on canned answers.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.servers import free_port, stop

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "recording"
RESULTS = ROOT / "bench" / "RECORDING.md"
SPEC = "contracts/openhands/openapi.json"
KEY_HEADER = "X-Session-API-Key"
REDACTED = "[redacted]"  # what the recorder writes for a secret-like value (contract/verdicts.py)
HIDDEN = "<key>"  # what the key becomes in everything kept here
LOOPBACK = ("127.0.0.1", "localhost", "::1")
SHOWN = ("content-type", "location", "allow", "access-control-allow-origin", "access-control-allow-credentials",
         "access-control-allow-methods", "access-control-allow-headers", "cache-control")  # fmt: skip

K = {KEY_HEADER: ""}  # the key, filled in when sending (the list itself holds no secret)
C, NX = "/api/conversations/", "/api/conversations/does-not-exist"
LOCAL, OTHER_PORT, EVIL = "http://localhost:3001", "http://localhost:5173", "https://evil.example"
PREFLIGHT = {"Access-Control-Request-Method": "GET"}
Probe = tuple[str, str, dict[str, str], bytes | None]
PROBES: list[Probe] = [
    ("GET", "/alive", {}, None), ("GET", "/health", {}, None), ("GET", "/server_info", {}, None),
    ("GET", "/api/options/models", K, None), ("GET", "/api/options/agents", K, None),
    ("GET", "/api/options/security-analyzers", K, None), ("GET", "/api/options/config", K, None),
    ("GET", "/api/settings", K, None), ("GET", "/api/settings", {}, None), ("GET", "/api/secrets", K, None),
    ("GET", "/api/conversations", K, None), ("GET", "/api/conversations?limit=5", K, None),
    ("GET", NX, K, None), ("GET", NX, {}, None), ("DELETE", NX, K, None), ("DELETE", NX, {}, None),
    ("HEAD", NX, K, None), ("HEAD", "/alive", {}, None),
    ("GET", NX + "/", K, None), ("GET", C + "a%2Fb", K, None), ("GET", C + "x%00y", K, None),
    ("GET", C + "x" * 300, K, None), ("POST", NX, K, None),
    ("GET", NX + "/config", K, None), ("GET", NX + "/vscode-url", K, None), ("GET", NX + "/web-hosts", K, None),
    ("GET", NX + "/events", K, None), ("GET", NX + "/microagents", K, None), ("GET", NX + "/trajectory", K, None),
    ("GET", NX + "/list-files", K, None), ("GET", NX + "/git/changes", K, None),
    ("GET", "/api/user/info", K, None), ("GET", "/api/user/repositories?selected_provider=github", K, None),
    ("GET", "/api/user/suggested-tasks", K, None), ("GET", "/api/user/installations?provider=github", K, None),
    ("GET", "/api/conversations?page_id=not-base64", K, None), ("GET", "/nope", {}, None),
    ("OPTIONS", NX, {"Origin": LOCAL, **PREFLIGHT, "Access-Control-Request-Headers": KEY_HEADER.lower()}, None),
    ("OPTIONS", NX, {"Origin": EVIL, **PREFLIGHT}, None),
    ("GET", "/api/options/agents", {**K, "Origin": LOCAL}, None),
    ("GET", "/api/options/agents", {**K, "Origin": OTHER_PORT}, None),
    ("GET", "/api/options/agents", {**K, "Origin": EVIL}, None),
    ("GET", NX + "/remember-prompt?event_id=1", K, None),
    ("GET", "/api/user/repository/branches?repository=a/b", K, None),
    ("GET", "/api/user/search/repositories?query=x", K, None),
    ("PATCH", NX, {**K, "Content-Type": "application/json"}, b'{"title": "x"}'), ("POST", NX + "/stop", K, None),
]  # fmt: skip
# Never sent through the proxy: how far the recording reaches past the requests it saw (a HEAD refused on one id of
# an operation is refused on every id of it; an operation whose HEAD was never seen is answered from its GET)
UNSEEN: list[Probe] = [("HEAD", C + "another-id", K, None), ("HEAD", "/api/options/agents", K, None)]


# --- the comparison: pure, checked by tests/test_bench_recording.py ---------------------------------------------

AGREE, VOLATILE, REDACTED_ONLY, DIFFERS = "agrees", "volatile", "redacted", "differs"


@dataclass(frozen=True)
class Row:
    probe: str
    real: int
    replay: int
    verdict: str  # AGREE; VOLATILE: the real server answered it differently twice; REDACTED_ONLY: the replay differs
    # only where the recording redacted a secret-like value; DIFFERS
    differences: tuple[str, ...] = ()


def compare(real: list[dict[str, Any]], replay: list[dict[str, Any]],
            real_before: list[dict[str, Any]] | None = None) -> list[Row]:  # fmt: skip
    """One row per probe: the replay's answer against the real server's (`real`), and why they differ; a probe the
    real server answered differently in `real_before` (an uptime, a clock) is VOLATILE when the replay differs."""
    rows = []
    before = real_before if real_before is not None else real
    for i, (a, b) in enumerate(zip(real, replay, strict=True)):
        differences = differ(a, b)
        if not differences:
            verdict = AGREE
        elif differ(a, before[i]):
            verdict = VOLATILE
        elif differences == ["body"] and _same(_parse(a["body"]), _parse(b["body"])) == REDACTED_ONLY:
            verdict = REDACTED_ONLY
        else:
            verdict = DIFFERS
        shown = tuple(_describe(a, b, what) for what in differences)
        rows.append(Row(a["probe"], a["status"], b["status"], verdict, shown))
    return rows


def differ(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """What differs between two answers: "status", "body" (as JSON when both are), header names of SHOWN."""
    found = ["status"] if a["status"] != b["status"] else []
    if _parse(a["body"]) != _parse(b["body"]):
        found.append("body")
    found.extend(k for k in SHOWN if a["headers"].get(k) != b["headers"].get(k))
    return found


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _same(real: Any, replay: Any) -> str:
    """AGREE, REDACTED_ONLY (equal but where the replay holds the recorder's redaction mark) or DIFFERS."""
    if real == replay:
        return AGREE
    if replay == REDACTED and isinstance(real, str):
        return REDACTED_ONLY
    if isinstance(real, dict) and isinstance(replay, dict) and real.keys() == replay.keys():
        verdicts = {_same(real[k], replay[k]) for k in real}
    elif isinstance(real, list) and isinstance(replay, list) and len(real) == len(replay):
        verdicts = {_same(x, y) for x, y in zip(real, replay, strict=True)}
    else:
        return DIFFERS
    return DIFFERS if DIFFERS in verdicts else REDACTED_ONLY


def _describe(a: dict[str, Any], b: dict[str, Any], what: str) -> str:
    if what == "status":
        return f"status {a['status']} vs {b['status']}"
    if what == "body":
        return f"body {a['body'][:60]!r} vs {b['body'][:60]!r}"
    return f"{what}: {a['headers'].get(what)!r} vs {b['headers'].get(what)!r}"


def counts(rows: list[Row]) -> dict[str, int]:
    return {verdict: sum(row.verdict == verdict for row in rows) for verdict in (AGREE, VOLATILE, REDACTED_ONLY,
                                                                                 DIFFERS)}  # fmt: skip


def headline(rows: list[Row], what: str = "the replay") -> str:
    n = counts(rows)
    return (f"{what} agrees with the real server on {n[AGREE]} of {len(rows)} probes; "
            f"{n[VOLATILE]} differ because the real server itself answered them differently, {n[REDACTED_ONLY]} only "
            f"where the recording redacted a secret-like value, {n[DIFFERS]} otherwise")  # fmt: skip


def table(rows: list[Row]) -> str:
    lines = ["| # | request | real | replay | verdict | difference |", "|---|---|---|---|---|---|"]
    for i, row in enumerate(rows, 1):
        text = "; ".join(row.differences).replace("|", "\\|").replace("\n", " ")
        probe = row.probe.replace("|", "\\|")
        lines.append(f"| {i} | `{probe}` | {row.real} | {row.replay} | {row.verdict} | {text} |")
    return "\n".join(lines)


# --- the run: processes on loopback, always stopped ------------------------------------------------------------


def probe(base: str, key: str, pause: float, probes: list[Probe] = PROBES) -> list[dict[str, Any]]:
    """Every probe, one at a time, raw paths as written; the answers with the key scrubbed out."""
    parts = urlsplit(base)
    answers = []
    for method, path, headers, body in probes:
        sent = {k: key if k == KEY_HEADER else v for k, v in headers.items() if k != KEY_HEADER or key}
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
            got = {k: response.getheader(k) for k in SHOWN if response.getheader(k) is not None}
        finally:
            conn.close()
        label = f"{method} {path[:80]}" + (" [key]" if KEY_HEADER in headers else " [no key]")
        label += f" Origin={headers['Origin']}" if "Origin" in headers else ""
        answers.append({"probe": label, "status": response.status,
                        "headers": {k: scrub(str(v), key) for k, v in got.items()},
                        "body": scrub(data.decode("utf-8", "replace")[:2000], key)})  # fmt: skip
        time.sleep(pause)
    return answers


def scrub(text: str, key: str) -> str:
    return text.replace(key, HIDDEN) if key else text


def loopback(url: str) -> str:
    host = urlsplit(url).hostname
    if host not in LOOPBACK:
        raise SystemExit(f"bench.recording: error: --upstream {url}: only a loopback server (127.0.0.1, localhost)")
    return url.rstrip("/")


@contextmanager
def process(name: str, cmd: list[str], env: dict[str, str], cwd: Path, log: Path, ready: str,
            timeout: float) -> Iterator[subprocess.Popen[bytes]]:  # fmt: skip
    """A child in its own session, ready once GET `ready` answers 200; stopped by its pid on the way out."""
    clean = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}  # loopback, never a proxy
    with open(log, "wb") as sink:
        proc = subprocess.Popen(cmd, cwd=cwd, env={**clean, **env}, stdout=sink, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        parts, deadline = urlsplit(ready), time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode} before answering (log: {log})")
            try:
                conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
                conn.request("GET", parts.path)
                status = conn.getresponse().status
                conn.close()
            except (OSError, http.client.HTTPException):
                status = 0
            if status == 200:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} gave no 200 to {parts.path} within {timeout:.0f} s (log: {log})")
            time.sleep(0.2)
        yield proc
    finally:
        stop(proc, grace=30)


def version(python: str) -> str:
    code = "import importlib.metadata as m; print(m.version('openhands-ai'))"
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    return done.stdout.strip() or "unknown version"


def run(args: argparse.Namespace) -> list[Row]:
    OUT.mkdir(parents=True, exist_ok=True)
    record = OUT / "recorded"
    shutil.rmtree(record, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix="mockserver-recording-"))
    mock = [sys.executable, "-m", "mockserver"]
    answers: dict[str, list[dict[str, Any]]] = {}
    key = ""
    try:
        with ExitStack() as stack:
            if args.upstream:
                upstream, key = loopback(args.upstream), os.environ.get("SESSION_API_KEY", "")
                server = f"the server at {upstream}"
            else:
                key, port = secrets.token_urlsafe(24), free_port()
                (work / "frontend" / "build").mkdir(parents=True)  # the SPA mount needs the folder, not a build
                env = {
                    "SESSION_API_KEY": key,
                    "FILE_STORE_PATH": str(work / "store"),
                    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                }  # litellm's price list from the package, not the network
                upstream = f"http://127.0.0.1:{port}"
                cmd = [args.upstream_python, "-m", "uvicorn", "openhands.server.listen:app", "--host", "127.0.0.1",
                       "--port", str(port)]  # fmt: skip
                print(f"bench.recording: starting OpenHands ({args.upstream_python}) on {upstream} ...", flush=True)
                stack.enter_context(process("the real server", cmd, env, work, work / "upstream.log",
                                            upstream + "/alive", args.startup_timeout))  # fmt: skip
                server = f"OpenHands {version(args.upstream_python)} (SESSION_API_KEY set)"
            keyed = {"MOCKSERVER_API_KEY": key} if key else {}
            answers["real_before"] = probe(upstream, key, args.pause)
            port = free_port()
            cmd = [*mock, "proxy", args.spec, "--upstream", upstream, "--port", str(port), "--no-cors",
                   "--record", str(record)]  # fmt: skip
            with process("mockserver proxy", cmd, keyed, ROOT, work / "proxy.log",
                         f"http://127.0.0.1:{port}/__mock/health", 120):  # fmt: skip
                answers["proxied"] = probe(f"http://127.0.0.1:{port}", key, args.pause)
            port = free_port()
            cmd = [*mock, "serve", args.spec, "--fixtures", str(record), "--port", str(port)]
            with process("mockserver serve", cmd, keyed, ROOT, work / "replay.log",
                         f"http://127.0.0.1:{port}/__mock/health", 120):  # fmt: skip
                answers["replayed"] = probe(f"http://127.0.0.1:{port}", key, args.pause)
                answers["unseen_replayed"] = probe(f"http://127.0.0.1:{port}", key, args.pause, UNSEEN)
            answers["real_after"] = probe(upstream, key, args.pause)
            answers["unseen_real"] = probe(upstream, key, args.pause, UNSEEN)
    finally:  # the logs kept, scrubbed of the key; the throwaway folder (and the server's file store) removed
        for log in work.glob("*.log"):
            (OUT / log.name).write_text(scrub(log.read_text(errors="replace"), key))
        shutil.rmtree(work, ignore_errors=True)
    (OUT / "answers.json").write_text(json.dumps(answers, indent=1))
    rows = compare(answers["real_after"], answers["replayed"], answers["real_before"])
    through = compare(answers["real_before"], answers["proxied"], answers["real_after"])
    unseen = compare(answers["unseen_real"], answers["unseen_replayed"])
    report(rows, through, unseen, server, args)
    return rows


def report(rows: list[Row], through: list[Row], unseen: list[Row], server: str, args: argparse.Namespace) -> None:
    command = "python -m bench.recording " + (f"--upstream {args.upstream}" if args.upstream
                                              else f"--upstream-python {args.upstream_python}")  # fmt: skip
    text = "\n".join([
        "# How close a replay comes (bench/recording.py)", "",
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, `{command}`, against {server}, contract `{args.spec}`.", "",
        f"**{headline(rows, 'The replay')}.** Through `mockserver proxy --no-cors` (recording): "
        f"{headline(through, 'the proxy')}.",
        "", "Each probe went to the real server, through the proxy recording it, to `mockserver serve --fixtures` "
        "replaying the recording (given the same key), and to the real server again; compared: status, body (as "
        "JSON), " + ", ".join(SHOWN) + ". *volatile*: the real server's two answers differ too (an uptime); "
        "*redacted*: the body differs only where the recorder wrote `[redacted]` for a value named like a key.", "",
        table(rows), "",
        "Not recorded (sent to the real server and the replay only, never through the proxy): how far a recording "
        "reaches past the requests it saw.", "",
        table(unseen), "",
    ])  # fmt: skip
    RESULTS.write_text(text)
    print(table(rows))
    print(f"\nnot recorded:\n{table(unseen)}")
    print(f"\n{headline(rows)}\nthrough the proxy: {headline(through, 'the proxy')}")
    print(f"bench.recording: wrote {RESULTS.relative_to(ROOT)}; answers, the recording and logs in "
          f"{OUT.relative_to(ROOT)}/")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.recording", description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--upstream-python", metavar="PYTHON", help="a Python with openhands-ai installed: started here")
    where.add_argument("--upstream", metavar="URL", help="a running server on loopback (its key: $SESSION_API_KEY)")
    parser.add_argument("--spec", default=SPEC, help=f"the contract (default: {SPEC})")
    parser.add_argument("--pause", type=float, default=0.3, help="seconds between requests (default: 0.3)")
    parser.add_argument("--startup-timeout", type=float, default=240, help="seconds to wait for the real server")
    args = parser.parse_args(argv)
    try:
        rows = run(args)
    except (RuntimeError, OSError, http.client.HTTPException) as exc:
        print(f"bench.recording: error: {exc}", file=sys.stderr)
        return 1
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
