"""Errors of the services. Each message is Chinese and safe to show to shop staff."""

from __future__ import annotations


class ServiceError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class OrderNotFound(ServiceError, LookupError):
    def __init__(self, order_number: str) -> None:
        super().__init__(f"找不到订单 {order_number}。")
        self.order_number = order_number


class TicketNotFound(ServiceError, LookupError):
    def __init__(self, ticket_number: str) -> None:
        super().__init__(f"找不到工单 {ticket_number}。")
        self.ticket_number = ticket_number


class InvalidTransition(ServiceError):
    def __init__(self, ticket_number: str, from_status: str, to_status: str, allowed: "tuple[str, ...]" = ()) -> None:
        options = f"当前只能变为：{'、'.join(allowed)}。" if allowed else "该状态已是终态，不能再变更。"
        super().__init__(f"工单 {ticket_number} 不能从「{from_status}」变为「{to_status}」；{options}")
        self.from_status = from_status
        self.to_status = to_status


class InvalidChange(ServiceError, ValueError):
    """A ticket field change or a ticket request that the rules do not allow."""


class InvalidScore(ServiceError, ValueError):
    def __init__(self, score: object) -> None:
        super().__init__(f"满意度评分必须是 1 到 5 之间的整数，收到的是 {score!r}。")
        self.score = score


class TicketConflict(ServiceError):
    """Another in-progress ticket already covers the same conversation, order and category."""


class HandoffNotFound(ServiceError, LookupError):
    def __init__(self, handoff_id: int) -> None:
        super().__init__(f"找不到转人工请求 #{handoff_id}。")
        self.handoff_id = handoff_id


class HandoffUnavailable(ServiceError):
    """The hand-over is not in a state that allows the request (e.g. already claimed)."""
