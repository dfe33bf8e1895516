"""Reading documents: YAML or JSON text into plain data, and every way it can go wrong as a `DocumentError` that
names the file, the line or pointer, and the reason (in process; the CLI's exit codes are in tests/robustness)."""

from __future__ import annotations

from pathlib import Path

import pytest

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
