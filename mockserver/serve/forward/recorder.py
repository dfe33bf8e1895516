"""Recording upstream answers as fixture files in fixtures.py's format, so that `serve --fixtures DIR` replays them.

Rules: one file per request identity (operation, path parameters, the query and header parameters the operation
declares, whether credentials were sent to an operation that requires them; for traffic no operation matches,
method + raw path + query), named from it so that the same request always lands in the same file. Every distinct
answer is kept (`kept_answers`: a sequence the mock replays in turn, the first success first), and neither a transient
one (429, 503, ...) nor an error after a success ever replaces a good answer. A 401 to an operation that requires
credentials becomes its `when: unauthorized` fixture; HEAD, routed to GET's operation, is kept as the upstream answered
it, on its raw path; cross-origin answers teach the upstream's CORS policy (policy.py), written once at the end. Nothing
secret is written: credential headers and `Set-Cookie` are redacted by name, every credential the request carried
(and the configured key) by value in every form it takes on the wire, and body fields named like keys or tokens.
Volatile headers (Date, Server, Content-Length) and hop-by-hop ones are dropped. Each document is parsed by the
fixture loader before it is written; an answer that breaks the contract is written `flagged` with the reasons.
Files are written atomically, off the event loop, by one thread; the folder is checked at start-up.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from ...contract import documents, words
from ...contract.documents import DocumentError
from ...contract.media import is_json
from ...contract.routing import Router
from ...contract.spec import Operation, Spec
from ...contract.verdicts import REDACTED, searchable, secret_name
from ..config import ConfigError
from ..cors import POLICY_FILE, load_policy
from ..data.encoding import encode
from ..journal import Redactor
from ..pipeline.fixtures import parse_fixture, raw_key
from .drift import Checker
from .policy import CorsLearner

TRANSIENT = frozenset({408, 429, 502, 503, 504})
DROPPED = frozenset({
    "date", "server", "content-length",  # volatile
    "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
    "proxy-authenticate", "content-encoding",  # the body is written decoded
    "x-mock-source",
})  # fmt: skip
MAX_FIXTURES = 10_000  # files written in one run, whatever the traffic
UNMATCHED_FOLDER = "_unmatched"
_RESERVED = frozenset({"unauthorized"})
_CLEAN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class Exchange:
    """One forwarded request and the upstream's answer, as the recorder needs them."""

    method: str
    raw_path: str  # as sent: percent-encoded, without the query
    operation: Operation | None  # None: no operation matches (an edge fixture)
    params: dict[str, str]
    query: dict[str, list[str]]
    headers: dict[str, str]  # the request's, lower-case names
    status: int
    response_headers: list[tuple[str, str]]  # lower-case names; Location already made relative to the proxy
    body: bytes | None  # without content coding; None when it could not be decoded
    secrets: tuple[str, ...]  # credential values the request carried
    authorized: bool = False  # they passed the proxy's check (--api-key): a 401 then is an answer, not a refusal


def prepare(folder: str) -> Path:
    """The record folder, created if missing; a folder that cannot be written is a user's mistake (exit 2)."""
    root = Path(folder)
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".mockserver-write-test-"):
            pass
    except OSError as exc:
        raise ConfigError(f"--record {folder}: cannot write fixtures there: {exc.strerror or exc}") from None
    return root.resolve()


class Recorder:
    def __init__(self, folder: str, spec: Spec, checker: Checker, redactor: Redactor) -> None:
        self.root = prepare(folder)
        self.folder = folder
        self.spec = spec
        self.checker = checker
        self.redactor = redactor
        self.router = Router(spec.operations, spec.prefix)
        # identity -> its distinct answers so far, in order, each with its digest: what the fixture replays
        self.known: dict[tuple[Any, ...], list[tuple[str, Exchange]]] = {}
        self.files: dict[tuple[Any, ...], Path] = {}
        self.flagged: set[Path] = set()
        self.skipped: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mockserver-recorder")
        # what an earlier recording here learnt is kept, and written again only if this one sees a cross-origin request
        self.cors = CorsLearner(load_policy([str(self.root)]), DROPPED)

    def use(self, spec: Spec, checker: Checker) -> None:
        """A new contract (`--watch`): files written from now on are checked against it."""
        self.spec, self.checker, self.router = spec, checker, Router(spec.operations, spec.prefix)

    # --- on the event loop: cheap decisions only ---------------------------------------------------------------

    def submit(self, exchange: Exchange) -> None:
        if self.cors.observe(exchange.method, exchange.headers, exchange.status, exchange.response_headers):
            return  # a preflight: part of the CORS policy (written at the end), not a fixture
        if exchange.operation is not None and exchange.operation.method != exchange.method:
            # HEAD routed to GET's operation: recorded as the upstream answered HEAD (a 405 too), on its raw path
            exchange = replace(exchange, operation=None, params={})
        refused = self._refused(exchange)
        if refused is not None:
            self.skipped[refused] += 1
            return
        identity = self.identity(exchange)
        kept = [(k, v) for k, v in exchange.response_headers if k not in DROPPED]  # a new Date is not a new answer
        content = repr((exchange.status, kept)).encode() + (exchange.body or b"")
        digest = hashlib.blake2b(content, digest_size=16).hexdigest()
        known = self.known.get(identity)
        if known is None and len(self.known) >= MAX_FIXTURES:
            self.skipped[f"over {MAX_FIXTURES} fixtures in one run"] += 1
            return
        answers = kept_answers(known or [], digest, exchange)
        if isinstance(answers, str):
            if answers:
                self.skipped[answers] += 1
            return
        self.known[identity] = answers
        self.pool.submit(self._write, identity, tuple(e for _, e in answers))

    def _refused(self, exchange: Exchange) -> str | None:
        if exchange.body is None:
            return "bodies with a content coding the recorder cannot decode"
        media = next((v for k, v in exchange.response_headers if k == "content-type"), "application/json")
        if not is_json(media):
            try:
                exchange.body.decode()
            except UnicodeDecodeError:
                return "bodies that are not UTF-8 text (a fixture holds text or JSON)"
        return None

    def identity(self, exchange: Exchange) -> tuple[Any, ...]:
        op = exchange.operation
        if op is None:
            raw_path = raw_key(exchange.raw_path.encode("latin-1"))
            return ("edge", exchange.method, raw_path, self._query(None, exchange.query))
        if self._unauthorized(exchange):
            return ("unauthorized", op.key)
        # with or without credentials: two answers of one request, neither replacing the other
        keyless = op.requires_auth and not exchange.secrets
        return ("operation", op.key, tuple(sorted(exchange.params.items())), self._query(op, exchange.query),
                self._headers(op, exchange.headers), keyless)  # fmt: skip

    def _unauthorized(self, exchange: Exchange) -> bool:
        return exchange.operation is not None and exchange.operation.requires_auth and exchange.status == 401 \
            and not exchange.authorized  # fmt: skip

    def _query(self, op: Operation | None, query: dict[str, list[str]]) -> tuple[tuple[str, str], ...]:
        """The query parameters a fixture matches on: the declared ones (all, for an edge), never a credential."""
        declared = None if op is None else {p.name for p in op.parameters if p.location == "query"}
        return tuple(sorted((k, v[-1]) for k, v in query.items()
                            if v and (declared is None or k in declared) and not self.redactor.secret(k)))  # fmt: skip

    def _headers(self, op: Operation, headers: dict[str, str]) -> tuple[tuple[str, str], ...]:
        declared = {p.name.lower() for p in op.parameters if p.location == "header"}
        return tuple(sorted((k, v) for k, v in headers.items() if k in declared and not self.redactor.secret(k)))

    # --- in the recorder's thread ------------------------------------------------------------------------------

    def _write(self, identity: tuple[Any, ...], answers: tuple[Exchange, ...]) -> None:
        exchange = answers[-1]
        try:
            path, text, flagged = self.document(identity, *answers)
            documents.write_atomically(path, text)
        except (OSError, DocumentError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
            if self.failures[reason] == 0:
                target = f"{exchange.method} {self._scrub(exchange.raw_path, exchange)}"
                print(f"mockserver: warning: could not record {target}: {reason}", file=sys.stderr, flush=True)
            self.failures[reason] += 1
            self.known.pop(identity, None)
            return
        self.files[identity] = path
        (self.flagged.add if flagged else self.flagged.discard)(path)

    def document(self, identity: tuple[Any, ...], exchange: Exchange, *later: Exchange) -> tuple[Path, str, bool]:
        """(file, its text, whether it is flagged) for an identity's answers (`later`: the distinct ones that came
        after the first, replayed in turn, the last repeated); the text is what the loader reads back."""
        op = exchange.operation
        key = hashlib.blake2b(repr(identity).encode(), digest_size=4).hexdigest()
        doc: dict[str, Any] = {}
        if op is None:  # names and file names come from redacted text too
            name = f"{exchange.method.lower()}-{_slug(self._scrub(exchange.raw_path, exchange))}--{key}"
            folder = self.root / UNMATCHED_FOLDER
            match: dict[str, Any] = {"method": exchange.method, "raw_path": self._scrub(identity[2], exchange)}
            doc["name"] = name
        else:
            folder = self.root / _slug(op.operation_id)[:80]
            if identity[0] == "unauthorized":
                name, match = "unauthorized", {}
            else:
                params = {k: self._scrub(v, exchange) for k, v in exchange.params.items()}
                query = tuple((k, self._scrub(v, exchange)) for k, v in identity[3])
                name = self._name(params, query, identity[4], key) + ("--keyless" if identity[5] else "")
                match = {"path": {k: self._scrub(v, exchange) for k, v in exchange.params.items()}}
                if identity[4]:
                    match["headers"] = {k: self._scrub(v, exchange) for k, v in identity[4]}
            doc["operation"] = op.key
            doc["name"] = name
        query = identity[3] if identity[0] in ("edge", "operation") else ()
        if query:
            match["query"] = {k: self._scrub(v, exchange) for k, v in query}
        if identity[0] == "unauthorized":
            doc["when"] = "unauthorized"
        elif match:
            doc["match"] = match
        if identity[0] == "operation" and identity[5]:
            doc["auth"] = "none"  # the upstream answered it without credentials: replayed so, to keyless requests only
        responses = [self._response(answer) for answer in (exchange, *later)]
        if later:
            doc["responses"] = responses
        else:
            doc["response"] = responses[0]
        path = folder / f"{name}.yaml"
        flags = [flag for answer, response in zip((exchange, *later), responses, strict=True)
                 for flag in self._flags(answer, response, doc.get("when"))]  # fmt: skip
        if flags:
            doc = _with_flags(doc, flags)
        try:
            parse_fixture(doc, str(path), self.spec, self.router)
        except DocumentError as exc:
            if flags:
                raise
            doc = _with_flags(doc, [f"{exc.pointer}: {exc.reason}"])  # the loader's own verdict
            parse_fixture(doc, str(path), self.spec, self.router)
            flags = doc["flagged"]
        target = self._scrub(exchange.raw_path, exchange)
        shown = "".join(c if c.isprintable() and c.isascii() else f"\\x{ord(c):02x}" for c in target[:200])
        comment = f"# Recorded by mockserver from {exchange.method} {shown} ({exchange.status})"
        return path, _dump(doc, comment), bool(flags)

    def _response(self, exchange: Exchange) -> dict[str, Any]:
        response: dict[str, Any] = {"status": exchange.status}
        headers = self._response_headers(exchange)
        if headers:
            response["headers"] = headers
        media = headers.get("content-type", "application/json")
        body = exchange.body or b""
        if body:
            response["body"] = self._body(body, media, exchange)
        return response

    def _flags(self, exchange: Exchange, response: dict[str, Any], when: str | None) -> list[str]:
        """What the contract says of the answer as written (after redaction): the reasons to flag it."""
        op = exchange.operation
        if op is None:
            return []
        headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
        media = headers.get("content-type", "application/json")
        written = encode(response["body"], media) if "body" in response else b""
        drifts = self.checker.response(op, exchange.method, exchange.status, headers, written, True)
        if when == "unauthorized":  # the loader takes an undocumented 401 here
            drifts = [d for d in drifts if d.pointer != "/status"]
        return [f"{d.direction} {d.pointer}: {d.reason}" for d in drifts]

    def _name(self, params: dict[str, str], query: tuple[Any, ...], headers: tuple[Any, ...], key: str) -> str:
        values = list(params.values())
        if len(values) == 1 and not query and not headers and _CLEAN.fullmatch(values[0]) \
                and "--" not in values[0] and values[0] not in _RESERVED:  # fmt: skip
            return values[0]
        text = "-".join([*values, *(f"{k}-{v}" for k, v in query)]) or "request"
        return f"{_slug(text)[:60]}--{key}"

    def _response_headers(self, exchange: Exchange) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, value in exchange.response_headers:
            if name in DROPPED or name.startswith("access-control-"):
                continue  # CORS is the mock's own business when it replays
            if name == "set-cookie":
                if name in out:
                    continue  # a mapping holds one; every value would be redacted anyway
                cookie, _, attributes = value.partition(";")
                value = f"{cookie.partition('=')[0].strip()}={REDACTED}" + (f";{attributes}" if attributes else "")
            elif self.redactor.secret(name):
                value = REDACTED
            value = self._scrub(value, exchange)
            out[name] = f"{out[name]}, {value}" if name in out else value
        return out

    def _body(self, body: bytes, media: str, exchange: Exchange) -> Any:
        if is_json(media):
            try:  # the standard library: exact for integers past 64 bits, which orjson reads as floats
                value = json.loads(body, parse_constant=_not_json)
            except ValueError:  # kept as text; the contract check flags it
                return self._scrub(body.decode("utf-8", "replace"), exchange)
            return self._scrub_value(value, exchange)
        return self._scrub(body.decode(), exchange)

    def _scrub_value(self, value: Any, exchange: Exchange, name: str = "") -> Any:
        if isinstance(value, str):
            return REDACTED if value and secret_name(name) else self._scrub(value, exchange)
        if isinstance(value, dict):
            return {self._scrub(k, exchange): self._scrub_value(v, exchange, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self._scrub_value(v, exchange, name) for v in value]
        return value

    def _scrub(self, text: str, exchange: Exchange) -> str:
        for secret in self._forms(exchange.secrets):
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def _forms(self, secrets: tuple[str, ...]) -> list[str]:
        return searchable((*secrets, self.redactor.api_key))

    # --- the end -----------------------------------------------------------------------------------------------

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        if self.cors.seen:
            text = yaml.safe_dump(self.cors.policy.document(), sort_keys=False, width=120)
            documents.write_atomically(self.root / POLICY_FILE, f"# The upstream's CORS, recorded\n{text}")

    def summary(self) -> list[str]:
        lines = [
            f"mockserver: recorded {words.count(len(self.files), 'fixture')} in {self.folder} "
            f"({len(self.flagged)} flagged: served as recorded, reported by `mockserver fixtures check`)"
        ]
        if self.cors.seen:
            lines.append(f"  CORS policy: {self.cors.summary()}, in {POLICY_FILE} (served with the fixtures)")
        for reason, count in self.skipped.most_common():
            lines.append(f"  not recorded: {count} - {reason}")
        for reason, count in self.failures.most_common(5):
            lines.append(f"  failed to record: {count} - {reason}")
        return lines


MAX_VARIANTS = 8  # distinct answers kept for one request identity (a status polled through its states)


def kept_answers(known: list[tuple[str, Exchange]], digest: str,
                 exchange: Exchange) -> list[tuple[str, Exchange]] | str:  # fmt: skip
    """An identity's answers with `exchange` taken in, or why it is left out ("" when it is already there). Every
    distinct answer is kept, in order (the mock replays them in turn, the last repeated); the first success is the
    first answer once there is one; a transient answer (429, 503, ...) or an error after a success never replaces a
    good answer: it is left out and counted."""
    if any(seen == digest for seen, _ in known):
        return ""
    transient = exchange.status in TRANSIENT
    if known and all(e.status in TRANSIENT for _, e in known):
        return [(digest, exchange)]  # a real answer (or a newer "later") replaces "come back later"
    if transient and known:
        return f"transient {exchange.status} answers kept out of an identity already recorded"
    succeeded = [item for item in known if item[1].status < 400]
    if exchange.status >= 400 and succeeded:
        return f"one-off {exchange.status} answers kept out of an identity with a good answer"
    if exchange.status < 400 and known and not succeeded:
        return [(digest, exchange)]  # the first success is the answer; the errors before it were passing
    if len(known) >= MAX_VARIANTS:
        return f"answers past {MAX_VARIANTS} distinct ones for one request"
    return [*known, (digest, exchange)]


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _with_flags(doc: dict[str, Any], flags: list[str]) -> dict[str, Any]:
    """`flagged` after the operation and name, where a reader sees it first."""
    head: dict[str, Any] = {k: doc[k] for k in ("operation", "name") if k in doc}
    return {**head, "flagged": flags[:20], **{k: v for k, v in doc.items() if k not in head and k != "flagged"}}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:80] or "root"


def _dump(doc: dict[str, Any], comment: str) -> str:
    """YAML, unless YAML would not read back the same data (then JSON, which the loader reads too)."""
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120, default_flow_style=False)
    try:
        same = documents.parse(text, "recorded") == doc
    except DocumentError:
        same = False
    if same:
        return f"{comment}\n{text}"
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"  # the standard library: any size of integer
