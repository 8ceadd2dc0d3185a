"""Rasa's Redis lock store configured by one URL (AFTERSALES_REDIS_URL, the same setting the
messaging channels use), e.g. redis://:password@redis:6379/0 or rediss://... for TLS.

With two or more Rasa processes the lock store makes sure one conversation is handled by one
process at a time, in the order its messages arrived (Rasa's ticket locks). Rasa's own
`type: redis` takes host, port, db and password as separate keys; endpoints.production.yml
names this class instead so that a shop sets Redis in one place.
"""

from __future__ import annotations

from typing import Any, Optional
from urllib.parse import unquote, urlsplit

from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore


def redis_settings(url: str) -> dict:
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(f"AFTERSALES_REDIS_URL 必须以 redis:// 或 rediss:// 开头：{url!r}")
    path = parts.path.strip("/")
    return {
        "host": parts.hostname or "localhost",
        "port": parts.port or 6379,
        "db": int(path) if path else 0,
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "use_ssl": parts.scheme == "rediss",
    }


class RedisURLLockStore(RedisLockStore):
    """Rasa's Redis ticket lock made safe across processes.

    Rasa's `RedisLockStore` changes a conversation's lock by reading it, changing it in the
    process and writing it back. Two replicas that take a message of the same conversation at
    the same moment both read the same lock, both issue ticket 0, and the later write wins:
    both handle their message at once and one message's events are lost from the tracker (seen
    in tests/cluster). Every change here runs under a short Redis mutex per conversation
    (redis-py's `Lock`: SET NX with a token, released by a script only by its owner), so tickets
    are issued, served and removed one change at a time.
    """

    MUTEX_SECONDS = 10  # a change takes milliseconds; a crashed holder frees the mutex after this

    def __init__(self, endpoint_config: Optional[Any] = None, url: Optional[str] = None, **kwargs: Any) -> None:
        url = url or (endpoint_config.url if endpoint_config is not None else None)
        if not url:
            raise ValueError("Redis 锁存储需要 AFTERSALES_REDIS_URL")
        extra = dict(endpoint_config.kwargs) if endpoint_config is not None else {}
        extra.update(kwargs)
        super().__init__(**redis_settings(url), key_prefix=extra.get("key_prefix"))

    def _mutex(self, conversation_id: str):
        return self.red.lock(
            f"{self.key_prefix}{conversation_id}:mutex",
            timeout=self.MUTEX_SECONDS,
            blocking_timeout=self.MUTEX_SECONDS * 3,
        )

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._mutex(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: str) -> None:
        with self._mutex(conversation_id):
            super().update_lock(conversation_id)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        with self._mutex(conversation_id):
            super().finish_serving(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        # Rasa removes the ticket and deletes an empty lock in two steps; a ticket issued
        # between them was deleted with the lock. Both happen under one mutex here.
        with self._mutex(conversation_id):
            lock = self.get_lock(conversation_id)
            if lock is None:
                return
            lock.remove_ticket_for(ticket_number)
            if lock.is_someone_waiting():
                self.save_lock(lock)
            else:
                self.delete_lock(conversation_id)
