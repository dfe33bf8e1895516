"""oneOf/anyOf variants and discriminators: variants are matched by the schema they name, not by position."""

from __future__ import annotations

from .builders import changes, doc, found, obj, ok, post

CAT = {"type": "object", "properties": {"kind": {"type": "string"}, "meows": {"type": "boolean"}}}
DOG = {"type": "object", "properties": {"kind": {"type": "string"}, "barks": {"type": "boolean"}}}
BIRD = {"type": "object", "properties": {"kind": {"type": "string"}, "sings": {"type": "boolean"}}}


def pets(names, mapping=True, property_name="kind", side="both"):
    union = {"oneOf": [{"$ref": f"#/components/schemas/{n}"} for n in names],
             "discriminator": {"propertyName": property_name}}  # fmt: skip
    if mapping:
        union["discriminator"]["mapping"] = {n.lower(): f"#/components/schemas/{n}" for n in names}
    paths = {}
    if side in ("both", "request"):
        paths["/pets"] = {"post": post(union)}
    if side in ("both", "response"):
        paths["/pets/{id}"] = {"get": ok(union)}
    return doc(paths, {"Cat": CAT, "Dog": DOG, "Bird": BIRD})


def test_a_new_variant_breaks_responses_not_requests():
    got = {(c.operation, c.rule, c.level) for c in changes(pets(["Cat", "Dog"]), pets(["Cat", "Dog", "Bird"]))}
    assert got == {
        ("GET /pets/{id}", "response-body-one-of-added", "ERR"),
        ("GET /pets/{id}", "response-body-discriminator-mapping-added", "INFO"),
        ("POST /pets", "request-body-one-of-added", "INFO"),
        ("POST /pets", "request-body-discriminator-mapping-added", "INFO"),
    }


def test_a_removed_variant_breaks_requests_not_responses():
    got = {(c.operation, c.rule, c.level) for c in changes(pets(["Cat", "Dog"]), pets(["Cat"]))}
    assert ("POST /pets", "request-body-one-of-removed", "ERR") in got
    assert ("GET /pets/{id}", "response-body-one-of-removed", "INFO") in got


def test_reordered_variants_are_no_change_and_a_variant_change_is_found_inside():
    assert changes(pets(["Cat", "Dog"]), pets(["Dog", "Cat"])) == []
    old = pets(["Cat", "Dog"], side="response")
    new = pets(["Cat", "Dog"], side="response")
    new["components"]["schemas"]["Dog"] = {**DOG, "properties": {**DOG["properties"], "barks": {"type": "string"}}}
    assert found(old, new) == {"response-property-type-changed": "ERR"}


def test_discriminator_changes_are_info_as_in_oasdiff():
    assert found(pets(["Cat", "Dog"], side="response"), pets(["Cat", "Dog"], property_name="type",
                 side="response")) == {"response-body-discriminator-property-name-changed": "INFO"}  # fmt: skip
    plain = pets(["Cat", "Dog"], side="response")
    del plain["paths"]["/pets/{id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"][
        "discriminator"
    ]
    assert found(plain, pets(["Cat", "Dog"], side="response")) == {"response-body-discriminator-added": "INFO"}


def test_inline_variants_pair_in_order_and_a_nested_one_of():
    old = doc({"/x": {"get": ok(obj(v={"oneOf": [{"type": "string"}, {"type": "integer", "maximum": 5}]}))}})
    new = doc({"/x": {"get": ok(obj(v={"oneOf": [{"type": "string"}, {"type": "integer", "maximum": 9}]}))}})
    assert found(old, new) == {"response-property-max-increased": "ERR"}
