"""The verdict plumbing both products share: what is a secret and how it is kept out of text, which answers are never
held against a server, and the one JUnit writer.

Rules: a secret is replaced by value only when it has at least `MIN_SECRET` characters (a shorter one would eat
ordinary text: "k" is in every line); shorter ones are kept out by name only, and the checker refuses a configured key
that short (`key_problem`), because a report can only keep the key out by value. A value is searched for in every
form it takes on the wire (`security.wire_forms`), longest first. A status the contract does not document is never
held against a server when it asks the client to come back (429), or refuses a request that sent no credentials
(401/403); with credentials sent, an undocumented 401/403 is the server's. JUnit: one `<testsuite>` in a
`<testsuites>`, a `<testcase>` per (operation, check) with `classname` the operation under test ("METHOD /path", or
"run" for the run itself) and `name` the check; the suite's properties end with `exit-code`, which `report merge`
reads as the file's verdict.
"""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import security
from .words import count

# Shorter values are redacted by name only. 4, not 8: a longer minimum would leave a 4-7 character credential in the
# mock's journal and recorded fixtures, while a shorter one costs the checker's report only over-redaction (which its
# curl lines expand back, since the placeholder is a shell variable holding that very text)
MIN_SECRET = 4
REDACTED = "[redacted]"
# Names whose values are credentials whatever the contract says: anywhere in the name, so that a new spelling
# ("X-Csrftoken", "session_api_key") is redacted rather than missed (fail closed)
_SECRET_NAME = re.compile(r"auth|key|token|secret|passw|session|cookie|credential", re.I)

EXIT_CODE = "exit-code"  # the <property> of a suite that `report merge` reads as its verdict
RUN = "run"  # the classname of a case about the run itself, not an operation
# Undocumented statuses never held against a server: (reason, whether it needs the request to lack credentials)
NEVER_HELD = {
    429: ("rate limited", False),
    401: ("the request carried no valid credentials", True),
    403: ("the request carried no valid credentials", True),
}


# --- secrets ------------------------------------------------------------------------------------------------------


def secret_name(name: str) -> bool:
    """Whether a header, query, cookie or JSON member name holds a credential (redacted by name, whatever its value)."""
    return bool(_SECRET_NAME.search(name))


def searchable(secrets: Iterable[str | None]) -> list[str]:
    """The texts to search for: every wire form of each secret long enough to replace by value, longest first (so
    replacing one never leaves part of another)."""
    forms = {form for secret in secrets if secret and len(secret) >= MIN_SECRET for form in security.wire_forms(secret)}
    return sorted((form for form in forms if len(form) >= MIN_SECRET), key=len, reverse=True)


def redact(text: str, secrets: Iterable[str | None], replacement: str = REDACTED) -> str:
    """`text` with every form of each secret replaced by `replacement`."""
    found = [form for form in searchable(secrets) if form in text]
    if not found:
        return text
    return re.sub("|".join(re.escape(form) for form in found), lambda _: replacement, text)


def key_problem(key: str | None) -> str:
    """Why a configured key cannot be kept out of reports by value ("" when it can)."""
    if key is not None and len(key) < MIN_SECRET:
        return (f"the API key (--api-key or MOCKSERVER_API_KEY) has {count(len(key), 'character')}; use one of at "
                f"least {MIN_SECRET}: the key is kept out of reports by replacing its value, and a shorter one would "
                "replace ordinary text too")  # fmt: skip
    if key is not None and not all("!" <= c <= "~" and c not in '"\\' for c in key):
        return (
            "the API key (--api-key or MOCKSERVER_API_KEY) has a character other than visible ASCII, or a quote "
            "or backslash: reports escape those, so the escaped key could not be kept out of them"
        )
    return ""


# --- what is never held against a server ------------------------------------------------------------------------


def never_held(status: int, credentials_sent: bool) -> str:
    """Why an undocumented `status` is not the server's fault ("" when it is): a warning, never a failure."""
    reason, needs_no_credentials = NEVER_HELD.get(status, ("", False))
    if needs_no_credentials and credentials_sent:
        return ""
    return reason


# --- JUnit --------------------------------------------------------------------------------------------------------


@dataclass
class Failure:
    message: str
    type: str
    text: str = ""


@dataclass
class Case:
    """One test case: `operation` (classname) is what was tested, `check` (name) what was asked of it."""

    operation: str
    check: str
    failures: list[Failure] = field(default_factory=list)
    error: str | None = None  # the case could not be judged
    skipped: str | None = None
    output: str | None = None  # <system-out>: notes that are not failures (warnings)


@dataclass
class Suite:
    name: str
    exit_code: int
    cases: list[Case] = field(default_factory=list)
    properties: list[tuple[str, str]] = field(default_factory=list)  # written in order, then `exit-code`
    seconds: float | None = None


def junit(suite: Suite) -> str:
    """The suite as a JUnit XML document, totals counted from its cases."""
    element = ET.Element("testsuite", name=suite.name)
    if suite.seconds is not None:
        element.set("time", f"{suite.seconds:.3f}")
    properties = ET.SubElement(element, "properties")
    for name, value in [*suite.properties, (EXIT_CODE, str(suite.exit_code))]:
        ET.SubElement(properties, "property", name=name, value=value)
    for case in suite.cases:
        node = ET.SubElement(element, "testcase", classname=case.operation, name=case.check)
        for failure in case.failures:
            ET.SubElement(node, "failure", message=failure.message, type=failure.type).text = failure.text or None
        if case.error is not None:
            ET.SubElement(node, "error", message=case.error)
        if case.skipped is not None:
            ET.SubElement(node, "skipped", message=case.skipped)
        if case.output is not None:
            ET.SubElement(node, "system-out").text = case.output
    element.set("tests", str(len(suite.cases)))
    element.set("failures", str(sum(len(case.failures) for case in suite.cases)))
    element.set("errors", str(sum(case.error is not None for case in suite.cases)))
    element.set("skipped", str(sum(case.skipped is not None for case in suite.cases)))
    root = ET.Element("testsuites")
    root.append(element)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(path: str | Path, suite: Suite, redactor: Callable[[str], str] | None = None) -> None:
    """Write the suite to `path` (its folder created when missing), every byte through `redactor`."""
    text = junit(suite)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(redactor(text) if redactor is not None else text, encoding="utf-8")


def join(sources: Iterable[tuple[Iterable[ET.Element], str]]) -> tuple[ET.Element, int]:
    """One `<testsuites>` of the suites of several files (`report merge`): suites of one name become one, every case
    kept as written (a `run` case of a source with a label is named after it: "run (shard 2/3)"), totals recounted;
    and how many cases appear in more than one source. Each suite gets an empty <properties> to fill."""
    root = ET.Element("testsuites")
    by_name: dict[str, ET.Element] = {}
    seen: set[tuple[str, str, str]] = set()
    duplicated = 0
    for suites, label in sources:
        for suite in suites:
            name = suite.get("name", "")
            target = by_name.get(name)
            if target is None:
                target = by_name[name] = ET.SubElement(root, "testsuite", name=name)
                ET.SubElement(target, "properties")
            target.set("time", f"{float(target.get('time', 0)) + _seconds(suite):.3f}")
            for case in suite.iter("testcase"):
                case = copy.deepcopy(case)
                if case.get("classname") == RUN and label:
                    case.set("name", f"run ({label})")
                key = (name, case.get("classname", ""), case.get("name", ""))
                duplicated += key in seen
                seen.add(key)
                target.append(case)
    for element in [root, *by_name.values()]:
        cases = list(element.iter("testcase"))
        element.set("tests", str(len(cases)))
        element.set("failures", str(sum(len(c.findall("failure")) for c in cases)))
        element.set("errors", str(sum(len(c.findall("error")) for c in cases)))
        element.set("skipped", str(sum(len(c.findall("skipped")) for c in cases)))
    root.set("time", f"{sum(float(s.get('time', 0)) for s in by_name.values()):.3f}")
    return root, duplicated


def _seconds(suite: ET.Element) -> float:
    try:
        return float(suite.get("time", 0))
    except ValueError:
        return 0.0
