"""The orders/tickets database for code running inside the Rasa server (channels), from the
process's runtime (bot/bootstrap.py). Blocking SQL runs in a worker thread so that the server's
event loop keeps serving other conversations meanwhile."""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any, Callable, List, Tuple, TypeVar

from sqlalchemy.orm import Session

from bot import bootstrap
from bot.policy import PolicyConfig

T = TypeVar("T")


def policy() -> PolicyConfig:
    return bootstrap.current().policy


def run_in_session(work: Callable[[Session], T]) -> T:
    return _run(work)[0]


def _run(work: Callable[[Session], T]) -> Tuple[T, List[Any]]:
    with bootstrap.current().unit_of_work() as unit:
        result = work(unit.session)
    return result, unit.handled


async def in_database(work: Callable[[Session], T]) -> T:
    """Run `work(session)` in one transaction on a worker thread; commits when it returns."""
    return (await in_database_handled(work))[0]


async def in_database_handled(work: Callable[[Session], T]) -> Tuple[T, List[Any]]:
    """`in_database`, and what the message bus's handlers answered for the events the change
    recorded once it had committed (a buyer notice: awaited here, as the handler only starts it)."""
    result, handled = await asyncio.get_running_loop().run_in_executor(None, _run, work)
    return result, [
        await asyncio.wrap_future(answer) if isinstance(answer, concurrent.futures.Future) else answer
        for answer in handled
    ]
