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

from rasa.core.lock_store import RedisLockStore


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
    def __init__(self, endpoint_config: Optional[Any] = None, url: Optional[str] = None, **kwargs: Any) -> None:
        url = url or (endpoint_config.url if endpoint_config is not None else None)
        if not url:
            raise ValueError("Redis 锁存储需要 AFTERSALES_REDIS_URL")
        extra = dict(endpoint_config.kwargs) if endpoint_config is not None else {}
        extra.update(kwargs)
        super().__init__(**redis_settings(url), key_prefix=extra.get("key_prefix"))
