"""The composition root of a server process: what the actions (action server) and the channels
(Rasa server) share is built here, once per process, from the one configuration object.

`current()` is the process's `Runtime`, built on first use (thread-safe); `install()` puts a
runtime of one's own in its place (tests: each test builds its own instead of clearing caches).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterator, Optional
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.config import Settings, get_settings
from bot.db.engine import session_scope
from bot.db.schema import migrated_engine
from bot.policy import PolicyConfig, load_policy


@dataclass(frozen=True)
class ShopClock:
    """ "Now" and "today" in the shop's time zone (AFTERSALES_TIMEZONE)."""

    zone: ZoneInfo

    def now(self) -> datetime:
        return datetime.now(self.zone)

    def today(self) -> date:
        return self.now().date()


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    policy: PolicyConfig
    clock: ShopClock
    engine: Engine

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction on the orders/tickets database: commits when the block ends."""
        with session_scope(self.engine) as session:
            yield session


def bootstrap(settings: Optional[Settings] = None) -> Runtime:
    """Read the settings and the shop's policy (a broken policy file stops here, naming the bad
    key) and open the database, its schema brought up to date."""
    settings = settings or get_settings()
    return Runtime(
        settings=settings,
        policy=load_policy(settings.policy_file),
        clock=ShopClock(ZoneInfo(settings.timezone)),
        engine=migrated_engine(settings.database_url),
    )


_lock = threading.Lock()
_current: Optional[Runtime] = None


def current() -> Runtime:
    global _current
    with _lock:
        if _current is None:
            _current = bootstrap()
        return _current


def install(runtime: Optional[Runtime]) -> Optional[Runtime]:
    """Make `runtime` the process's runtime (None: build again from the environment on next
    use); returns the one it replaces."""
    global _current
    with _lock:
        previous, _current = _current, runtime
        return previous
