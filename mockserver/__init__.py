"""mockserver: serve an OpenAPI 3.x contract as a deterministic fake server, and check real servers against it.

Packages: `contract` (reading a contract: documents, spec, schemas, security), `serve` (the mock server), `check`
(the conformance checker and fuzzer); `cli` and `config` wire them to the command line.
"""

from .contract.documents import DocumentError
from .contract.spec import Spec, load_spec
from .serve.config import Config

__all__ = ["Config", "DocumentError", "Spec", "__version__", "create_app", "load_spec"]
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    if name == "create_app":  # keeps `import mockserver` light; Starlette loads with the app
        from .serve.app import create_app

        return create_app
    raise AttributeError(name)
