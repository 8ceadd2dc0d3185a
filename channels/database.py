"""The orders/tickets database for code running inside the Rasa server (channels): the
schema is brought up to date once, and blocking SQL runs in a worker thread so that the
server's event loop keeps serving other conversations meanwhile."""
from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Callable, TypeVar

from sqlalchemy.orm import Session

from bot.config import get_settings
from bot.db.engine import session_scope, shared_engine
from bot.db.schema import upgrade_database
from bot.policy import PolicyConfig, load_policy

T = TypeVar("T")


@lru_cache(maxsize=1)
def _engine():
    settings = get_settings()
    upgrade_database(settings.database_url)
    return shared_engine(settings.database_url)


@lru_cache(maxsize=1)
def policy() -> PolicyConfig:
    return load_policy(get_settings().policy_file)


def run_in_session(work: Callable[[Session], T]) -> T:
    with session_scope(_engine()) as session:
        return work(session)


async def in_database(work: Callable[[Session], T]) -> T:
    """Run `work(session)` in one transaction on a worker thread; commits when it returns."""
    return await asyncio.get_running_loop().run_in_executor(None, run_in_session, work)
