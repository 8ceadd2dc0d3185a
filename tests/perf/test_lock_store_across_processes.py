"""The Redis ticket lock holds across processes: two replicas taking messages of one
conversation at the same moment handle them one after the other, never both at once.

(Rasa's own RedisLockStore, run the same way, counted 9 of 24 turns: its read-change-write
of the lock lets replicas issue the same ticket.)"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid

import pytest

redis = pytest.importorskip("redis")

URL = "redis://127.0.0.1:6379/5"
PROCESSES = 4
TURNS_EACH = 6


def _redis_or_skip():
    try:
        redis.Redis.from_url(URL).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("没有可用的 Redis（127.0.0.1:6379）")


def _replica(store_type: str, conversation: str, start_at: float, results) -> None:
    """One replica: several turns of the same conversation, each a read-change-write of a
    counter that is only correct if no other turn runs at the same time."""
    from rasa.core.lock_store import LockStore
    from rasa.utils.endpoints import EndpointConfig

    store = LockStore.create(EndpointConfig(url=URL, type=store_type))
    client = redis.Redis.from_url(URL)
    counter = f"test-counter:{conversation}"

    async def turn():
        async with store.lock(conversation, wait_time_in_seconds=0.01):
            seen = int(client.get(counter) or 0)
            await asyncio.sleep(0.005)  # the turn's work: other replicas' turns must wait
            client.set(counter, seen + 1)

    async def turns():
        await asyncio.gather(*(turn() for _ in range(TURNS_EACH)))

    time.sleep(max(0.0, start_at - time.time()))
    errors = 0
    try:
        asyncio.run(turns())
    except Exception:  # noqa: BLE001 - a LockError is one of the failures this test counts
        errors = 1
    results.put(errors)


def _run_replicas(store_type: str) -> tuple[int, int]:
    conversation = f"race-{uuid.uuid4().hex[:8]}"
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start_at = time.time() + 4  # spawned interpreters import Rasa first; then all start together
    replicas = [
        context.Process(target=_replica, args=(store_type, conversation, start_at, results)) for _ in range(PROCESSES)
    ]
    for replica in replicas:
        replica.start()
    errors = sum(results.get(timeout=120) for _ in replicas)
    for replica in replicas:
        replica.join(timeout=30)
    client = redis.Redis.from_url(URL)
    counted = int(client.get(f"test-counter:{conversation}") or 0)
    client.delete(f"test-counter:{conversation}")
    return counted, errors


def test_turns_of_one_conversation_never_overlap_across_replicas():
    _redis_or_skip()
    counted, errors = _run_replicas("bot.rasa_lock_store.RedisURLLockStore")
    assert errors == 0
    assert counted == PROCESSES * TURNS_EACH, "two turns of one conversation ran at the same time"
