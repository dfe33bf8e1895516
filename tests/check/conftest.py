from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import Served

from . import zoo


@pytest.fixture(scope="session")
def zoo_server() -> Iterator[Served]:
    with Served(zoo.app) as served:
        yield served
