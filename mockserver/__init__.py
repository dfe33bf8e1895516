"""mockserver: serve an OpenAPI 3.x contract as a deterministic fake server, and check real servers against it."""

from .config import Config
from .documents import DocumentError
from .spec import SpecError, load_spec

__all__ = ["Config", "DocumentError", "SpecError", "create_app", "load_spec"]
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    if name == "create_app":  # keeps `import mockserver` light; Starlette loads with the app
        from .app import create_app

        return create_app
    raise AttributeError(name)
