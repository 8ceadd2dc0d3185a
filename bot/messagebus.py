"""The message bus: the domain events a unit of work recorded (bot/domain/events.py) go to the
handlers of their type, once the transaction has committed (bot/bootstrap.py calls `handle`).

The handlers are chosen per process in the composition root (bot/bootstrap.py): the buyer
notifications (bot/console/promises.py) tell the buyer through the relay inside the Rasa
server, and ask the running server over HTTP from the command line. A handler that fails is
logged and the others still run: the change it reacts to is already saved.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Type

from bot.domain.events import DomainEvent

logger = logging.getLogger(__name__)

Handler = Callable[[DomainEvent], Any]
Handlers = Mapping[Type[DomainEvent], Sequence[Handler]]


class MessageBus:
    def __init__(self, handlers: Optional[Handlers] = None) -> None:
        self.handlers: Dict[Type[DomainEvent], List[Handler]] = {
            kind: list(chain) for kind, chain in (handlers or {}).items()
        }

    def handle(self, events: Iterable[DomainEvent]) -> List[Any]:
        """Each event to each handler of its type, in order; returns what the handlers answered
        (None left out), e.g. whether the buyer was told."""
        answers = []
        for event in events:
            for handler in self.handlers.get(type(event), ()):
                try:
                    answer = handler(event)
                except Exception:
                    logger.exception(
                        "handler %s failed on %s of ticket %s",
                        _name(handler),
                        type(event).__name__,
                        event.ticket_number,
                    )
                    continue
                if answer is not None:
                    answers.append(answer)
        return answers


def _name(handler: Handler) -> str:
    return getattr(handler, "__qualname__", None) or repr(handler)
