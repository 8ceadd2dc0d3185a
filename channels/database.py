"""The orders/tickets database for code running inside the Rasa server (channels): the
schema is brought up to date once, and blocking SQL runs in a worker thread so that the
server's event loop keeps serving other conversations meanwhile."""
from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Callable, TypeVar

from sqlalchemy.orm import Session

from bot.config import get_settings
from bot.db.engine import session_scope
from bot.db.schema import migrated_engine
from bot.policy import PolicyConfig, load_policy

T = TypeVar("T")


@lru_cache(maxsize=1)
def policy() -> PolicyConfig:
    return load_policy(get_settings().policy_file)


def run_in_session(work: Callable[[Session], T]) -> T:
    with session_scope(migrated_engine(get_settings().database_url)) as session:
        return work(session)


async def in_database(work: Callable[[Session], T]) -> T:
    """Run `work(session)` in one transaction on a worker thread; commits when it returns."""
    return await asyncio.get_running_loop().run_in_executor(None, run_in_session, work)
