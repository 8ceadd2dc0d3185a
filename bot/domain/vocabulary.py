"""Canonical names used everywhere: NLU entity values, policy rules, tickets and reports.

These strings are a public contract (tickets, reports and integrations store them), so they
are defined once here and never spelled out ad hoc elsewhere.
"""
from enum import Enum


class StrEnum(str, Enum):
    def __str__(self) -> str:
        return self.value


class ComplaintCategory(StrEnum):
    QUALITY = "quality"
    LOGISTICS = "logistics"
    SERVICE = "service"
    NO_REASON = "no_reason"  # a return wanted with no fault stated (七天无理由)


class SubIssue(StrEnum):
    # quality
    DEFECT = "defect"
    NOT_AS_DESCRIBED = "not_as_described"
    COUNTERFEIT = "counterfeit"
    SAFETY = "safety"
    HUMAN_DAMAGE = "human_damage"
    SPOILED = "spoiled"
    # returns without a fault
    NO_REASON = "no_reason"
    SIZE = "size"
    # logistics
    DELAY = "delay"
    LOST = "lost"
    NOT_RECEIVED = "not_received"
    DAMAGED_IN_TRANSIT = "damaged_in_transit"
    ADDRESS_CHANGE = "address_change"
    NOT_SHIPPED = "not_shipped"
    # service
    RUDE = "rude"
    NO_REPLY = "no_reply"
    SHIRKING = "shirking"
    SLOW = "slow"
    WHERE_TO_COMPLAIN = "where_to_complain"


SUB_ISSUE_CATEGORY = {
    SubIssue.DEFECT: ComplaintCategory.QUALITY,
    SubIssue.NOT_AS_DESCRIBED: ComplaintCategory.QUALITY,
    SubIssue.COUNTERFEIT: ComplaintCategory.QUALITY,
    SubIssue.SAFETY: ComplaintCategory.QUALITY,
    SubIssue.HUMAN_DAMAGE: ComplaintCategory.QUALITY,
    SubIssue.SPOILED: ComplaintCategory.QUALITY,
    SubIssue.NO_REASON: ComplaintCategory.NO_REASON,
    SubIssue.SIZE: ComplaintCategory.NO_REASON,
    SubIssue.DELAY: ComplaintCategory.LOGISTICS,
    SubIssue.LOST: ComplaintCategory.LOGISTICS,
    SubIssue.NOT_RECEIVED: ComplaintCategory.LOGISTICS,
    SubIssue.DAMAGED_IN_TRANSIT: ComplaintCategory.LOGISTICS,
    SubIssue.ADDRESS_CHANGE: ComplaintCategory.LOGISTICS,
    SubIssue.NOT_SHIPPED: ComplaintCategory.LOGISTICS,
    SubIssue.RUDE: ComplaintCategory.SERVICE,
    SubIssue.NO_REPLY: ComplaintCategory.SERVICE,
    SubIssue.SHIRKING: ComplaintCategory.SERVICE,
    SubIssue.SLOW: ComplaintCategory.SERVICE,
    SubIssue.WHERE_TO_COMPLAIN: ComplaintCategory.SERVICE,
}


class Remedy(StrEnum):
    RETURN_REFUND = "return_refund"
    EXCHANGE = "exchange"
    REPAIR = "repair"
    PAID_REPAIR = "paid_repair"
    RESHIP = "reship"
    REFUND_ONLY = "refund_only"
    INVESTIGATE = "investigate"
    INFO = "info"
    REJECT = "reject"


REMEDY_LABELS_ZH = {
    Remedy.RETURN_REFUND: "退货退款",
    Remedy.EXCHANGE: "换货",
    Remedy.REPAIR: "免费维修",
    Remedy.PAID_REPAIR: "付费维修",
    Remedy.RESHIP: "补发",
    Remedy.REFUND_ONLY: "仅退款",
    Remedy.INVESTIGATE: "核查",
    Remedy.INFO: "告知",
    Remedy.REJECT: "不予受理",
}


class ShippingPayer(StrEnum):
    SELLER = "seller"
    BUYER = "buyer"
    NONE = "none"


class Priority(StrEnum):
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class ProductCategory(StrEnum):
    DIGITAL = "digital"
    APPLIANCE = "appliance"
    APPAREL = "apparel"
    BEAUTY = "beauty"
    FRESH = "fresh"
    CUSTOM = "custom"
    OTHER = "other"


class OrderStatus(StrEnum):
    AWAITING_SHIPMENT = "awaiting_shipment"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    LOST = "lost"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


class PaymentMethod(StrEnum):
    ONLINE = "online"
    COD = "cod"  # 货到付款


class TicketStatus(StrEnum):
    AWAITING_EVIDENCE = "awaiting_evidence"
    OPEN = "open"
    PENDING_BUYER = "pending_buyer"
    WITH_AGENT = "with_agent"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Channel(StrEnum):
    REST = "rest"
    WEB = "webchat"
    WECHAT = "wechat"
    TELEGRAM = "telegram"
    CONSOLE = "console"
