"""socket.io event streams: stream fixtures (streams.py, template.py), the server that plays them (server.py),
their faults through the overrides API (faults.py), their journal entries (frames.py, journaling.py), what the app
mounts at the socket.io path (mount.py), and the proxy's relay and recorder (relay.py, recording.py). python-socketio
is imported by server.py and relay.py only, on the first socket.io request.
"""

from .faults import FaultError, OverrideStore, is_fault
from .faults import check as check_fault
from .streams import EventStreams, Stream, is_stream, load_streams, normal_path

__all__ = [
    "EventStreams",
    "FaultError",
    "OverrideStore",
    "Stream",
    "check_fault",
    "is_fault",
    "is_stream",
    "load_streams",
    "normal_path",
]
