"""serve's `Config` through `MOCKSERVER_*` variables (worker processes, the ASGI factory): each value's codec comes
from its option's metadata, never from the field's name."""

from __future__ import annotations

from dataclasses import fields

import pytest

from mockserver.serve.config import Config, ConfigError, _codec, option


def test_every_field_survives_a_round_trip_through_the_environment():
    config = Config(spec="x.yaml", latency=(5, 9), rate_limit=7, cors_origins=["http://a", "http://b"],
                    error_rate=0.25, workers=2, cors=False, state_url="redis://h:1/0")  # fmt: skip
    again = Config.from_env(config.to_env())
    assert {f.name: getattr(again, f.name) for f in fields(Config)} == {
        f.name: getattr(config, f.name) for f in fields(Config)
    }


def test_the_codec_is_named_by_the_option_not_the_field():
    assert _codec(option("--anything", type="latency"), "str") == "latency"
    assert _codec(option("--origins", action="append"), "list[str]") == "append"
    assert _codec(option("--port", type="port"), "int") == "int"  # an argparse-only type: read as its Python type
    assert _codec(option("--name"), "str | None") == ""


def test_a_bad_value_in_the_environment_is_a_config_error():
    with pytest.raises(ConfigError, match="latency"):
        Config.from_env({"MOCKSERVER_LATENCY": "soon"})
    with pytest.raises(ConfigError, match="MOCKSERVER_PORT"):
        Config.from_env({"MOCKSERVER_PORT": "eighty"})
