"""Bodies as bytes: JSON through orjson with a fallback for what it refuses, text media as text."""

from __future__ import annotations

import json

from mockserver.serve.data.encoding import dumps, encode, serializable


def test_json_is_compact_utf8():
    assert dumps({"a": [1, None, "é"]}) == '{"a":[1,null,"é"]}'.encode()


def test_integers_past_64_bits_fall_back_to_the_standard_library():
    huge = {"n": 2**70, "m": -(2**80)}
    assert not serializable(huge)
    assert json.loads(dumps(huge)) == huge


def test_a_string_is_sent_as_itself_for_non_json_media_only():
    assert encode("plain words", "text/plain; charset=utf-8") == b"plain words"
    assert encode("quoted", "application/json") == b'"quoted"'
    assert encode("quoted", "application/problem+JSON") == b'"quoted"'
    assert encode({"a": 1}, "text/plain") == b'{"a":1}'  # not a string: JSON whatever the media type
