"""Small key/value state shared by every process of the assistant: Redis when a URL is
configured, otherwise files under one directory guarded by `fcntl` locks.

Used for what must agree across processes: which WeChat messages were already received
(retries), which signed (timestamp, nonce, signature) triples were already used (replays),
the platform access token, and the buttons each buyer was last shown.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator, Optional, Protocol

KEY_PREFIX = "aftersales:"


class SharedState(Protocol):
    def add_if_absent(self, key: str, ttl: float) -> bool:
        """Records `key` for `ttl` seconds; False when it was already recorded (and not expired)."""

    def get(self, key: str) -> Optional[str]: ...

    def remember_first(self, key: str, value: str, ttl: float) -> str:
        """Stores `value` under `key` for `ttl` seconds unless a value is there already;
        returns the value that is stored now (the first one)."""

    def set(self, key: str, value: str, ttl: float) -> None: ...

    def delete(self, key: str) -> None: ...

    def lock(self, name: str) -> "contextlib.AbstractContextManager[None]":
        """An exclusive lock held across processes while the block runs."""


class FileState:
    """One JSON file per key under `directory`; every read-modify-write runs under an
    exclusive `flock` of `directory/.lock`, named locks use their own lock files."""

    SWEEP_INTERVAL = 600.0

    def __init__(self, directory: Path, clock: Callable[[], float] = time.time) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._last_sweep = 0.0

    def add_if_absent(self, key: str, ttl: float) -> bool:
        with self._locked(".lock"):
            if self._read(key) is not None:
                return False
            self._write(key, "1", ttl)
            self._sweep_now_and_then()
            return True

    def get(self, key: str) -> Optional[str]:
        with self._locked(".lock"):
            return self._read(key)

    def remember_first(self, key: str, value: str, ttl: float) -> str:
        with self._locked(".lock"):
            stored = self._read(key)
            if stored is not None:
                return stored
            self._write(key, value, ttl)
            self._sweep_now_and_then()
            return value

    def set(self, key: str, value: str, ttl: float) -> None:
        with self._locked(".lock"):
            self._write(key, value, ttl)

    def delete(self, key: str) -> None:
        with self._locked(".lock"):
            self._path(key).unlink(missing_ok=True)

    def lock(self, name: str) -> "contextlib.AbstractContextManager[None]":
        return self._locked(f".lock-{_digest(name)}")

    @contextlib.contextmanager
    def _locked(self, filename: str) -> Iterator[None]:
        with open(self.directory / filename, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _path(self, key: str) -> Path:
        return self.directory / f"{_digest(key)}.json"

    def _read(self, key: str) -> Optional[str]:
        path = self._path(key)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        if record.get("expires_at", 0) <= self._clock():
            path.unlink(missing_ok=True)
            return None
        return record.get("value")

    def _write(self, key: str, value: str, ttl: float) -> None:
        record = {"key": key, "value": value, "expires_at": self._clock() + ttl}
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".write-")
        with os.fdopen(handle, "w", encoding="utf-8") as output:
            json.dump(record, output, ensure_ascii=False)
        os.replace(temporary, self._path(key))

    def _sweep_now_and_then(self) -> None:
        now = self._clock()
        if now - self._last_sweep < self.SWEEP_INTERVAL:
            return
        self._last_sweep = now
        for path in self.directory.glob("*.json"):
            try:
                if json.loads(path.read_text(encoding="utf-8")).get("expires_at", 0) <= now:
                    path.unlink(missing_ok=True)
            except (OSError, ValueError):
                continue


class RedisState:
    """The same operations on Redis (`SET NX EX` and Redis locks), for several hosts."""

    LOCK_TIMEOUT = 30.0

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, decode_responses=True)

    def add_if_absent(self, key: str, ttl: float) -> bool:
        return bool(self._redis.set(KEY_PREFIX + key, "1", nx=True, px=_milliseconds(ttl)))

    def get(self, key: str) -> Optional[str]:
        return self._redis.get(KEY_PREFIX + key)

    def remember_first(self, key: str, value: str, ttl: float) -> str:
        if self._redis.set(KEY_PREFIX + key, value, nx=True, px=_milliseconds(ttl)):
            return value
        return self._redis.get(KEY_PREFIX + key) or value  # expired in between: as if first

    def set(self, key: str, value: str, ttl: float) -> None:
        self._redis.set(KEY_PREFIX + key, value, px=_milliseconds(ttl))

    def delete(self, key: str) -> None:
        self._redis.delete(KEY_PREFIX + key)

    def lock(self, name: str) -> "contextlib.AbstractContextManager[None]":
        return self._redis.lock(
            f"{KEY_PREFIX}lock:{name}", timeout=self.LOCK_TIMEOUT, blocking_timeout=self.LOCK_TIMEOUT
        )


def open_shared_state(redis_url: str, directory: Path) -> SharedState:
    return RedisState(redis_url) if redis_url else FileState(directory)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]


def _milliseconds(seconds: float) -> int:
    return max(1, int(seconds * 1000))
