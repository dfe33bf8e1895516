"""Broken contracts and fixtures stop `mockserver serve` (and `fixtures check`) with exit code 2, one line naming the
file, the location and the reason, without a traceback and without leaving anything listening. How fast is not
asserted here (a loaded machine would make that flaky): a run that hangs fails at HANG_S, the slowest time is
reported in the counts line, and bench/ measures start-up."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .support import free_port, listening, report, run_cli

HANG_S = 60.0  # a guard against a hang, not a speed bound (a refusal takes a fraction of a second when quiet)
HEAD = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\n"
GET_A = HEAD + "paths:\n  /a:\n    get:\n      responses:\n        '200':\n          description: ok\n"


def _schema_ref(ref: str) -> str:
    return GET_A + f"          content:\n            application/json:\n              schema: {{$ref: '{ref}'}}\n"


def _bomb() -> str:
    lines = ["  a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"  {name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
    return HEAD + "paths: {}\nx-bomb:\n" + "\n".join(lines) + "\n"  # 10^9 nodes once expanded


FIXTURE = "operation: GET /api/conversations/{conversation_id}\n"


@dataclass
class Case:
    name: str
    files: dict[str, str | bytes]  # relative path -> content; "@link" values make a symlink to that relative path
    spec: str | None = "spec.yaml"  # None: the built-in contract
    fixtures: str | None = None
    expect: list[str] = field(default_factory=list)  # location and reason, each must appear in the message
    named: str | None = None  # the file the message must name (default: the spec, or the one fixture file)


CONTRACTS = [
    Case("empty file", {"spec.yaml": ""}, expect=["empty document"]),
    Case("only comments", {"spec.yaml": "# nothing here\n\n   \n"}, expect=["not an OpenAPI document"]),
    Case(
        "binary file", {"spec.yaml": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))}, expect=["binary file"]
    ),
    Case("not UTF-8", {"spec.yaml": HEAD.encode() + b"x-name: caf\xe9\n"}, expect=["not UTF-8", "byte 57"]),
    Case("YAML alias bomb", {"spec.yaml": _bomb()}, expect=["/x-bomb/i/", "expands to more than 2,000,000 nodes"]),
    Case(
        "deeply nested JSON",
        {"spec.json": "[" * 100_000 + "]" * 100_000},
        spec="spec.json",
        expect=["nested too deeply"],
    ),
    Case(
        "deeply nested YAML",
        {"spec.yaml": HEAD + "x-deep: " + "[" * 300 + "]" * 300 + "\n"},
        expect=["/x-deep/0/0/", "nested deeper than 200 levels"],
    ),
    Case(
        "invalid YAML",
        {"spec.yaml": HEAD + "paths:\n  /a:\n    get: [unclosed\n"},
        expect=["line 6 column 1", "invalid YAML"],
    ),
    Case(
        "invalid JSON",
        {"spec.json": '{"openapi": "3.1.0",\n "paths": {,}}'},
        spec="spec.json",
        expect=["line 2 column 12", "invalid JSON"],
    ),
    Case("not a mapping", {"spec.yaml": "- 1\n- 2\n"}, expect=["top level is not a mapping"]),
    Case(
        "unresolvable $ref",
        {"spec.yaml": _schema_ref("#/components/schemas/Nope")},
        expect=["/paths/~1a/get/responses/200/content/application~1json/schema/$ref", "points nowhere"],
    ),
    Case(
        "circular-only schema $ref",
        {
            "spec.yaml": _schema_ref("#/components/schemas/A")
            + "components:\n  schemas:\n    A: {$ref: '#/components/schemas/B'}\n"
            "    B: {$ref: '#/components/schemas/A'}\n"
        },
        expect=["/components/schemas/A", "circular $ref", "/components/schemas/B"],
    ),
    Case(
        "circular-only parameter $ref",
        {
            "spec.yaml": HEAD + "paths:\n  /a:\n    get:\n      parameters: [{$ref: '#/components/parameters/P'}]\n"
            "      responses: {'200': {description: ok}}\n"
            "components:\n  parameters:\n    P: {$ref: '#/components/parameters/Q'}\n"
            "    Q: {$ref: '#/components/parameters/P'}\n"
        },
        expect=["/components/parameters/", "refers to itself"],
    ),  # fmt: skip
    Case(
        "remote $ref, connection refused",
        {"spec.yaml": _schema_ref("http://127.0.0.1:9/x.yaml#/Pet")},
        expect=["/schema/$ref", "cannot fetch", "Connection refused"],
    ),
    Case(
        "$ref to a missing file",
        {"spec.yaml": _schema_ref("common.yaml#/Pet")},
        expect=["/schema/$ref", "common.yaml", "No such file"],
    ),
    Case(
        "Swagger 2.0",
        {"spec.yaml": "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\n"},
        expect=["/swagger", "OpenAPI 2.0 is not supported"],
    ),
    Case(
        "OpenAPI 4",
        {"spec.yaml": "openapi: 4.0.0\ninfo: {title: t, version: '1'}\npaths: {}\n"},
        expect=["/openapi", "'4.0.0'"],
    ),
    Case(
        "not JSON Schema: bad type",
        {
            "spec.yaml": GET_A
            + "          content:\n            application/json:\n              schema: {type: strin}\n"
        },
        expect=["/schema/type", "not a valid JSON Schema"],
    ),
    Case(
        "not JSON Schema: bad regex",
        {
            "spec.yaml": GET_A
            + "          content:\n            application/json:\n              schema: {type: string, pattern: '(['}\n"
        },
        expect=["/schema/pattern", "not a valid JSON Schema"],
    ),
    Case(
        "not JSON Schema: bad bound",
        {
            "spec.yaml": HEAD + "paths:\n  /a:\n    get:\n"
            "      parameters: [{name: q, in: query, schema: {type: integer, minimum: lots}}]\n"
            "      responses: {'200': {description: ok}}\n"
        },
        expect=["/paths/~1a/get/parameters/0/schema/minimum", "not a valid JSON Schema"],
    ),
    Case(
        "duplicate operationIds",
        {
            "spec.yaml": HEAD + "paths:\n  /a:\n    get: {operationId: same, responses: {'200': {description: ok}}}\n"
            "  /b:\n    get: {operationId: same, responses: {'200': {description: ok}}}\n"
        },
        expect=["/paths/~1b/get/operationId", "duplicate operationId 'same'", "/paths/~1a/get"],
    ),
    Case(
        "a path without '/'",
        {"spec.yaml": HEAD + "paths:\n  pets:\n    get: {responses: {'200': {description: ok}}}\n"},
        expect=["/paths/pets", "must start with '/'"],
    ),
    Case("missing file", {}, spec="nothere.yaml", expect=["No such file"]),
    Case("a folder", {"folder/x": ""}, spec="folder", expect=["is a directory"]),
]

FIXTURES = [
    Case(
        "fixture violates the contract",
        {
            "f/bad.yaml": FIXTURE + "match: {path: {conversation_id: x}}\n"
            "response: {status: 200, body: {conversation_id: x, title: t, status: PAUSED}}\n"
        },
        expect=["/response/body/status", "does not match the contract", "PAUSED"],
    ),
    Case(
        "fixture in bad YAML",
        {"f/bad.yaml": FIXTURE + "response:\n  status: 200\n  body: {a: [1, 2\n"},
        expect=["line 5 column 1", "invalid YAML"],
    ),
    Case(
        "fixture for an operation that does not exist",
        {"f/bad.yaml": "operation: DELETE /api/nothing\nresponse: {status: 200}\n"},
        expect=["/operation", "no operation 'DELETE /api/nothing'"],
    ),
    Case(
        "fixture with an undocumented status",
        {"f/bad.yaml": FIXTURE + "response: {status: 418, body: {}}\n"},
        expect=["/response/status", "does not document status 418"],
    ),
    Case(
        "fixture with an unknown key",
        {"f/bad.yaml": FIXTURE + "respons: {status: 200}\n"},
        expect=["/respons", "unknown key"],
    ),
    Case("empty fixture", {"f/bad.yaml": ""}, expect=["empty document"]),
    Case("binary fixture", {"f/bad.yaml": b"\x00\x01\x02" * 100}, expect=["binary file"]),
    Case(
        "duplicate fixture names",
        {
            "f/a.yaml": FIXTURE + "name: same\nresponse: {status: 200, body: null}\n",
            "f/b.yaml": FIXTURE + "name: same\nresponse: {status: 200, body: null}\n",
        },
        expect=["/name", "already used"],
        named="f/b.yaml",
    ),
    Case(
        "fixture symlinked outside the folder",
        {
            "outside/secret.yaml": FIXTURE + "response: {status: 200, body: null}\n",
            "f/evil.yaml": "@outside/secret.yaml",
        },
        expect=["outside the fixtures folder"],
        named="f/evil.yaml",
    ),
    Case("missing fixtures folder", {}, expect=["fixtures folder does not exist"], named="f"),
]
for case in FIXTURES:
    case.spec, case.fixtures = None, "f"

TIMES: list[float] = []


@pytest.fixture(scope="module", autouse=True)
def _summary() -> Iterator[None]:
    yield
    if TIMES:
        report(
            f"bad inputs: {len(CONTRACTS)} broken contracts and {len(FIXTURES)} broken fixture sets, "
            f"{len(TIMES)} CLI runs stopped with exit 2, file, location and reason, no traceback, no listener left; "
            f"slowest {max(TIMES):.2f} s"
        )


def _plant(case: Case, folder: Path) -> None:
    for relative, content in case.files.items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str) and content.startswith("@"):
            target.symlink_to(folder / content[1:])
        elif isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)


def _name(command: tuple[str, ...]) -> str:
    """The command as the error prefix names it: `serve`, `fixtures check`."""
    return " ".join(command[:2]) if command[0] == "fixtures" else command[0]


def _check(case: Case, folder: Path, *command: str) -> None:
    result, elapsed = run_cli(*command, timeout=HANG_S, cwd=folder)
    err = result.stderr
    assert result.returncode == 2, (result.returncode, err)
    assert "Traceback" not in err + result.stdout
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"mockserver {_name(command)}: error: "), err
    named = case.named or (next(iter(case.files)) if case.fixtures else case.spec)
    assert named and named in lines[0], (named, lines[0])
    for expected in case.expect:
        assert expected in lines[0], (expected, lines[0])
    if command[0] == "serve":
        assert "serving" not in err
        assert not listening(int(command[command.index("--port") + 1]))
    TIMES.append(elapsed)


@pytest.mark.e2e
@pytest.mark.parametrize("case", CONTRACTS, ids=lambda c: c.name)
def test_a_broken_contract_stops_start_up(case, tmp_path):
    # --strict: by default a mistake the mock can work around is a warning (docs/leniency.md, tests/serve/
    # test_realworld.py); what is not a contract at all stops start-up either way
    _plant(case, tmp_path)
    _check(case, tmp_path, "serve", str(case.spec), "--strict", "--port", str(free_port()))


@pytest.mark.e2e
@pytest.mark.parametrize("case", FIXTURES, ids=lambda c: c.name)
def test_a_broken_fixture_stops_fixtures_check(case, tmp_path):
    _plant(case, tmp_path)
    _check(case, tmp_path, "fixtures", "check", "--fixtures", str(case.fixtures))


@pytest.mark.e2e
@pytest.mark.parametrize("case", [FIXTURES[0], FIXTURES[-2]], ids=lambda c: c.name)
def test_a_broken_fixture_stops_start_up_before_any_worker_listens(case, tmp_path):
    _plant(case, tmp_path)
    _check(case, tmp_path, "serve", "--fixtures", str(case.fixtures), "--port", str(free_port()), "--workers", "2")
