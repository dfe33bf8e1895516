"""Operations, paths, parameters, request bodies, media types and security."""

from __future__ import annotations

import pytest

from .builders import changes, doc, found, ok, post

S = {"type": "string"}


def with_params(*params, path="/pets"):
    return doc({path: {"get": {"parameters": list(params), **ok(S)}}})


def q(name="limit", required=False, **schema):
    return {"name": name, "in": "query", "required": required, "schema": {"type": "integer", **schema}}


@pytest.mark.parametrize(
    ("old", "new", "rule", "level"),
    [
        ([], [q(required=True)], "new-required-request-parameter", "ERR"),
        ([], [q()], "new-optional-request-parameter", "INFO"),
        (
            [],
            [{"name": "X-Tenant", "in": "header", "required": True, "schema": S}],
            "new-required-request-parameter",
            "ERR",
        ),
        ([q()], [], "request-parameter-removed", "WARN"),
        ([q()], [q(required=True)], "request-parameter-became-required", "ERR"),
        ([q(required=True)], [q()], "request-parameter-became-optional", "INFO"),
        ([q(default=10)], [q(default=20)], "request-parameter-default-value-changed", "ERR"),
        ([q()], [q(default=20)], "request-parameter-default-value-added", "ERR"),
        ([q(default=10)], [q()], "request-parameter-default-value-removed", "ERR"),
        ([q(maximum=100)], [q(maximum=50)], "request-parameter-max-decreased", "ERR"),
        ([q(enum=[1, 2])], [q(enum=[1])], "request-parameter-enum-value-removed", "ERR"),
        ([q()], [q(type="string")], "request-parameter-type-changed", "ERR"),
        (
            [{"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 9}}],
            [{"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 3}}],
            "request-parameter-max-length-decreased",
            "ERR",
        ),
    ],
)
def test_a_parameter_change_is_classified(old, new, rule, level):
    assert found(with_params(*old), with_params(*new)).get(rule) == level


def test_parameters_declared_on_the_path_item_or_the_operation_are_the_same():
    on_item = doc({"/pets": {"parameters": [q()], "get": ok(S)}})
    assert changes(on_item, with_params(q())) == []


def test_a_header_parameter_is_matched_without_case_and_content_type_is_not_a_parameter():
    old = with_params({"name": "X-Tenant", "in": "header", "schema": S})
    new = with_params({"name": "x-tenant", "in": "header", "schema": S},
                      {"name": "Content-Type", "in": "header", "required": True, "schema": S})  # fmt: skip
    assert changes(old, new) == []


def test_a_renamed_path_parameter_is_the_same_operation():
    old = with_params({"name": "id", "in": "path", "required": True, "schema": S}, path="/pets/{id}")
    new = with_params({"name": "petId", "in": "path", "required": True, "schema": S}, path="/pets/{petId}")
    assert changes(old, new) == []
    narrowed = with_params({"name": "petId", "in": "path", "required": True, "schema": {"type": "integer"}},
                           path="/pets/{petId}")  # fmt: skip
    (change,) = changes(old, narrowed)
    assert (change.operation, change.rule) == ("GET /pets/{petId}", "request-parameter-type-changed")


def test_a_renamed_path_is_a_removed_path_and_a_new_one():
    old, new = doc({"/pets": {"get": ok(S), "post": post(S)}}), doc({"/animals": {"get": ok(S), "post": post(S)}})
    got = [(c.operation, c.rule, c.level) for c in changes(old, new)]
    assert sorted(got) == [
        ("/pets", "api-path-removed-without-deprecation", "ERR"),
        ("GET /animals", "endpoint-added", "INFO"),
        ("POST /animals", "endpoint-added", "INFO"),
    ]


def test_a_removed_operation_breaks_unless_it_was_deprecated():
    old = doc({"/pets": {"get": ok(S), "post": post(S)}})
    new = doc({"/pets": {"get": ok(S)}})
    (change,) = changes(old, new)
    assert (change.operation, change.rule, change.level) == ("POST /pets", "api-removed-without-deprecation", "ERR")
    assert change.removed and change.pointer == "/paths/~1pets/post" and change.new_pointer == ""
    old["paths"]["/pets"]["post"]["deprecated"] = True
    assert found(old, new) == {"api-removed-with-deprecation": "INFO"}


def test_request_bodies():
    plain = doc({"/pets": {"post": ok()}})
    optional, required = doc({"/pets": {"post": post(S, required=False)}}), doc({"/pets": {"post": post(S)}})
    assert found(plain, required) == {"request-body-added-required": "ERR"}
    assert found(plain, optional) == {"request-body-added-optional": "INFO"}
    assert found(optional, required) == {"request-body-became-required": "ERR"}
    assert found(required, optional) == {"request-body-became-optional": "INFO"}
    assert found(required, plain) == {"request-body-removed": "ERR"}


def _media(*types):
    body = {"content": {t: {"schema": S} for t in types}}
    return doc({"/pets": {"post": {"requestBody": body, **ok()}}})


def test_request_media_types():
    assert found(_media("application/json", "application/xml"), _media("application/json")) == {
        "request-body-media-type-removed": "ERR"
    }
    assert found(_media("application/json"), _media("application/json", "text/plain")) == {
        "request-body-media-type-added": "INFO"
    }
    assert changes(_media("application/json"), _media("application/json; charset=utf-8")) == []


def secured(security=None, top=None, scopes=("read",)):
    operation = ok(S)
    if security is not None:
        operation["security"] = security
    flows = {"clientCredentials": {"tokenUrl": "https://x/t", "scopes": {s: s for s in scopes}}}
    schemes = {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}, "oauth": {"type": "oauth2", "flows": flows}}
    extra = {"security": top} if top is not None else {}
    return {**doc({"/pets": {"get": operation}}, **extra), "components": {"securitySchemes": schemes}}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (secured(), secured([{"key": []}]), {"api-security-stricter": "ERR"}),  # anonymous callers refused
        (secured([{}]), secured([{"key": []}]), {"api-security-stricter": "ERR"}),
        (secured([{"key": []}, {"oauth": []}]), secured([{"oauth": []}]), {"api-security-stricter": "ERR"}),
        (secured([{"key": []}]), secured([{"key": [], "oauth": []}]), {"api-security-stricter": "ERR"}),
        (secured([{"oauth": ["read"]}]), secured([{"oauth": ["read", "write"]}]), {"api-security-stricter": "ERR"}),
        (secured([{"key": []}]), secured([{"key": []}, {"oauth": []}]), {"api-security-added": "INFO"}),
        (secured([{"key": []}]), secured(), {"api-security-added": "INFO", "api-security-removed": "INFO"}),
        (
            secured([{"oauth": ["read", "write"]}]),
            secured([{"oauth": ["read"]}]),
            {"api-security-added": "INFO", "api-security-removed": "INFO"},
        ),
        (secured(top=[{"key": []}]), secured([{"key": []}]), {}),  # inherited or its own: the same requirement
    ],
)
def test_security(old, new, expected):
    assert found(old, new) == expected


def test_webhooks_removed_or_added():
    hook = {"post": post(S)}
    old, new = doc({}, webhooks={"newPet": hook, "sold": hook}), doc({}, webhooks={"newPet": hook, "adopted": hook})
    got = {(c.operation, c.rule, c.level) for c in changes(old, new)}
    assert got == {("webhook sold", "webhook-removed", "ERR"), ("webhook adopted", "webhook-added", "INFO")}
