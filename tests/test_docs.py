"""The docs' examples, run: every `console` and `sh` block of docs/ and README.md against the real CLI, with the
outputs they show compared (docs/contributing-docs.md says how a block is read); and the command-line reference
checked against each command's --help.

Rules: one mock per distinct `mockserver serve` line, started once and reset before each block; commands run in a
scratch folder per page with a deadline each; traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from mockserver import cli
from tests.support import ROOT, Server, require, serve

DOCS = ROOT / "docs"
PAGES = sorted(p.relative_to(ROOT).as_posix() for p in DOCS.rglob("*.md")) + ["README.md"]
MOCK = "http://127.0.0.1:4010"
MARKER = re.compile(r"<!--\s*(test:\s*skip|file:)\s*(.*?)\s*-->")
FENCE = re.compile(r"^( *)```(\w*)")
SERVE = re.compile(r"^mockserver serve\b(.*)$")
DEADLINE = 120  # seconds for one command: only a hang reaches it


@dataclass
class Block:
    page: str
    line: int
    lang: str
    text: str
    skip: str | None = None
    file: str | None = None

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(page: str) -> list[Block]:
    """The fenced blocks of a page, with the marker comment on the line before each (if any)."""
    lines = (ROOT / page).read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        indent, lang, start = fence.group(1), fence.group(2), i
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
            i += 1
        block = Block(page, start + 1, lang, "\n".join(body) + "\n")
        previous = lines[start - 1].strip() if start else ""
        marker = MARKER.fullmatch(previous)
        if marker and marker.group(1).startswith("test"):
            block.skip = marker.group(2) or "no reason given"
        elif marker:
            block.file = marker.group(2)
        found.append(block)
        i += 1
    return found


def commands(text: str) -> list[tuple[str, list[str] | None]]:
    """A console block's `$ command` lines (joined over trailing backslashes) and the output each must print
    (None: none shown, so it must exit 0)."""
    found: list[tuple[str, list[str]]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        assert line.startswith("$ "), f"a console block starts with a `$ ` command, got {line!r}"
        command = line[2:]
        while command.endswith("\\") and i + 1 < len(lines):
            i += 1
            command += "\n" + lines[i]  # bash reads the backslash-newline
        i += 1
        output: list[str] = []
        while i < len(lines) and not lines[i].startswith("$ "):
            output.append(lines[i])
            i += 1
        found.append((command, output))
    return [(command, output or None) for command, output in found]


def matches(expected: list[str], actual: str) -> bool:
    """`...` matches any text within a line, and a line of its own any number of lines; trailing spaces ignored."""
    pattern = ""
    for line in expected:
        if line.strip() == "...":
            pattern += r"(?:[^\n]*\n)*?"
        else:
            pattern += r"[^\n]*?".join(re.escape(part) for part in line.rstrip().split("...")) + r"\n"
    text = "".join(line.rstrip() + "\n" for line in actual.splitlines())
    return re.fullmatch(pattern, text) is not None


class Mocks:
    """One running mock per distinct `mockserver serve` argument list, each started on first use."""

    def __init__(self, stack: contextlib.ExitStack) -> None:
        self.stack = stack
        self.running: dict[tuple[str, ...], Server] = {}

    def get(self, args: tuple[str, ...]) -> Server:
        if args not in self.running:
            self.running[args] = self.stack.enter_context(serve(*args, "--no-request-log"))
        server = self.running[args]
        httpx.post(f"{server.url}/__mock/reset", timeout=DEADLINE).raise_for_status()
        return server


@pytest.fixture(scope="module")
def mocks() -> Iterator[Mocks]:
    with contextlib.ExitStack() as stack:
        yield Mocks(stack)


def _environment(scratch: Path) -> dict[str, str]:
    (scratch / ".curlrc").write_text("silent\nshow-error\n")  # what a terminal shows: no progress meter
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    # unbuffered: stdout and stderr interleave in one pipe as they would on a terminal
    return {**os.environ, "PATH": path, "CURL_HOME": str(scratch), "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}


def _run(command: str, cwd: Path, env: dict[str, str], url: str) -> tuple[int, str]:
    done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", command.replace(MOCK, url)], cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=DEADLINE)  # fmt: skip
    return done.returncode, done.stdout.replace(url, MOCK).replace(f"{cwd}/", "")


@pytest.mark.e2e
@pytest.mark.parametrize("page", PAGES)
def test_the_examples_of_a_page_run_as_written(page: str, mocks: Mocks, tmp_path: Path) -> None:
    env = _environment(tmp_path)
    ran = 0
    for block in blocks(page):
        if block.file:
            target = tmp_path / block.file
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text, encoding="utf-8")
        if block.skip or block.lang not in ("console", "sh"):
            continue
        require("curl")
        if "| jq" in block.text:
            require("jq")
        steps = commands(block.text) if block.lang == "console" else [(block.text, None)]
        args: tuple[str, ...] = ()
        first = SERVE.match(steps[0][0].strip()) if steps else None
        if first and steps[0][1] is None:  # the block's own server: started (once), not run
            args = tuple(first.group(1).split())
            steps = steps[1:]
        url = mocks.get(args).url if MOCK in block.text else MOCK
        for command, expected in steps:
            code, output = _run(command, tmp_path, env, url)
            where = f"{block.where}: $ {command}\n--- got (exit {code}):\n{output}"
            if expected is None:
                assert code == 0, where
            else:
                assert matches(expected, output), where + "--- expected:\n" + "\n".join(expected)
            ran += 1
    print(f"{page}: {ran} commands run")


def test_the_readme_is_a_quickstart_that_links_to_every_task_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    nav = re.findall(r"^  - [^:]+: (\S+\.md)$", (ROOT / "mkdocs.yml").read_text(encoding="utf-8"), re.MULTILINE)
    assert len(nav) >= 7 and all(f"(docs/{page})" in readme for page in nav if "/" not in page and page != "index.md")


def test_the_output_matcher() -> None:
    assert matches(["a ...c", "...", "z"], "a b c\nx\ny\nz\n")
    assert matches(["200 200 ...429..."], "200 200 200 429 429 \n")
    assert not matches(["a ...c", "z"], "a b c\nx\nz\n")
    assert not matches(["null"], "null\nmore\n")


def test_blocks_are_read_with_their_markers() -> None:
    found = blocks("docs/contributing-docs.md") + blocks("docs/frontend.md")
    assert any(b.file == "my-fixtures/paused.yaml" and "PAUSED" in b.text for b in found)
    assert any(b.skip and "stands for yours" in b.skip for b in found)
    assert commands("$ a \\\n  b\nout\n$ c\n") == [("a \\\n  b", ["out"]), ("c", None)]


# --- the command-line reference -----------------------------------------------------------------------------------

SECTIONS = {  # heading of docs/reference/cli.md -> the commands it documents
    "`mockserver serve`": [["serve"]],
    "`mockserver proxy`": [["proxy"]],
    "`mockserver fixtures check`": [["fixtures", "check"]],
    "`mockserver check` and `mockserver fuzz`": [["check"], ["fuzz"]],
    "`mockserver replay`": [["replay"]],
    "`mockserver report merge`": [["report", "merge"]],
    "`mockserver diff`": [["diff"]],
}
FLAG = re.compile(r"(?<![\w-])--?[a-zA-Z][\w-]*")


def _help_flags(command: list[str]) -> set[str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        cli.main([*command, "--help"])
    flags: set[str] = set()
    for line in out.getvalue().splitlines():
        option = re.match(r"^  (-\S.*?)(?:\s{2,}|$)", line)
        if option:
            flags |= set(FLAG.findall(option.group(1)))
    return flags - {"-h", "--help"}


def _reference_sections() -> dict[str, str]:
    text = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    parts = re.split(r"^## (.*?)(?: \{#[\w-]+\})?$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_every_command_has_a_section_in_the_cli_reference() -> None:
    assert {command[0] for commands in SECTIONS.values() for command in commands} == set(cli.COMMANDS)
    assert set(SECTIONS) <= set(_reference_sections())


@pytest.mark.parametrize("heading", SECTIONS)
def test_the_cli_reference_lists_each_option_of_its_commands(heading: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    section = _reference_sections()[heading]
    documented = {flag for flag in FLAG.findall(section) if flag.startswith("--") or len(flag) == 2}
    offered = set().union(*(_help_flags(command) for command in SECTIONS[heading]))
    assert offered - documented == set(), f"options missing from docs/reference/cli.md, {heading}"
    assert {f for f in documented - offered if f.startswith("--")} == set(), f"not options of {heading}"
