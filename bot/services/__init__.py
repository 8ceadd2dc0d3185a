"""Plain-Python services over the orders/tickets database (no Rasa imports).

- `order_import`: the interchange format (JSON, read by `bot/domain/interchange.py`) → orders, items, tracking events
- `orders`: look-up, ownership check, masking, tracking summary, policy facts
- `contacts`: repeat contacts and overdue tickets of a buyer (policy S2)
- `tickets`: opening, changes, evidence, satisfaction (with audit events); the life cycle itself
  is the ticket model, bot/domain/tickets.py, saved by `ticket_store`
- `handoffs`: the human hand-over queue
- `errors`: the exceptions, with Chinese messages
"""

from bot.services.errors import (
    HandoffNotFound,
    HandoffUnavailable,
    InvalidChange,
    InvalidScore,
    InvalidTransition,
    OrderNotFound,
    ServiceError,
    TicketConflict,
    TicketNotFound,
)

__all__ = [
    "HandoffNotFound",
    "HandoffUnavailable",
    "InvalidChange",
    "InvalidScore",
    "InvalidTransition",
    "OrderNotFound",
    "ServiceError",
    "TicketConflict",
    "TicketNotFound",
]
