"""Rate limits with the `limits` library (moving windows), shared through Redis when
AFTERSALES_REDIS_URL is set, otherwise kept in the memory of each process.

Without Redis every server process counts on its own: with one action server and one Rasa
server (what `python -m bot serve` starts) the limits hold as configured; a shop running
several processes must set AFTERSALES_REDIS_URL or each process allows the full rate.

What is limited (settings in bot/config.py, written like "10/hour" or "5/15minutes"):
- wrong phone digits per ORDER, over all conversations and channels (the lock-out is
  audited and the buyer is offered a person): AFTERSALES_VERIFY_ATTEMPTS_PER_ORDER;
- failed console logins per account and per client address: AFTERSALES_LOGIN_ATTEMPTS,
  AFTERSALES_LOGIN_ATTEMPTS_PER_CLIENT;
- evidence uploads per client address: AFTERSALES_UPLOADS_PER_CLIENT;
- buyer messages per client address on the REST channel and the web chat:
  AFTERSALES_MESSAGES_PER_CLIENT (`message_throttle`).
"""

from __future__ import annotations

import hashlib
import threading
import time
from functools import lru_cache
from typing import Tuple

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


# The action server runs actions on worker threads, so the first throttles of a process can be
# built at the same moment; `limits` imports the Redis client while building its storage, and
# two threads importing it at once may get a half-initialised module (an action failed with
# "partially initialized module 'redis'"). One thread builds at a time.
_BUILDING = threading.Lock()


@lru_cache(maxsize=4)
def _storage(redis_url: str):
    return storage_from_string(redis_url or "memory://")


@lru_cache(maxsize=4)
def _built_limiter(redis_url: str) -> MovingWindowRateLimiter:
    # the strategy holds its storage only weakly: the storage is kept by _storage's cache
    return MovingWindowRateLimiter(_storage(redis_url))


def _limiter(redis_url: str) -> MovingWindowRateLimiter:
    with _BUILDING:
        return _built_limiter(redis_url)


class Throttle:
    """`rate` ("10/hour") per key. `namespace` keeps installations (databases) that share a
    Redis or a process apart."""

    def __init__(self, name: str, rate: str, redis_url: str = "", namespace: str = "") -> None:
        self.name = name
        self.rate = parse(rate)
        self._limiter = _limiter(redis_url)
        self._namespace = hashlib.sha256(namespace.encode("utf-8")).hexdigest()[:12]

    def _ids(self, key: str) -> Tuple[str, ...]:
        return ("aftersales", self._namespace, self.name, key)

    def blocked(self, key: str) -> bool:
        """True while the limit for `key` is used up (nothing is counted)."""
        return not self._limiter.test(self.rate, *self._ids(key))

    def hit(self, key: str) -> bool:
        """Counts one event for `key`; False when it went over the limit."""
        return self._limiter.hit(self.rate, *self._ids(key))

    def retry_after_seconds(self, key: str) -> int:
        reset_at, _remaining = self._limiter.get_window_stats(self.rate, *self._ids(key))
        return max(1, int(reset_at - time.time()))


MESSAGES_PER_CLIENT = "messages-client"


def message_throttle(settings) -> Throttle:
    """One budget per client address shared by the REST channel and the web chat."""
    return Throttle(MESSAGES_PER_CLIENT, settings.messages_per_client, settings.redis_url, settings.database_url)
