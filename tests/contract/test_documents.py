"""Reading documents: YAML or JSON text into plain data, and every way it can go wrong as a `DocumentError` that
names the file, the line or pointer, and the reason (in process; the CLI's exit codes are in tests/robustness)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.contract import documents
from mockserver.contract.documents import DocumentError, escape, load, parse, pointer


def test_yaml_and_json_give_the_same_data_and_dates_stay_text():
    yaml_data = parse("a: 1\nwhen: 2024-01-02\nlist: [x, {y: null}]\n", "f.yaml")
    assert yaml_data == parse('{"a": 1, "when": "2024-01-02", "list": ["x", {"y": null}]}', "f.json")
    assert isinstance(yaml_data["when"], str)  # JSON Schema sees a date as a string, as a client sends it


@pytest.mark.parametrize(
    ("text", "where", "reason"),
    [
        ("", "", "empty document"),
        ("  \n", "", "empty document"),
        ("a: [1, 2\n", "line 2 column 1", "invalid YAML"),
        ('{"a": 1,}', "line 1 column 9", "invalid JSON"),
        ("? [a, b]\n: c\n", "line 1 column 3", "invalid YAML: found unhashable key"),
        ("[" * 300 + "]" * 300, "", "nested"),
    ],
)
def test_what_does_not_parse_says_where_and_why(text, where, reason):
    with pytest.raises(DocumentError) as caught:
        parse(text, "f.yaml")
    error = caught.value
    assert (error.file, reason in error.reason) == ("f.yaml", True)
    assert where in error.pointer


def test_an_alias_bomb_stops_at_the_node_budget(monkeypatch):
    monkeypatch.setattr(documents, "MAX_NODES", 1000)
    ten = ", ".join(["*a"] * 10)
    bomb = f"a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [{ten}]\nc: [{ten.replace('a', 'b')}]\n"
    with pytest.raises(DocumentError, match="expands to more than 1,000 nodes"):
        parse(bomb, "f.yaml")


def test_depth_past_the_limit_names_where(monkeypatch):
    monkeypatch.setattr(documents, "MAX_DEPTH", 3)
    with pytest.raises(DocumentError) as caught:
        parse("a: {b: {c: {d: {e: 1}}}}\n", "f.yaml")
    assert caught.value.pointer == "/a/b/c/d" and "nested deeper than 3 levels" in caught.value.reason


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"a: 1\x00\n", "binary file"), (b"a: \xff\xfe\n", "not UTF-8 text (byte 3)")],
)
def test_files_that_are_not_text(tmp_path: Path, content, reason):
    path = tmp_path / "f.yaml"
    path.write_bytes(content)
    with pytest.raises(DocumentError) as caught:
        load(str(path))
    assert caught.value.reason.startswith(reason)


def test_a_byte_order_mark_is_fine(tmp_path: Path):
    path = tmp_path / "f.json"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}')
    assert load(str(path)) == {"a": 1}


def test_missing_files_and_folders(tmp_path: Path):
    with pytest.raises(DocumentError, match="No such file"):
        load(str(tmp_path / "nothing.yaml"))
    with pytest.raises(DocumentError, match="is a directory"):
        load(str(tmp_path))


def test_too_large_is_refused_before_reading(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(documents, "MAX_BYTES", 10)
    path = tmp_path / "f.yaml"
    path.write_text("a: " + "x" * 20)
    with pytest.raises(DocumentError, match="larger than"):
        load(str(path))


def test_the_message_reads_file_pointer_reason():
    assert str(DocumentError("api.yaml", "/paths/~1a", "bad")) == "api.yaml: /paths/~1a: bad"
    assert str(DocumentError("api.yaml", "", "bad")) == "api.yaml: bad"


def test_pointers_escape_as_rfc_6901_says():
    assert escape("a/b~c") == "a~1b~0c"
    assert pointer("paths", "/pets/{id}", "get", 0) == "/paths/~1pets~1{id}/get/0"
    assert pointer() == ""


# YAML 1.1 plain scalars PyYAML's resolver types (and some it leaves as text): the fast loader must agree
TRICKY = ["yes", "No", "on", "OFF", "y", "n", "true", "False", "~", "null", "", "010", "0o17", "0x1F", "0b101", "-0",
          "+12", "1_000", "1:20", "190:20:30.15", ".inf", "-.Inf", ".NaN", "1e3", "1.5e-3", "6.8523015e+5",
          "2024-01-02", "2001-12-14t21:59:43.10-05:00", "a b", "'quoted'", '"dq \\u00e9"', "é", "0.",
          "1.2.3", "0xZZ", "12:30:00", "+.5"]  # fmt: skip
KEYS = st.text(alphabet="abcxyz_", min_size=1, max_size=4)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(data=VALUES, flow=st.sampled_from([None, True, False]))
def test_the_fast_yaml_loader_reads_what_pyyaml_reads(data, flow):
    """`parse` builds YAML from the parser's events (no node graph); whatever PyYAML's loader gives, it gives."""
    text = yaml.safe_dump({"k": data}, default_flow_style=flow, allow_unicode=True)
    assert documents._load_yaml(text) == yaml.load(text, Loader=documents._Loader)


@settings(max_examples=200, deadline=None)
@given(scalars=st.lists(st.sampled_from(TRICKY), min_size=1, max_size=8), nested=st.booleans())
def test_plain_scalars_anchors_and_merges_are_typed_as_pyyaml_types_them(scalars, nested):
    lines = [f"k{i}: {s}" for i, s in enumerate(scalars)]
    text = (
        "base: &b {x: 1, y: two}\n"
        + "\n".join(lines)
        + "\nm:\n  <<: *b\n  y: 3\n"
        + ("l: [*b, *b]\n" if nested else "")
    )
    want = yaml.load(text, Loader=documents._Loader)
    got = documents._load_yaml(text)
    assert repr(got) == repr(want)  # same values, same types (1 is not True), same key order
    assert got["m"] == {"x": 1, "y": 3}


@pytest.mark.parametrize(
    "text",
    [
        "a: !!binary aGVsbG8=\n",
        "x: !!set {a, b}\n",
        "m: &m {a: 1}\nd:\n  <<: [*m]\n",
        "a: 1\n---\nb: 2\n",
        "? [a]\n: b\n",
        "a: =\n",
        "a: <<\n",
    ],
)
def test_what_the_fast_loader_leaves_to_pyyaml_is_pyyamls(text):
    with pytest.raises((documents._Unusual, yaml.YAMLError)):
        documents._load_yaml(text)
    try:
        want = ("data", yaml.load(text, Loader=documents._Loader))
    except yaml.YAMLError:
        want = ("error", None)
    if want[0] == "data":
        assert parse(text, "f.yaml") == want[1]
    else:
        with pytest.raises(DocumentError, match="invalid YAML"):
            parse(text, "f.yaml")
