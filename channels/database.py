"""The orders/tickets database for code running inside the Rasa server (channels), from the
process's runtime (bot/bootstrap.py). Blocking SQL runs in a worker thread so that the server's
event loop keeps serving other conversations meanwhile."""

from __future__ import annotations

import asyncio
from typing import Callable, TypeVar

from sqlalchemy.orm import Session

from bot import bootstrap
from bot.policy import PolicyConfig

T = TypeVar("T")


def policy() -> PolicyConfig:
    return bootstrap.current().policy


def run_in_session(work: Callable[[Session], T]) -> T:
    with bootstrap.current().unit_of_work() as session:
        return work(session)


async def in_database(work: Callable[[Session], T]) -> T:
    """Run `work(session)` in one transaction on a worker thread; commits when it returns."""
    return await asyncio.get_running_loop().run_in_executor(None, run_in_session, work)
