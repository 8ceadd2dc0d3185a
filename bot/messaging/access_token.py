"""The platform access token (WeChat's `access_token`), cached in the shared state.

A token is used until `refresh_margin` seconds before it expires. Refreshing happens under a
lock shared by all processes and re-reads the cache first, so when several processes find the
token stale at once only one asks the platform (each new WeChat token invalidates the last).
A token the platform rejects is dropped only if it is still the cached one.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

from bot.messaging.shared_state import SharedState

# (token, lifetime in seconds) as the platform returned them
TokenFetcher = Callable[[], Tuple[str, float]]


@dataclass(frozen=True)
class TokenPolicy:
    refresh_margin: float = 300.0

    def usable_until(self, fetched_at: float, lifetime: float) -> float:
        return fetched_at + max(0.0, lifetime - min(self.refresh_margin, lifetime / 2))


class AccessTokenCache:
    def __init__(
        self,
        state: SharedState,
        key: str,
        fetch: TokenFetcher,
        policy: TokenPolicy = TokenPolicy(),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._state = state
        self._key = key
        self._fetch = fetch
        self._policy = policy
        self._clock = clock

    def get(self) -> str:
        token = self._usable()
        if token:
            return token
        with self._state.lock(self._key):
            token = self._usable()
            if token:
                return token
            fetched_at = self._clock()
            token, lifetime = self._fetch()
            usable_until = self._policy.usable_until(fetched_at, lifetime)
            self._state.set(
                self._key,
                json.dumps({"token": token, "usable_until": usable_until}),
                ttl=max(1.0, usable_until - fetched_at),
            )
            return token

    def invalidate(self, rejected: str) -> None:
        with self._state.lock(self._key):
            if self._cached_token() == rejected:
                self._state.delete(self._key)

    def _usable(self) -> Optional[str]:
        record = self._record()
        if record and record["usable_until"] > self._clock():
            return record["token"]
        return None

    def _cached_token(self) -> Optional[str]:
        record = self._record()
        return record["token"] if record else None

    def _record(self) -> Optional[dict]:
        raw = self._state.get(self._key)
        if not raw:
            return None
        try:
            record = json.loads(raw)
            return {"token": str(record["token"]), "usable_until": float(record["usable_until"])}
        except (ValueError, KeyError, TypeError):
            return None
