"""Canonical names used everywhere: NLU entity values, policy rules, tickets and reports.

These strings are a public contract (tickets, reports and integrations store them), so they
are defined once here and never spelled out ad hoc elsewhere.
"""

from enum import Enum
from typing import Dict


class StrEnum(str, Enum):
    def __str__(self) -> str:
        return self.value


class ComplaintCategory(StrEnum):
    QUALITY = "quality"
    LOGISTICS = "logistics"
    SERVICE = "service"
    NO_REASON = "no_reason"  # a return wanted with no fault stated (七天无理由)
    MESSAGE = "message"  # left for a person while none could answer (office hours, nobody online)


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


REMEDY_LABELS_ZH: Dict[str, str] = {
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


class HandoffStatus(StrEnum):
    WAITING = "waiting"
    CLAIMED = "claimed"
    RETURNED = "returned"
    RESOLVED = "resolved"


# statuses in which a ticket or a hand-over still counts as "in progress" (plain strings: they
# go into SQL). The partial unique indexes of bot/db/tables.py are built from these, so a change
# here needs a migration.
ACTIVE_TICKET_STATUSES = tuple(
    status.value
    for status in (
        TicketStatus.AWAITING_EVIDENCE,
        TicketStatus.OPEN,
        TicketStatus.PENDING_BUYER,
        TicketStatus.WITH_AGENT,
    )
)
ACTIVE_HANDOFF_STATUSES = (HandoffStatus.WAITING.value, HandoffStatus.CLAIMED.value)


class Channel(StrEnum):
    REST = "rest"
    WEB = "webchat"
    WECHAT = "wechat"
    TELEGRAM = "telegram"
    CONSOLE = "console"


# buyer channels the shop cannot write to outside the buyer's own request (the answer to a REST
# call is all its client gets): a buyer there is told so, and how to ask for the answer instead
CHANNELS_WITHOUT_PUSH = frozenset({Channel.REST.value})


# ---- Chinese labels for people (the agent console, reports): the one catalogue ----------------

LABELS_ZH: Dict[str, Dict[str, str]] = {
    "category": {
        ComplaintCategory.QUALITY: "质量问题",
        ComplaintCategory.LOGISTICS: "物流问题",
        ComplaintCategory.SERVICE: "服务投诉",
        ComplaintCategory.NO_REASON: "无理由退货",
        ComplaintCategory.MESSAGE: "买家留言",
    },
    "sub_issue": {
        SubIssue.DEFECT: "商品故障",
        SubIssue.NOT_AS_DESCRIBED: "与描述不符",
        SubIssue.COUNTERFEIT: "疑似假货",
        SubIssue.SAFETY: "安全隐患",
        SubIssue.HUMAN_DAMAGE: "人为损坏",
        SubIssue.SPOILED: "变质",
        SubIssue.NO_REASON: "无理由",
        SubIssue.SIZE: "尺码不合适",
        SubIssue.DELAY: "物流延误",
        SubIssue.LOST: "包裹丢失",
        SubIssue.NOT_RECEIVED: "显示签收未收到",
        SubIssue.DAMAGED_IN_TRANSIT: "运输破损",
        SubIssue.ADDRESS_CHANGE: "修改地址",
        SubIssue.NOT_SHIPPED: "未发货",
        SubIssue.RUDE: "态度差",
        SubIssue.NO_REPLY: "无人回复",
        SubIssue.SHIRKING: "推诿",
        SubIssue.SLOW: "处理慢",
        SubIssue.WHERE_TO_COMPLAIN: "投诉渠道",
    },
    "remedy": REMEDY_LABELS_ZH,
    "priority": {Priority.URGENT: "紧急", Priority.HIGH: "高", Priority.NORMAL: "普通"},
    "shipping_payer": {
        ShippingPayer.SELLER: "商家承担",
        ShippingPayer.BUYER: "买家承担",
        ShippingPayer.NONE: "无需寄回",
    },
    "order_status": {
        OrderStatus.AWAITING_SHIPMENT: "待发货",
        OrderStatus.IN_TRANSIT: "运输中",
        OrderStatus.DELIVERED: "已签收",
        OrderStatus.LOST: "已丢件",
        OrderStatus.REFUNDED: "已退款",
        OrderStatus.CANCELLED: "已取消",
    },
    "payment_method": {PaymentMethod.ONLINE: "在线支付", PaymentMethod.COD: "货到付款"},
    "ticket_status": {
        TicketStatus.AWAITING_EVIDENCE: "待补充凭证",
        TicketStatus.OPEN: "处理中",
        TicketStatus.PENDING_BUYER: "等待买家回复",
        TicketStatus.WITH_AGENT: "人工处理中",
        TicketStatus.RESOLVED: "已解决",
        TicketStatus.CLOSED: "已关闭",
    },
    "channel": {
        "webchat": "网页聊天",
        "socketio": "网页聊天（socket.io）",
        "rest": "REST 接口",
        "wechat": "微信",
        "telegram": "Telegram",
        "console": "客服控制台",
    },
    "field": {
        "chosen_remedy": "已选方案",
        "offered_remedies": "可选方案",
        "priority": "优先级",
        "assignee": "负责人",
        "satisfaction": "满意度",
        "escalate": "需人工",
        "shipping_payer": "运费承担",
        "rule_id": "政策规则",
        "sub_issue": "问题细类",
        "decision_explanation": "决定说明",
        "description": "问题描述",
        "first_response_due": "首次响应时限",
        "resolution_due": "处理时限",
        "refund_due": "退款时限",
        "warranty_end": "保修截止",
        "sla": "SLA",
        "evidence": "凭证",
        "evidence_added": "新增凭证",
        "status": "状态",
    },
    "handoff_status": {
        HandoffStatus.WAITING: "等待接手",
        HandoffStatus.CLAIMED: "处理中",
        HandoffStatus.RETURNED: "已交还机器人",
        HandoffStatus.RESOLVED: "已解决",
    },
    "handoff_reason": {
        "buyer_request": "买家要求转人工",
        "policy_escalation": "政策规定需人工处理",
        "buyer_rejected_decision": "买家不接受处理结果",
        "not_understood": "机器人多次没听懂",
        "buyer_upset": "买家情绪激动",
        "buyer_abusive": "买家言语过激",
        "other": "其他",
    },
    # what a policy decision still needs to know (Decision.missing_facts) and when its refund
    # clock starts (Decision.refund_counted_from)
    "missing_fact": {"evidence": "照片或视频凭证", "item_unused": "商品是否未使用", "paid_at": "付款时间"},
    "refund_counted_from": {"today": "从今天起算", "item_returned": "收到退回商品后起算", "approval": "审核通过后起算"},
    "agent_role": {"agent": "客服", "supervisor": "主管"},
}

# carriers the console offers when an agent enters a new tracking number (any other name may be typed)
CARRIERS_ZH = (
    "顺丰速运",
    "中通快递",
    "圆通速递",
    "韵达快递",
    "申通快递",
    "极兔速递",
    "京东物流",
    "EMS",
    "菜鸟国际",
    "DHL",
)


# The buyer's words for some of these codes are responses of domain.yml (every buyer text lives
# there), spoken to the buyer rather than about them (「由您承担」, not 「买家承担」): one response
# `utter_label_<kind>_<code>` per code of these kinds, plus `utter_label_remedy_none` for a ticket
# with no remedy yet. tests/unit/test_vocabulary.py holds domain.yml to this list.
BUYER_LABEL_CODES = {"remedy": Remedy, "status": TicketStatus, "payer": ShippingPayer}
# the catalogue kind whose codes each buyer-label kind names
BUYER_LABEL_CATALOGUE_KINDS = {"remedy": "remedy", "status": "ticket_status", "payer": "shipping_payer"}


def buyer_label_response(kind: str, value) -> str:
    """The domain.yml response that holds the buyer's label of a code."""
    return f"utter_label_{kind}_{value}"


def label_zh(kind: str, value) -> str:
    """The Chinese label of a code (`label_zh("order_status", "delivered")` → 已签收); an unknown
    code is shown as it is, an empty one as —."""
    if value is None or value == "":
        return "—"
    return LABELS_ZH.get(kind, {}).get(str(value), str(value))
