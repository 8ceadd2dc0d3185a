"""The composition root: what a process's code shares is built here from the one configuration
object: the settings, the shop's policy and clock, the database, and the message bus whose
handlers react to what the tickets recorded (bot/messagebus.py).

A server process (the actions in the action server, the channels in the Rasa server) has one
`Runtime`: `current()` builds it on first use (thread-safe); `install()` puts one of one's own
in its place (tests: each test builds its own instead of clearing caches). The Rasa server,
once running, installs its runtime again with the buyer notices told through the relay
in-process (channels/console.py); the action server's announces nothing.

The command line (`python -m bot`, bot/cli.py) has one `CommandLine`, built per run by
`command_line()` (a test passes its own to `bot.cli.main`): the same pieces, each made when a
command first needs it, and the buyer notices asked of the running Rasa server over HTTP
(bot/relay_client.py).

A unit of work is one transaction; once it has committed, the domain events its ticket moves
recorded go to the bus (a rolled-back change tells nobody), and what the handlers answered
(e.g. whether the buyer was told) is the unit of work's `handled`. One call of the action
server is one unit of work (`one_unit_of_work_per_call`): its steps share the transaction.
"""

from __future__ import annotations

import dataclasses
import threading
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, ContextManager, Iterator, List, Optional
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot import relay_client
from bot.config import Settings, get_settings
from bot.console import promises
from bot.db.schema import migrated_engine
from bot.messagebus import MessageBus
from bot.policy import PolicyConfig, load_policy
from bot.services.ticket_store import committed_events


@dataclass(frozen=True)
class ShopClock:
    """ "Now" and "today" in the shop's time zone (AFTERSALES_TIMEZONE)."""

    zone: ZoneInfo

    def now(self) -> datetime:
        return datetime.now(self.zone)

    def today(self) -> date:
        return self.now().date()


@dataclass
class UnitOfWork:
    """One transaction (`session`); once it has committed, `handled` holds what the message
    bus's handlers answered for the events it recorded."""

    session: Session
    handled: List[Any] = field(default_factory=list)


@contextmanager
def unit_of_work(engine: Engine, bus: MessageBus) -> Iterator[UnitOfWork]:
    """Commits when the block ends, then hands the events to `bus`; an exception rolls back
    and nothing is handed on."""
    session = Session(engine, future=True, expire_on_commit=False)
    try:
        with session.begin():
            work = UnitOfWork(session)
            yield work
        events = committed_events(session)
    finally:
        session.close()
    work.handled = bus.handle(events)


def buyer_notices(tell_buyer: Optional[promises.TellBuyer]) -> MessageBus:
    """The bus whose handlers tell the buyer of a status a person set or a new tracking
    number (bot/console/promises.py) through `tell_buyer`; None: a bus that tells nobody."""
    return MessageBus(promises.notification_handlers(tell_buyer) if tell_buyer else {})


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    policy: PolicyConfig
    clock: ShopClock
    engine: Engine
    bus: MessageBus = field(default_factory=MessageBus)

    def unit_of_work(self) -> ContextManager[UnitOfWork]:
        """One transaction on the orders/tickets database (see `unit_of_work`); inside
        `one_unit_of_work_per_call`, the call's own."""
        call = _call.get()
        if call is None:
            return unit_of_work(self.engine, self.bus)
        return call.shared(lambda: unit_of_work(self.engine, self.bus))

    def telling_buyers(self, tell_buyer: promises.TellBuyer) -> "Runtime":
        """This runtime, with the buyer notices told through `tell_buyer`."""
        return dataclasses.replace(self, bus=buyer_notices(tell_buyer))


def bootstrap(settings: Optional[Settings] = None, *, tell_buyer: Optional[promises.TellBuyer] = None) -> Runtime:
    """Read the settings and the shop's policy (a broken policy file stops here, naming the bad
    key) and open the database, its schema brought up to date."""
    settings = settings or get_settings()
    return Runtime(
        settings=settings,
        policy=load_policy(settings.policy_file),
        clock=ShopClock(ZoneInfo(settings.timezone)),
        engine=migrated_engine(settings.database_url),
        bus=buyer_notices(tell_buyer),
    )


@dataclass(frozen=True)
class CommandLine:
    """What the commands of `python -m bot` use, each piece made when first needed: a policy
    trial opens no database, listing tickets reads no policy file."""

    settings: Settings
    bus: MessageBus

    @property
    def clock(self) -> ShopClock:
        return ShopClock(ZoneInfo(self.settings.timezone))

    def policy(self, path: Optional[Path] = None) -> PolicyConfig:
        """The shop's policy, or the file `path` (a trial of another policy)."""
        return load_policy(path or self.settings.policy_file)

    def engine(self, database_url: Optional[str] = None) -> Engine:
        """The database (`--database-url`, else the configured one), its schema brought up to date."""
        return migrated_engine(database_url or self.settings.database_url)

    def unit_of_work(self, database_url: Optional[str] = None) -> ContextManager[UnitOfWork]:
        return unit_of_work(self.engine(database_url), self.bus)


def command_line(
    settings: Optional[Settings] = None, *, tell_buyer: Optional[promises.TellBuyer] = None
) -> CommandLine:
    """The command line's composition root: the buyer notices go to the running Rasa server
    over HTTP unless `tell_buyer` says otherwise."""
    settings = settings or get_settings()
    return CommandLine(settings, buyer_notices(tell_buyer or relay_client.ticket_update_over_http(settings)))


class _CallsUnitOfWork:
    """The unit of work of one call, opened when a step first asks for it."""

    def __init__(self) -> None:
        self.closing = ExitStack()
        self.unit: Optional[UnitOfWork] = None

    @contextmanager
    def shared(self, open_unit) -> Iterator[UnitOfWork]:
        if self.unit is None:
            self.unit = self.closing.enter_context(open_unit())
        yield self.unit  # an exception goes on to the call's end, which rolls everything back


_call: ContextVar[Optional[_CallsUnitOfWork]] = ContextVar("aftersales_calls_unit_of_work", default=None)


@contextmanager
def one_unit_of_work_per_call() -> Iterator[None]:
    """Every `Runtime.unit_of_work()` inside the block is the same one, opened at the first and
    committed when the block ends; an exception rolls all of it back. An action-server call
    (bot/action_server.py) looks the order up, checks the tickets and writes its decision in
    several steps: one transaction instead of one per step saves PostgreSQL round trips (the
    connection check, BEGIN, COMMIT) and the same order read again by each step."""
    call = _CallsUnitOfWork()
    token = _call.set(call)
    try:
        with call.closing:
            yield
    finally:
        _call.reset(token)


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
