"""Two contracts compared operation by operation: paths, parameters, request bodies, responses, security.

Rules: an operation is its method and its path template with the parameter names blanked (`/pets/{id}` renamed
`/pets/{petId}` is the same operation, its path parameter matched by position). Header names are matched without
case, status codes as text (YAML reads `200:` as a number, JSON as a string), media types by their base (`;
charset=...` is not a different body). Each change carries the operation it breaks; a schema shared by many
operations is compared once (`schemas.Schemas`) and reported for each.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..contract import media
from ..contract.documents import escape
from .model import Contract, template
from .rules import BODY, HEADER, PARAMETER, Change
from .schemas import REQUEST, RESPONSE, Schemas

_IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})  # OpenAPI: described elsewhere


def compare(old: Contract, new: Contract) -> list[Change]:
    schemas = Schemas(old, new)
    out: list[Change] = []
    old_ops, new_ops = old.operations(), new.operations()
    new_templates = {key[1] for key in new_ops}
    removed_paths: set[str] = set()
    for key, (path, pointer, operation, item) in old_ops.items():
        label = f"{key[0]} {path}"
        if key not in new_ops:
            if key[1] not in new_templates:
                if key[1] not in removed_paths:
                    removed_paths.add(key[1])
                    every = [o for k, (_, _, o, _) in old_ops.items() if k[1] == key[1]]
                    rule = "api-path-removed-with" if all(o.get("deprecated") is True for o in every) else \
                        "api-path-removed-without"  # fmt: skip
                    out.append(Change(path, rule + "-deprecation", "path removed", pointer.rsplit("/", 1)[0], "",
                                      removed=True))  # fmt: skip
                continue
            deprecated = "with" if operation.get("deprecated") is True else "without"
            out.append(Change(label, f"api-removed-{deprecated}-deprecation", "operation removed", pointer, "",
                              removed=True))  # fmt: skip
            continue
        new_path, new_pointer, new_operation, new_item = new_ops[key]
        pair = _Operation(old, new, schemas, f"{key[0]} {new_path}")
        pair.compare(path, pointer, operation, item, new_path, new_pointer, new_operation, new_item)
        out.extend(pair.out)
    for key, (path, pointer, _, _) in new_ops.items():
        if key not in old_ops:
            out.append(Change(f"{key[0]} {path}", "endpoint-added", "operation added", "", pointer))
    old_hooks, new_hooks = old.part(old.data, "webhooks", "", dict), new.part(new.data, "webhooks", "", dict)
    for name in old_hooks.keys() - new_hooks.keys():
        out.append(Change(f"webhook {name}", "webhook-removed", "webhook removed", f"/webhooks/{escape(str(name))}",
                          "", removed=True))  # fmt: skip
    for name in new_hooks.keys() - old_hooks.keys():
        out.append(Change(f"webhook {name}", "webhook-added", "webhook added", "", f"/webhooks/{escape(str(name))}"))
    return out


class _Operation:
    def __init__(self, old: Contract, new: Contract, schemas: Schemas, label: str) -> None:
        self.old, self.new, self.schemas, self.label = old, new, schemas, label
        self.out: list[Change] = []

    def add(self, rule: str, message: str, old: str, new: str, removed: bool = False) -> None:
        self.out.append(Change(self.label, rule, message, old, new, removed))

    def schema(self, context: str, old: tuple[Any, str], new: tuple[Any, str], side: str, where: str) -> None:
        for change in self.schemas.compare(*old, *new, side, where):
            where_ = f"{context}, {change.path}" if change.path else context
            self.out.append(replace(change, operation=self.label, message=f"{where_}: {change.message}"))

    def compare(self, old_path: str, old_pointer: str, old_op: dict[str, Any], old_item: dict[str, Any],
                new_path: str, new_pointer: str, new_op: dict[str, Any], new_item: dict[str, Any]) -> None:  # fmt: skip
        self._parameters(
            self._params(self.old, old_path, old_pointer, old_op, old_item),
            self._params(self.new, new_path, new_pointer, new_op, new_item),
        )
        self._body(old_op.get("requestBody"), old_pointer + "/requestBody", new_op.get("requestBody"),
                   new_pointer + "/requestBody")  # fmt: skip
        self._responses(self.old.part(old_op, "responses", old_pointer, dict), old_pointer + "/responses",
                        self.new.part(new_op, "responses", new_pointer, dict), new_pointer + "/responses")  # fmt: skip
        self._security(old_op, old_pointer, new_op, new_pointer)

    # --- parameters -------------------------------------------------------------------------------------------------

    def _params(self, contract: Contract, path: str, pointer: str, operation: dict[str, Any],
                item: dict[str, Any]) -> dict[tuple[str, str], tuple[dict[str, Any], str, str]]:  # fmt: skip
        """(in, key) -> (parameter, pointer, name); path parameters keyed by position, headers without case."""
        positions = {name: str(i) for i, name in enumerate(_path_names(path))}
        item_pointer = pointer.rsplit("/", 1)[0]
        found: dict[tuple[str, str], tuple[dict[str, Any], str, str]] = {}
        for owner, where in ((item, item_pointer), (operation, pointer)):  # the operation's own win
            for i, raw in enumerate(contract.part(owner, "parameters", where, list)):
                param, at = contract.obj(raw, f"{where}/parameters/{i}")
                name, place = str(param.get("name", "")), str(param.get("in", ""))
                if place == "header" and name.lower() in _IGNORED_HEADERS:
                    continue
                key = positions.get(name, name) if place == "path" else name.lower() if place == "header" else name
                found[(place, key)] = (param, at, name)
        return found

    def _parameters(self, old: dict[tuple[str, str], Any], new: dict[tuple[str, str], Any]) -> None:
        for key, (param, pointer, name) in old.items():
            label = f"{key[0]} parameter {name!r}"
            if key not in new:
                self.add("request-parameter-removed", f"{label} removed", pointer, "", removed=True)
                continue
            new_param, new_pointer, _ = new[key]
            required, new_required = param.get("required") is True, new_param.get("required") is True
            if required != new_required:
                state = "required" if new_required else "optional"
                self.add(f"request-parameter-became-{state}", f"{label} became {state}", pointer, new_pointer)
            old_schema, new_schema = _param_schema(param, pointer), _param_schema(new_param, new_pointer)
            if old_schema is not None and new_schema is not None:
                self.schema(label, old_schema, new_schema, REQUEST, PARAMETER)
        for key, (param, pointer, name) in new.items():
            if key not in old:
                kind = "required" if param.get("required") is True else "optional"
                self.add(f"new-{kind}-request-parameter", f"new {kind} {key[0]} parameter {name!r}", "", pointer)

    # --- request body -----------------------------------------------------------------------------------------------

    def _body(self, old: Any, old_pointer: str, new: Any, new_pointer: str) -> None:
        if old is None and new is None:
            return
        if old is None:
            body, at = self.new.obj(new, new_pointer)
            kind = "required" if body.get("required") is True else "optional"
            self.add(f"request-body-added-{kind}", f"{kind} request body added", "", at)
            return
        body, at = self.old.obj(old, old_pointer)
        if new is None:
            self.add("request-body-removed", "request body removed", at, "", removed=True)
            return
        new_body, new_at = self.new.obj(new, new_pointer)
        required, new_required = body.get("required") is True, new_body.get("required") is True
        if required != new_required:
            state = "required" if new_required else "optional"
            self.add(f"request-body-became-{state}", f"request body became {state}", at, new_at)
        self._content(body, at, new_body, new_at, "request body", REQUEST)

    def _content(self, old: dict[str, Any], old_pointer: str, new: dict[str, Any], new_pointer: str,
                 context: str, side: str) -> None:  # fmt: skip
        old_media, new_media = _media(self.old, old, old_pointer), _media(self.new, new, new_pointer)
        prefix = "request-body" if side == REQUEST else "response"
        for name, (entry, pointer) in old_media.items():
            if name not in new_media:
                self.add(f"{prefix}-media-type-removed", f"{context}: media type {name} removed", pointer,
                         new_pointer + "/content", removed=True)  # fmt: skip
                continue
            new_entry, new_at = new_media[name]
            if "schema" in entry and "schema" in new_entry:
                self.schema(f"{context} {name}", (entry["schema"], pointer + "/schema"),
                            (new_entry["schema"], new_at + "/schema"), side, BODY)  # fmt: skip
        for name, (_, pointer) in new_media.items():
            if name not in old_media:
                self.add(f"{prefix}-media-type-added", f"{context}: media type {name} added", old_pointer + "/content",
                         pointer)  # fmt: skip

    # --- responses --------------------------------------------------------------------------------------------------

    def _responses(self, old: dict[str, Any], old_pointer: str, new: dict[str, Any], new_pointer: str) -> None:
        old_codes = {str(k).upper(): (v, f"{old_pointer}/{escape(str(k))}") for k, v in old.items()}
        new_codes = {str(k).upper(): (v, f"{new_pointer}/{escape(str(k))}") for k, v in new.items()}
        for code, (raw, pointer) in old_codes.items():
            success = "success" if code.startswith("2") else "non-success"
            if code not in new_codes:
                self.add(f"response-{success}-status-removed", f"response {code} removed", pointer, new_pointer,
                         removed=True)  # fmt: skip
                continue
            response, at = self.old.obj(raw, pointer)
            new_response, new_at = self.new.obj(*new_codes[code])
            self._content(response, at, new_response, new_at, f"response {code}", RESPONSE)
            self._headers(code, response, at, new_response, new_at)
        for code, (_, pointer) in new_codes.items():
            if code not in old_codes:
                success = "success" if code.startswith("2") else "non-success"
                self.add(f"response-{success}-status-added", f"response {code} added", old_pointer, pointer)

    def _headers(self, code: str, old: dict[str, Any], old_pointer: str, new: dict[str, Any], new_pointer: str) -> None:
        def headers(contract: Contract, response: dict[str, Any], pointer: str) -> dict[str, Any]:
            found = {}
            for name, raw in contract.part(response, "headers", pointer, dict).items():
                if str(name).lower() != "content-type":
                    header, at = contract.obj(raw, f"{pointer}/headers/{escape(str(name))}")
                    found[str(name).lower()] = (header, at, str(name))
            return found

        olds, news = headers(self.old, old, old_pointer), headers(self.new, new, new_pointer)
        for key, (header, pointer, name) in olds.items():
            label = f"response {code} header {name!r}"
            required = header.get("required") is True
            if key not in news:
                rule = "required-response-header-removed" if required else "optional-response-header-removed"
                self.add(rule, f"{label} removed", pointer, new_pointer, removed=True)
                continue
            new_header, new_at, _ = news[key]
            if required and new_header.get("required") is not True:
                self.add("response-header-became-optional", f"{label} became optional", pointer, new_at)
            old_schema, new_schema = _param_schema(header, pointer), _param_schema(new_header, new_at)
            if old_schema is not None and new_schema is not None:
                self.schema(label, old_schema, new_schema, RESPONSE, HEADER)
        for key, (_, pointer, name) in news.items():
            if key not in olds:
                self.add("response-header-added", f"response {code} header {name!r} added", old_pointer, pointer)

    # --- security ---------------------------------------------------------------------------------------------------

    def _security(self, old_op: dict[str, Any], old_pointer: str, new_op: dict[str, Any], new_pointer: str) -> None:
        old, old_at = _requirements(self.old, old_op, old_pointer)
        new, new_at = _requirements(self.new, new_op, new_pointer)
        if old == new:
            return
        refused = [alt for alt in old if not any(_satisfies(alt, other) for other in new)]
        if refused:
            who = "anonymous callers" if refused[0] == {} else "callers with " + _show_alternative(refused[0])
            self.add("api-security-stricter", f"security became stricter: {who} are refused (now: "
                     f"{' or '.join(_show_alternative(a) for a in new)})", old_at, new_at)  # fmt: skip
            return
        for alt in new:
            if alt not in old:
                self.add("api-security-added", f"security {_show_alternative(alt)} added", old_at, new_at)
        for alt in old:
            if alt not in new:
                self.add("api-security-removed", f"security {_show_alternative(alt)} removed", old_at, new_at)


def _path_names(path: str) -> list[str]:
    names, rest = [], path
    while "{" in rest and "}" in rest.split("{", 1)[1]:
        name, rest = rest.split("{", 1)[1].split("}", 1)
        names.append(name)
    return names


def _param_schema(param: dict[str, Any], pointer: str) -> tuple[Any, str] | None:
    if "schema" in param:
        return param["schema"], pointer + "/schema"
    content = param.get("content")
    if isinstance(content, dict):
        for name, entry in content.items():
            if isinstance(entry, dict) and "schema" in entry:
                return entry["schema"], f"{pointer}/content/{escape(str(name))}/schema"
    return None


def _media(contract: Contract, owner: dict[str, Any], pointer: str) -> dict[str, tuple[dict[str, Any], str]]:
    found: dict[str, tuple[dict[str, Any], str]] = {}
    for name, entry in contract.part(owner, "content", pointer, dict).items():
        found.setdefault(media.base(str(name)), (entry if isinstance(entry, dict) else {},
                                                 f"{pointer}/content/{escape(str(name))}"))  # fmt: skip
    return found


Alternative = dict[str, frozenset[str]]


def _requirements(contract: Contract, operation: dict[str, Any], pointer: str) -> tuple[list[Alternative], str]:
    """An operation's security alternatives (its own, else the document's); `{}` among them: anonymous is fine."""
    if "security" in operation:
        raw, at = contract.part(operation, "security", pointer, list), pointer + "/security"
    else:
        raw, at = contract.part(contract.data, "security", "", list), "/security"
    if not raw:
        return [{}], at
    out = []
    for alternative in raw:
        if isinstance(alternative, dict):
            out.append({str(k): frozenset(map(str, v if isinstance(v, list) else ())) for k, v in alternative.items()})
    return out or [{}], at


def _satisfies(credentials: Alternative, required: Alternative) -> bool:
    """Whether a caller that met `credentials` also meets `required` (the same schemes or fewer, no new scope)."""
    return all(name in credentials and scopes <= credentials[name] for name, scopes in required.items())


def _show_alternative(alternative: Alternative) -> str:
    if not alternative:
        return "none (anonymous)"
    parts = [
        name + (f" [{', '.join(sorted(scopes))}]" if scopes else "") for name, scopes in sorted(alternative.items())
    ]
    return " + ".join(parts)


__all__ = ["compare", "template"]
