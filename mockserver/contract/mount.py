"""Several contracts in one process: each mounted under a path prefix, merged into one `Spec`.

Rules: a contract is mounted under its own `servers[0]` path (`Spec.prefix`) unless `--mount /PREFIX=FILE` gives
another. One contract stays the `Spec` `load_spec` builds (its prefix set aside, as always). Several are each
loaded alone first (so a mistake names its own file), then merged: each bundled document is kept whole under
`x-mockserver-mounts/<n>` with its local `$ref`s rebased there, so its components never meet another's (the schema
set makes `$defs` keys distinct, and reads each document's schemas in its own OpenAPI version, 3.0 or 3.1); each
operation is copied under `/prefix/path` with its path item's shared parameters and its document's global security
folded in; security schemes of one name but different definitions are renamed. Two operations of different
contracts that could answer the same request (same method, templates matching a common path) are refused, naming
both. Fixtures and overrides name an operation by its mounted "METHOD /prefix/path", its operationId (the first
contract's, when two share one), or its contract's own "METHOD /path" when only one contract has it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .bundling import _NAME_MAPS
from .documents import DocumentError, escape, is_url, pointer
from .schemas import lookup
from .spec import METHODS, Operation, Spec, _Builder, load_spec

MOUNTS = "x-mockserver-mounts"


@dataclass(frozen=True)
class Mount:
    source: str | None  # None: the built-in contract
    prefix: str | None = None  # None: the contract's own servers[0] path


def parse_mount(text: str) -> Mount:
    """`/PREFIX=FILE` (`/=FILE`: no prefix); ValueError with the reason."""
    prefix, sep, source = text.partition("=")
    if not sep or not source or not prefix.startswith("/"):
        raise ValueError(f"--mount must be /PREFIX=FILE, got {text!r}")
    if re.search(r"[\s?#%{}]", prefix) or "//" in prefix:
        raise ValueError(f"--mount prefix must be a plain path like /api, got {prefix!r}")
    return Mount(source, prefix.rstrip("/"))


def mounts(specs: list[str] | None, mounted: list[str] | None) -> list[Mount]:
    """The contracts to serve: each SPEC, its prefix replaced by a `--mount` of the same file, then the other
    `--mount`s; the built-in contract when there are none."""
    found = [Mount(source) for source in specs or []]
    for text in mounted or []:
        mount = parse_mount(text)
        same = next((i for i, m in enumerate(found) if m.prefix is None and _same(m.source, mount.source)), None)
        if same is None:
            found.append(mount)
        else:
            found[same] = Mount(found[same].source, mount.prefix)
    return found or [Mount(None)]


def _same(a: str | None, b: str | None) -> bool:
    if a is None or b is None or is_url(a) or is_url(b):
        return a == b
    return Path(a).resolve() == Path(b).resolve()


@dataclass
class Contract:
    """One mounted contract, as loaded alone."""

    source: str
    prefix: str
    spec: Spec
    keys: dict[str, str] = field(default_factory=dict)  # its own "METHOD /path" -> the mounted key


@dataclass
class MountedSpec(Spec):
    """Several contracts as one: operations under their prefixes (`prefix` itself is "")."""

    contracts: list[Contract] = field(default_factory=list)

    def find(self, name: str) -> Operation | None:
        """By mounted "METHOD /prefix/path" or operationId, else by a contract's own "METHOD /path" when exactly
        one contract has it (fixture files written for one contract keep working)."""
        found = super().find(name)
        if found is not None:
            return found
        keys = {c.keys[k] for c in self.contracts for k in c.keys if name.upper() == k.upper()}
        if len(keys) != 1:
            return None
        return super().find(keys.pop())


def title(spec: Spec) -> str:
    """What the contract is called in messages: its file name, or each mounted one with its prefix."""
    if isinstance(spec, MountedSpec):
        return ", ".join(f"{Path(c.source).name} at {c.prefix or '/'}" for c in spec.contracts)
    return spec.source.rsplit("/", 1)[-1]


def load_mounted(wanted: list[Mount], *, strict: bool = False) -> Spec:
    """The contracts of `wanted` as one `Spec`; a `DocumentError` for a mistake in one of them, or for two operations
    of different contracts that would answer the same request."""
    if len(wanted) == 1:
        spec = load_spec(wanted[0].source, strict=strict)
        if wanted[0].prefix is not None:
            spec.prefix = wanted[0].prefix
        return spec
    contracts = []
    for mount in wanted:
        spec = load_spec(mount.source, strict=strict)
        contracts.append(Contract(spec.source, spec.prefix if mount.prefix is None else mount.prefix, spec))
    _refuse_overlaps(contracts)
    document, warnings, dialects = _merge(contracts)
    source = ", ".join(f"{c.source} at {c.prefix or '/'}" for c in contracts)
    builder = _Builder(document, source, document["openapi"], strict)
    builder.schemas.dialects = dialects  # a 3.0 contract's schemas read as 3.0 beside a 3.1 one
    operations = builder.operations()
    for c in contracts:
        c.keys = {op.key: f"{op.method} {_join(c.prefix, op.path)}" for op in c.spec.operations}
    mistakes = [m for c in contracts for m in c.spec.schemas.mistakes]
    builder.schemas.mistakes[:] = mistakes  # said once, with their own files (the merged ones repeat them)
    builder.schemas.warnings.extend(warnings)  # said at start-up, not counted as the contracts' mistakes
    return MountedSpec(
        source, document, document["openapi"], "", operations, builder.schemas, builder.security_schemes,
        [w for c in contracts for w in c.spec.warnings], contracts,
    )  # fmt: skip


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    return prefix + (path[1:] if path == "/" or path[:2] in ("/#", "/?") else path)


# --- the same request answered twice -------------------------------------------------------------------------------


def _refuse_overlaps(contracts: list[Contract]) -> None:
    seen: list[tuple[Contract, Operation, list[tuple[str, Any]]]] = []
    for c in contracts:
        mine = []
        for op in c.spec.operations:
            tokens = _tokens(_join(c.prefix, op.path))
            for other, their, theirs in seen:
                if their.method == op.method and other is not c and _intersect(tokens, theirs):
                    raise DocumentError(
                        c.source, pointer("paths", op.path, op.method.lower()),
                        f"{op.method} {_join(c.prefix, op.path)} would answer the same requests as {their.method} "
                        f"{_join(other.prefix, their.path)} of {other.source} ({pointer('paths', their.path)}); "
                        "mount one of them under another prefix (--mount /PREFIX=FILE)",
                    )  # fmt: skip
            mine.append((c, op, tokens))
        seen.extend(mine)


_ONE, _STAR = "one", "star"


def _tokens(template: str) -> list[tuple[str, Any]]:
    """A path template as a pattern: literal characters, and one-or-more characters per `{name}` (not `/`, unless
    a reserved expansion `{+name}`/`{#name}`)."""
    path = re.split(r"[#?]", template, maxsplit=1)[0].rstrip("/") or "/"
    out: list[tuple[str, Any]] = []
    for literal, name in re.findall(r"([^{]*)(?:\{([^}]*)\}|$)", path):
        out.extend(("lit", ch) for ch in literal)
        if name:
            slash = name[:1] in ("+", "#")
            out += [(_ONE, slash), (_STAR, slash)]
    return out


def _intersect(a: list[tuple[str, Any]], b: list[tuple[str, Any]]) -> bool:
    """Whether some path matches both patterns (a product of the two automata, explored breadth first), after the
    cheap refusals: their literal beginnings or endings differ, or (no `{+name}`) their numbers of `/` do."""
    for ends in (a, b), (a[::-1], b[::-1]):
        for (kind_a, char_a), (kind_b, char_b) in zip(*ends, strict=False):
            if kind_a != "lit" or kind_b != "lit":
                break
            if char_a != char_b:
                return False
    if not any(kind != "lit" and value for kind, value in a + b) and a.count(("lit", "/")) != b.count(("lit", "/")):
        return False
    alphabet = {v for kind, v in a + b if kind == "lit"} | {"\x00"}

    def closure(tokens: list[tuple[str, Any]], i: int) -> frozenset[int]:
        states = {i}
        while i < len(tokens) and tokens[i][0] == _STAR:
            i += 1
            states.add(i)
        return frozenset(states)

    def step(tokens: list[tuple[str, Any]], states: frozenset[int], ch: str) -> frozenset[int]:
        out: set[int] = set()
        for i in states:
            if i >= len(tokens):
                continue
            kind, value = tokens[i]
            if kind == "lit" and value == ch or kind != "lit" and (ch != "/" or value):
                out |= closure(tokens, i if kind == _STAR else i + 1)
        return frozenset(out)

    start = (closure(a, 0), closure(b, 0))
    pending, seen = [start], {start}
    while pending:
        sa, sb = pending.pop()
        if len(a) in sa and len(b) in sb:
            return True
        for ch in alphabet:
            nxt = (step(a, sa, ch), step(b, sb, ch))
            if nxt[0] and nxt[1] and nxt not in seen:
                seen.add(nxt)
                pending.append(nxt)
    return False


# --- one document -------------------------------------------------------------------------------------------------


def _merge(contracts: list[Contract]) -> tuple[dict[str, Any], list[str], list[tuple[str, bool]]]:
    """The merged document, warnings, and where each contract's schemas are (pointer prefix, OpenAPI 3.0)."""
    store: dict[str, Any] = {}
    root: dict[str, Any] = {MOUNTS: store}
    paths: dict[str, dict[str, Any]] = {}
    schemes: dict[str, Any] = {}
    ids: dict[str, str] = {}
    warnings = []
    dialects = []
    for n, c in enumerate(contracts):
        doc = store[str(n)] = _rebase(c.spec.document, f"/{MOUNTS}/{n}")
        openapi30 = c.spec.version.startswith("3.0")
        dialects.append((f"/{MOUNTS}/{n}", openapi30))
        renamed = {}
        for name, scheme in ((doc.get("components") or {}).get("securitySchemes") or {}).items():
            new, i = name, 1
            while new in schemes and schemes[new] != scheme:
                i += 1
                new = f"{name}_{i}"
            schemes[new], renamed[name] = scheme, new
        for path, item in (doc.get("paths") or {}).items():
            while isinstance(item, dict) and isinstance(item.get("$ref"), str) and item["$ref"].startswith("#"):
                item = lookup(root, item["$ref"][1:])
            if not isinstance(path, str) or not path.startswith("/") or not isinstance(item, dict):
                continue  # said when the contract was loaded alone
            merged_item = paths.setdefault(_join(c.prefix, path), {})
            for method in METHODS:
                op = item.get(method)
                if not isinstance(op, dict):
                    if method in item:
                        merged_item[method] = op
                    continue
                op = dict(op)
                if isinstance(item.get("parameters"), list):
                    op["parameters"] = [*item["parameters"], *(op.get("parameters") or [])]
                security = op.get("security", doc.get("security"))
                if isinstance(security, list):
                    op["security"] = [{renamed.get(k, k): v for k, v in r.items()} if isinstance(r, dict) else r
                                      for r in security]  # fmt: skip
                op_id = op.get("operationId")
                if isinstance(op_id, str) and op_id:
                    if op_id in ids and ids[op_id] != c.source:
                        warnings.append(f"{c.source}: operationId {op_id!r} is also {ids[op_id]}'s: this one is "
                                        f"named {method.upper()} {_join(c.prefix, path)}")  # fmt: skip
                        del op["operationId"]
                    ids.setdefault(op_id, c.source)
                merged_item[method] = op
                dialects.append((pointer("paths", _join(c.prefix, path), method), openapi30))
    info = {"title": ", ".join(Path(c.source).name for c in contracts), "version": ""}
    # the newest version read: views honour 3.1's leftover `nullable` (a 3.0 schema has none left once converted)
    version = next(
        (c.spec.version for c in contracts if not c.spec.version.startswith("3.0")), contracts[0].spec.version
    )
    document = {"openapi": version, "info": info, "paths": paths,
                "components": {"securitySchemes": schemes}, MOUNTS: store}  # fmt: skip
    return document, warnings, dialects


_DATA = frozenset({"example", "default", "const", "enum", "value"})


def _rebase(node: Any, base: str, names: bool = False) -> Any:
    """A copy of a bundled document with each local `$ref` (and discriminator mapping) pointing under `base`.
    `names`: the keys of `node` are names (of properties, paths, statuses ...), not keywords."""
    if isinstance(node, list):
        return [_rebase(item, base) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if names:
            out[key] = _rebase(value, base)
        elif key == "$ref" and isinstance(value, str):
            out[key] = "#" + base + value[1:] if value.startswith("#") else value
        elif key in _DATA or (key == "examples" and isinstance(value, list)) or str(key).startswith("x-"):
            out[key] = value
        elif key == "discriminator" and isinstance(value, dict) and isinstance(value.get("mapping"), dict):
            mapping = {
                tag: (
                    "#" + base + target[1:] if target.startswith("#")
                    else target if "/" in target else f"#{base}/components/schemas/{escape(target)}"
                ) if isinstance(target, str) else target
                for tag, target in value["mapping"].items()
            }  # fmt: skip
            out[key] = {**value, "mapping": mapping}
        else:
            out[key] = _rebase(value, base, key in _NAME_MAPS)
    return out
