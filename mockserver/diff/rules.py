"""The rules a contract change is judged by: each rule id with its level, and the `Change` a comparison reports.

Rules: the ids and levels are oasdiff's (ERR breaks clients, WARN might, INFO does not), so a team that knows oasdiff
reads our report and can move its ignore lists; the few ids oasdiff has no rule for are in `OWN`. A change names
its operation, its rule, and where it is in each document (JSON pointers), never a line: key order and the file
format are not part of a contract.
"""

from __future__ import annotations

from dataclasses import dataclass

ERR, WARN, INFO = "ERR", "WARN", "INFO"
LEVELS = (ERR, WARN, INFO)

# Schema rules by the side that reads the value: (suffix, level on the request side, level on the response side).
# `None`: oasdiff has no such rule on that side, and neither do we.
_SCHEMA: tuple[tuple[str, str | None, str | None], ...] = (
    ("type-changed", ERR, ERR),
    ("type-generalized", INFO, ERR),
    ("type-specialized", None, INFO),
    ("list-of-types-widened", INFO, ERR),
    ("list-of-types-narrowed", ERR, INFO),
    ("became-nullable", INFO, ERR),
    ("became-not-nullable", ERR, INFO),
    ("became-enum", ERR, None),
    ("enum-value-added", INFO, WARN),
    ("enum-value-removed", ERR, INFO),
    ("max-length-set", WARN, None),
    ("max-length-decreased", ERR, None),
    ("max-length-increased", INFO, ERR),
    ("max-length-unset", None, ERR),
    ("min-length-increased", ERR, None),
    ("min-length-decreased", INFO, ERR),
    ("pattern-added", ERR, INFO),
    ("pattern-changed", WARN, INFO),
    ("pattern-removed", INFO, INFO),
    ("max-set", WARN, None),
    ("max-decreased", ERR, None),
    ("max-increased", INFO, ERR),
    ("exclusive-max-set", WARN, None),
    ("exclusive-max-decreased", ERR, None),
    ("exclusive-max-increased", INFO, ERR),
    ("min-set", WARN, None),
    ("min-increased", ERR, None),
    ("min-decreased", INFO, ERR),
    ("exclusive-min-set", WARN, None),
    ("exclusive-min-increased", ERR, None),
    ("exclusive-min-decreased", INFO, ERR),
    ("min-items-set", WARN, None),
    ("min-items-increased", ERR, None),
    ("min-items-decreased", None, ERR),
    ("min-items-unset", None, ERR),
    ("max-items-decreased", ERR, None),
    ("max-items-increased", INFO, ERR),
    ("one-of-added", INFO, ERR),
    ("one-of-removed", ERR, INFO),
    ("any-of-added", INFO, INFO),
    ("any-of-removed", ERR, INFO),
    ("discriminator-added", INFO, INFO),
    ("discriminator-removed", INFO, INFO),
    ("discriminator-property-name-changed", INFO, INFO),
    ("discriminator-mapping-added", INFO, INFO),
    ("discriminator-mapping-deleted", INFO, INFO),
    ("discriminator-mapping-changed", INFO, INFO),
    ("default-value-added", INFO, INFO),
    ("default-value-removed", INFO, INFO),
    ("default-value-changed", INFO, INFO),
)
# Where a schema sits, as the rule ids spell it
BODY, PROPERTY, PARAMETER, HEADER = "body", "property", "parameter", "header"
_PREFIXES = {("request", BODY): "request-body", ("request", PROPERTY): "request-property",
             ("request", PARAMETER): "request-parameter", ("response", BODY): "response-body",
             ("response", PROPERTY): "response-property", ("response", HEADER): "response-header"}  # fmt: skip
# oasdiff spells only some schema rules for parameters and response headers; the others read as a property's
_PARAMETER = frozenset({
    "type-changed", "type-generalized", "list-of-types-widened", "list-of-types-narrowed", "became-nullable",
    "became-not-nullable", "became-enum", "enum-value-added", "enum-value-removed", "max-length-set",
    "max-length-decreased", "max-length-increased", "min-length-increased", "min-length-decreased", "pattern-added",
    "pattern-changed", "pattern-removed", "max-set", "max-decreased", "max-increased", "exclusive-max-set",
    "exclusive-max-decreased", "exclusive-max-increased", "min-set", "min-increased", "min-decreased",
    "exclusive-min-set", "exclusive-min-increased", "exclusive-min-decreased", "min-items-set", "min-items-increased",
    "max-items-decreased", "max-items-increased", "default-value-added", "default-value-removed",
    "default-value-changed",
})  # fmt: skip
# ... and a few for a body as a whole (an enum or pattern on the body itself reads as a property's)
_BODY = frozenset({"enum-value-added", "pattern-added", "pattern-changed", "pattern-removed"})
_HEADER = frozenset({"type-changed", "type-generalized", "type-specialized", "became-nullable", "became-not-nullable"})
# Parameter defaults are the server's value for a parameter the client leaves out: a change changes the meaning of
# requests already written (oasdiff: ERR), where a property default is documentation (INFO).
_PARAMETER_LEVELS = {"default-value-added": ERR, "default-value-removed": ERR, "default-value-changed": ERR}

RULES: dict[str, str] = {
    # paths and operations
    "api-path-removed-without-deprecation": ERR,
    "api-path-removed-with-deprecation": INFO,
    "api-removed-without-deprecation": ERR,
    "api-removed-with-deprecation": INFO,
    "endpoint-added": INFO,
    "webhook-removed": ERR,
    "webhook-added": INFO,
    # parameters
    "new-required-request-parameter": ERR,
    "new-optional-request-parameter": INFO,
    "request-parameter-removed": WARN,
    "request-parameter-became-required": ERR,
    "request-parameter-became-optional": INFO,
    # request bodies
    "request-body-added-required": ERR,
    "request-body-added-optional": INFO,
    "request-body-removed": ERR,
    "request-body-became-required": ERR,
    "request-body-became-optional": INFO,
    "request-body-media-type-removed": ERR,
    "request-body-media-type-added": INFO,
    "new-required-request-property": ERR,
    "new-optional-request-property": INFO,
    "request-property-removed": WARN,
    "request-property-became-required": ERR,
    "request-property-became-optional": INFO,
    "request-required-property-became-read-only": INFO,
    "request-optional-property-became-read-only": INFO,
    "request-required-property-became-not-read-only": INFO,
    "request-optional-property-became-not-read-only": INFO,
    # responses
    "response-success-status-removed": ERR,
    "response-non-success-status-removed": INFO,
    "response-success-status-added": INFO,
    "response-non-success-status-added": INFO,
    "response-media-type-removed": ERR,
    "response-media-type-added": INFO,
    "required-response-header-removed": ERR,
    "optional-response-header-removed": WARN,
    "response-header-became-optional": ERR,
    "response-header-added": INFO,
    "response-required-property-removed": ERR,
    "response-optional-property-removed": WARN,
    "response-property-became-optional": ERR,
    "response-property-became-required": INFO,
    "response-required-property-added": INFO,
    "response-optional-property-added": INFO,
    "response-required-property-became-write-only": INFO,
    "response-optional-property-became-write-only": INFO,
    "response-required-property-became-not-write-only": WARN,
    "response-optional-property-became-not-write-only": INFO,
    # security
    "api-security-added": INFO,
    "api-security-removed": INFO,
    "api-security-stricter": ERR,
}
for _suffix, _request, _response in _SCHEMA:
    for (_side, _where), _prefix in _PREFIXES.items():
        _level = _request if _side == "request" else _response
        if _where == PARAMETER:
            _level = _PARAMETER_LEVELS.get(_suffix, _level) if _suffix in _PARAMETER else None
        elif _where == HEADER and _suffix not in _HEADER:
            _level = None
        elif _where == BODY and (_suffix in _BODY or (_side, _suffix) == ("response", "enum-value-removed")):
            _level = None
        if _level is not None:
            RULES[f"{_prefix}-{_suffix}"] = _level

# Ids oasdiff has no rule for: what we report where it is silent or, for security, where its INFO hides a break
# (an operation that anonymous callers, or callers of a dropped scheme, can no longer call).
OWN = frozenset({
    "api-security-stricter", "request-body-max-items-decreased", "request-property-max-items-decreased",
    "request-body-max-items-increased", "request-property-max-items-increased", "response-body-max-items-increased",
    "response-property-max-items-increased",
})  # fmt: skip


def schema_rule(side: str, where: str, suffix: str) -> str | None:
    """The rule id for a schema change `suffix` of a schema on `side` at `where` (a parameter's or a header's own
    rule when oasdiff has one, else the property rule); None when nothing on that side cares."""
    rule = f"{_PREFIXES[(side, where)]}-{suffix}"
    if rule in RULES:
        return rule
    fallback = f"{side}-property-{suffix}"
    return fallback if fallback in RULES else None


@dataclass(frozen=True)
class Change:
    operation: str  # "GET /pets/{id}"; "" for a whole path
    rule: str
    message: str
    old_pointer: str  # where it was in OLD ("" when it has no place there)
    new_pointer: str  # where it is in NEW
    removed: bool = False  # the thing is gone: its pointer is the one in OLD
    path: str = ""  # where in the body or parameter: `items[].name`

    @property
    def level(self) -> str:
        return RULES[self.rule]

    @property
    def pointer(self) -> str:
        return self.old_pointer if self.removed or not self.new_pointer else self.new_pointer

    def as_dict(self) -> dict[str, str]:
        return {"operation": self.operation, "pointer": self.pointer, "rule": self.rule, "level": self.level,
                "message": self.message, "old_pointer": self.old_pointer, "new_pointer": self.new_pointer}  # fmt: skip
