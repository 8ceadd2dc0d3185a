"""Signed requests used once: a captured (timestamp, nonce, signature) triple cannot carry
another body.

WeChat's plain-mode signature covers only the token, timestamp and nonce, not the message,
so within the allowed clock skew one captured triple could deliver any number of forged
messages. The first body seen with a triple is remembered in the shared state (all
processes, and hosts with Redis); the same triple with another body is a replay. The same
triple with the same body is WeChat retrying and goes on to the MsgId de-duplication.
"""

from __future__ import annotations

import hashlib

from bot.messaging.shared_state import SharedState


def fresh_or_retry(state: SharedState, platform: str, signed: str, body: bytes, ttl: float) -> bool:
    """False when `signed` (the signature triple) was already used with another body."""
    digest = hashlib.sha256(body).hexdigest()
    key = f"signed:{platform}:{hashlib.sha256(signed.encode('utf-8')).hexdigest()}"
    return state.remember_first(key, digest, ttl) == digest
