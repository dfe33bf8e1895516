"""`check --shard I/N` end to end: the shards of a run against a real server, merged with `report merge`, say what
one unsharded run says. A server with one defective operation fails exactly one shard; a generated contract of
1,000 operations served by the mock gives the same test cases and findings sharded and merged as in one run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.responses import JSONResponse

from bench import contracts
from bench.sharding import cases
from mockserver import cli
from mockserver.check import shards
from mockserver.check.conformance import CHECKS
from mockserver.check.shards import Shard
from mockserver.contract.spec import load_spec
from tests.support import ROOT, Served, Server, serve
from tests.support import cli as cli_command

pytestmark = pytest.mark.e2e  # real servers on loopback ports

SHARDS = 4
SEED = "7"
FAST = ["--seed", SEED, "--max-examples", "1", "--no-progress", "--request-timeout", "5"]


def properties(path: Path) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in ET.parse(path).getroot().iter("property")}


# --- one defective operation among eight --------------------------------------------------------------------------

THINGS = 8
DEFECTIVE = 5  # GET /things5/{id} answers a string where the contract says integer
ONE_DEFECT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "eight things, one broken", "version": "1"},
    "paths": {
        f"/things{i}/{{id}}": {
            "get": {
                "operationId": f"get_thing_{i}",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {
                    "200": {
                        "description": "a thing",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["id", "size"],
                                    "properties": {"id": {"type": "string"}, "size": {"type": "integer"}},
                                }
                            }
                        },
                    }
                },
            }
        }
        for i in range(THINGS)
    },
}
# ... and three operations that read-only `check` skips: each shard lists its share of them
for _i in range(3):
    ONE_DEFECT["paths"][f"/things{_i}/{{id}}"]["delete"] = {
        "operationId": f"delete_thing_{_i}",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"204": {"description": "gone"}},
    }


async def one_defect_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """GET /things{n}/{id}: a valid thing, except for n == DEFECTIVE. Raw ASGI, so that any id matches: check's
    boundary cases send control characters, an encoded slash, dot segments and a trailing slash."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    found = re.fullmatch(r"/things(\d+)/(.+)", scope["path"], re.DOTALL)
    if found is None or scope["method"] not in ("GET", "HEAD"):
        response = JSONResponse({"detail": "Not Found"}, status_code=404)
    else:
        n, thing = int(found.group(1)), found.group(2)
        response = JSONResponse({"id": thing, "size": "big" if n == DEFECTIVE else 3})
    await response(scope, receive, send)


def test_one_defect_fails_exactly_one_shard(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "things.json"
    spec.write_text(json.dumps(ONE_DEFECT))
    broken = f"GET /things{DEFECTIVE}/{{id}}"
    operations = load_spec(spec).operations
    gets = [op for op in operations if op.method == "GET"]
    owner = next(i for i in range(1, SHARDS + 1) if broken in {op.key for op in shards.pick(gets, Shard(i, SHARDS))})
    codes, reports = {}, []
    with Served(one_defect_app) as server:
        for i in range(1, SHARDS + 1):
            junit = tmp_path / f"shard-{i}.xml"
            codes[i] = cli.main(["check", server.url, "--spec", str(spec), "--shard", f"{i}/{SHARDS}", *FAST,
                                 "--junit-xml", str(junit)])  # fmt: skip
            out, err = capsys.readouterr()
            mine = [op.key for op in shards.pick(gets, Shard(i, SHARDS))]
            assert f"mockserver check: shard {i}/{SHARDS}: 2 operations: {', '.join(mine)}\n" in err
            assert (broken in out) == (i == owner), out
            reports.append(junit)
        whole = tmp_path / "whole.xml"
        assert cli.main(["check", server.url, "--spec", str(spec), *FAST, "--junit-xml", str(whole)]) == 1
    assert codes == {i: 1 if i == owner else 0 for i in codes}
    merged = tmp_path / "merged.xml"
    assert cli.main(["report", "merge", str(merged), *map(str, reports)]) == 1
    summary = capsys.readouterr().out
    assert f"shard {owner}/{SHARDS}: FAILED" in summary
    assert summary.count(": FAILED") == 1 and summary.count(": PASSED") == SHARDS - 1
    assert "warning" not in summary  # no test case in two shards, one seed
    assert f"failure: {broken} response_schema_conformance: Response violates schema" in summary
    failed = {(operation, check) for operation, check, failures in cases(merged) if failures}
    assert failed == {(broken, "response_schema_conformance")}
    # Every operation once: the GETs as tested, the DELETEs as skipped by the read-only rule, as in one run
    assert {operation for operation, *_ in cases(merged)} == {op.key for op in operations}
    skipped = [operation for operation, name, _ in cases(merged) if name == "read-only"]
    assert sorted(skipped) == sorted(op.key for op in operations if op.method == "DELETE")
    assert cases(merged) == cases(whole)
    assert properties(merged)["exit-code"] == "1"


def test_a_shard_without_operations_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "things.json"
    spec.write_text(json.dumps(ONE_DEFECT))
    junit = tmp_path / "shard-9.xml"
    with Served(one_defect_app) as server:  # 8 GETs and 3 DELETEs in 9 shards: the 9th gets none of either
        code = cli.main(["check", server.url, "--spec", str(spec), "--shard", "9/9", *FAST, "--junit-xml", str(junit)])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "shard 9/9: no operation falls in this shard (more shards than operations); nothing to test" in err
    assert cases(junit) == []
    found = properties(junit)
    assert found.pop("requests").isdigit()  # the reachability check, at most
    assert (found.pop("reached"), found.pop("verdict")) == ("0", "PASSED")
    assert found == {"shard": "9/9", "seed": SEED, "operations": "0", "exit-code": "0"}


def readme_recipe(kind: str) -> tuple[str, str]:
    """The check command and the merge command of the sharded CI recipe of docs/ci.md ("GitHub Actions" or "GitLab")."""
    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8").split("## Sharding a big contract", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", text.split(f"### {kind}", 1)[1], re.DOTALL)
    assert block, kind
    jobs = yaml.safe_load(block.group(1))
    if kind == "GitHub Actions":
        lines = [step.get("run", "") for job in jobs["jobs"].values() for step in job["steps"]]
    else:
        lines = [line for job in jobs.values() for line in job.get("script", [])]
    [check] = [line for line in lines if line.startswith("mockserver check")]
    [merge] = [line for line in lines if line.startswith("mockserver report merge")]
    return check, merge


@pytest.mark.parametrize("kind", ["GitHub Actions", "GitLab"])
def test_the_readme_ci_recipes_run_as_written(kind: str, tmp_path: Path) -> None:
    """Each shard's command and the merge command, as docs/ci.md writes them, against the one-defect server
    (instead of your server on port 3000); the shards' reports land in one folder, as the artifacts do."""
    check, merge = readme_recipe(kind)
    (tmp_path / "openapi.yaml").write_text(json.dumps(ONE_DEFECT))  # JSON is YAML
    env = {**os.environ, "PATH": f"{Path(cli_command()[0]).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "MOCKSERVER_API_KEY": "recipe-key-0f3c", "CI_NODE_TOTAL": str(SHARDS), "CI_PIPELINE_IID": "17"}  # fmt: skip
    with Served(one_defect_app) as server:
        for i in range(1, SHARDS + 1):
            command = check.replace("${{ matrix.shard }}", str(i)).replace("${{ github.run_number }}", "17")
            command = command.replace("http://127.0.0.1:3000", server.url)
            done = subprocess.run(["bash", "-c", command], cwd=tmp_path, env={**env, "CI_NODE_INDEX": str(i)},
                                  capture_output=True, text=True, timeout=120)  # fmt: skip
            assert done.returncode in (0, 1), done.stdout + done.stderr
            assert f"shard {i}/{SHARDS}: 2 operations" in done.stderr
    done = subprocess.run(["bash", "-c", merge], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    total = THINGS * len(CHECKS) + 3  # every check of every GET, and the three DELETEs skipped as unsafe
    assert f"FAILED: 1 failure in {total} test cases from 4 of 4 shards, seed 17" in done.stdout
    merged = tmp_path / "merged" / "check.xml"
    failed = {operation for operation, _, failures in cases(merged) if failures}
    assert failed == {f"GET /things{DEFECTIVE}/{{id}}"}


# --- a generated contract of 1,000 operations -----------------------------------------------------------------------

OPERATIONS = 1000
KEY = "shard-test-key-5e1f"
TAMPERED = range(3, OPERATIONS, 40)  # the checked contract says these answer state "GONE": the mock never does


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    """The mock serving the generated contract, and the contract `check` gets: the same, except that a few
    operations promise a state the mock never sends, so the runs have findings to compare."""
    folder = tmp_path_factory.mktemp("large")
    document = contracts.contract(OPERATIONS)
    served = folder / "served.json"
    served.write_text(json.dumps(document))
    for i in TAMPERED:
        document["components"]["schemas"][f"Resource{i}"]["properties"]["state"]["enum"] = ["GONE"]
    checked = folder / "checked.json"
    checked.write_text(json.dumps(document))
    with serve(str(served), "--no-request-log", "--api-key", KEY, timeout=60) as server:
        yield server, checked


def check(server: Server, spec: Path, junit: Path, *extra: str) -> subprocess.Popen[str]:
    """The real CLI, as a CI job runs it (the caller waits for it)."""
    command = [*cli_command(), "check", server.url, "--spec", str(spec), *FAST, "--junit-xml", str(junit), *extra]
    env = {**os.environ, "MOCKSERVER_API_KEY": KEY}
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=junit.parent
    )


@pytest.mark.parametrize(
    "every",
    [
        # make test: the same mechanism on 50 of the 1,000 operations, every tampered one among them
        pytest.param(20, id="every-20th-operation"),
        pytest.param(1, id="every-operation", marks=pytest.mark.slow),  # ~3.5 min here; bench/ runs it too
    ],
)
def test_shards_of_a_large_contract_merge_into_the_unsharded_run(
    large: tuple[Server, Path], every: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server, spec = large
    chosen = [i for i in range(OPERATIONS) if i % every == 3 % every]
    include = [] if every == 1 else [arg for i in chosen for arg in ("--include", f"get_resource_{i}")]
    expected = {f"GET /resources{i}/{{item_id}}" for i in chosen}
    runs = {i: check(server, spec, tmp_path / f"shard-{i}.xml", "--shard", f"{i}/{SHARDS}", *include)
            for i in range(1, SHARDS + 1)}  # fmt: skip
    outputs = {i: run.communicate(timeout=600) for i, run in runs.items()}
    whole = check(server, spec, tmp_path / "whole.xml", *include)
    whole_out, whole_err = whole.communicate(timeout=600)
    assert whole.returncode == 1, whole_out + whole_err  # the tampered operations
    # Each shard ran its share, and the shares add up to the selection, each operation exactly once
    seen: Counter[str] = Counter()
    for i, run in runs.items():
        out, err = outputs[i]
        assert run.returncode in (0, 1), out + err
        ops = {operation for operation, *_ in cases(tmp_path / f"shard-{i}.xml")}
        assert f"shard {i}/{SHARDS}: {len(ops)} operations" in err
        assert properties(tmp_path / f"shard-{i}.xml")["operations"] == str(len(ops))
        seen.update(ops)
    assert set(seen) == expected and set(seen.values()) == {1}
    sizes = [int(properties(tmp_path / f"shard-{i}.xml")["operations"]) for i in runs]
    assert max(sizes) - min(sizes) <= 1 and sum(sizes) == len(expected)
    merged = tmp_path / "merged.xml"
    code = cli.main(["report", "merge", str(merged), *(str(tmp_path / f"shard-{i}.xml") for i in runs)])
    summary = capsys.readouterr().out
    assert code == 1, summary
    # The same test cases and the same findings (messages, received bodies, reproducing curls) as one run
    assert cases(merged) == cases(tmp_path / "whole.xml")
    failing = {operation for operation, _, failures in cases(merged) if failures}
    assert failing == {f"GET /resources{i}/{{item_id}}" for i in TAMPERED if i in chosen}
    assert properties(merged)["seed"] == properties(tmp_path / "whole.xml")["seed"] == SEED
    assert properties(merged)["operations"] == str(len(expected))
    assert KEY not in merged.read_text()
