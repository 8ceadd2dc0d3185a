"""`python -m bot policy`: try the after-sales policy on one case and see which rule applies.

Examples:
    python -m bot policy --category digital --delivered-days-ago 10 --cross-border --issue defect --evidence
    python -m bot policy --order-file ../shared/fixtures/orders.json --order-id 9537610396283960 --issue defect --json
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Type
from zoneinfo import ZoneInfo

from bot.domain.vocabulary import (
    ComplaintCategory,
    OrderStatus,
    PaymentMethod,
    ProductCategory,
    SubIssue,
    label_zh,
)
from bot.policy import Decision, OrderFacts, OrderFactsError, PolicyConfigError, Situation, decide
from bot.policy.interchange import InterchangeError, interchange_orders, order_facts_from_interchange

EXIT_BAD_INPUT = 2

MANUAL_ORDER_OPTIONS = (
    "category",
    "cross_border",
    "status",
    "paid_days_ago",
    "paid_hours_ago",
    "shipped_days_ago",
    "delivered_days_ago",
    "promised_days",
    "price",
    "total",
    "payment",
    "name",
)


class BadInput(Exception):
    """A Chinese message for the user; the command exits with code 2."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "policy",
        help="按售后政策试算一个案例，显示适用的规则和处理方案",
        description="按售后政策试算一个案例：给出订单（手动参数或订单文件）和买家的问题，显示适用的规则、处理方案和时限。",
    )
    from_file = parser.add_argument_group("从订单文件读取（交换格式 JSON）")
    from_file.add_argument("--order-file", type=Path, help="订单文件，如 fixtures/orders.json")
    from_file.add_argument("--order-id", help="订单号")
    from_file.add_argument("--item", type=_positive_int, default=1, help="订单里的第几件商品（从 1 开始，默认 1）")

    manual = parser.add_argument_group("手动给出订单")
    manual.add_argument("--category", type=_enum_value(ProductCategory, "商品类目"), metavar=_choices(ProductCategory))
    where = manual.add_mutually_exclusive_group()
    where.add_argument("--cross-border", dest="cross_border", action="store_const", const=True, help="跨境订单")
    where.add_argument("--domestic", dest="cross_border", action="store_const", const=False, help="国内订单（默认）")
    manual.add_argument(
        "--status",
        type=_enum_value(OrderStatus, "订单状态"),
        metavar=_choices(OrderStatus),
        help="默认按给出的日期推断：有签收日为 delivered，有发货日为 in_transit，否则 awaiting_shipment",
    )
    manual.add_argument("--paid-days-ago", type=_non_negative_int, metavar="天")
    manual.add_argument(
        "--paid-hours-ago", type=_non_negative_number, metavar="小时", help="付款距今小时数（用于 48 小时发货规则）"
    )
    manual.add_argument("--shipped-days-ago", type=_non_negative_int, metavar="天")
    manual.add_argument("--delivered-days-ago", type=_non_negative_int, metavar="天")
    manual.add_argument(
        "--promised-days", type=_non_negative_int, metavar="天", help="承诺发货后几天送达（默认按政策文件）"
    )
    manual.add_argument("--price", type=_non_negative_number, metavar="元", help="商品单价")
    manual.add_argument("--total", type=_non_negative_number, metavar="元", help="订单总额（默认等于单价）")
    manual.add_argument("--payment", type=_enum_value(PaymentMethod, "支付方式"), metavar=_choices(PaymentMethod))
    manual.add_argument("--name", help="商品名称")

    buyer = parser.add_argument_group("买家的问题")
    buyer.add_argument("--issue", type=_enum_value(SubIssue, "问题类型"), metavar=_choices(SubIssue))
    buyer.add_argument(
        "--complaint",
        type=_enum_value(ComplaintCategory, "投诉类别"),
        metavar=_choices(ComplaintCategory),
        help="只知道大类时使用；给了 --issue 时可省略",
    )
    buyer.add_argument("--evidence", action="store_true", help="买家已提供照片或视频")
    used = buyer.add_mutually_exclusive_group()
    used.add_argument("--unused", dest="item_unused", action="store_const", const=True, help="商品未使用、包装完好")
    used.add_argument("--used", dest="item_unused", action="store_const", const=False, help="商品已使用或已拆封")
    buyer.add_argument(
        "--repeat-contacts", type=_non_negative_int, default=0, metavar="次", help="此前就同一订单联系过几次"
    )
    buyer.add_argument("--earlier-ticket-overdue", action="store_true", help="买家之前的工单已超时")
    buyer.add_argument("--repeated-fault", action="store_true", help="同一故障维修后再次出现")
    buyer.add_argument("--wants-human", action="store_true", help="买家要求人工客服")

    parser.add_argument("--today", type=_iso_date, metavar="YYYY-MM-DD", help="按哪一天计算（默认今天）")
    parser.add_argument("--policy", type=Path, metavar="FILE", help="使用另一份政策文件试算（默认 shop/policy.yml）")
    parser.add_argument("--json", action="store_true", help="输出 JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        policy = args.runtime.policy(args.policy)
        zone = args.runtime.clock.zone
        today = args.today or datetime.now(zone).date()
        now = _now_on(today, zone)
        order = _order_from_file(args, today) if args.order_file else _order_from_options(args, today, now)
        decision = decide(order, _situation(args), today, policy, now=now)
    except (BadInput, PolicyConfigError, InterchangeError, OrderFactsError) as problem:
        print(f"错误：{problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json:
        payload = {"today": today.isoformat(), "order_id": order.order_id, "decision": decision.to_dict()}
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        print(_summary(order, decision, today))
    return 0


def _order_from_file(args: argparse.Namespace, today: date) -> OrderFacts:
    given = [f"--{name.replace('_', '-')}" for name in MANUAL_ORDER_OPTIONS if getattr(args, name) is not None]
    if given:
        raise BadInput(f"使用 --order-file 时不能再手动给出订单参数：{'、'.join(given)}")
    if not args.order_id:
        raise BadInput("使用 --order-file 时还需要 --order-id")
    try:
        document = json.loads(args.order_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"找不到订单文件 {args.order_file}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"无法读取订单文件 {args.order_file}：{error}") from None
    except json.JSONDecodeError as error:
        raise BadInput(f"订单文件 {args.order_file} 不是有效的 JSON（第 {error.lineno} 行）") from None
    orders = interchange_orders(document)
    if args.order_id not in orders:
        raise BadInput(f"订单文件 {args.order_file} 中没有订单 {args.order_id}")
    zone = args.runtime.clock.zone
    return order_facts_from_interchange(orders[args.order_id], today, item_index=args.item - 1, zone=zone)


def _order_from_options(args: argparse.Namespace, today: date, now: datetime) -> OrderFacts:
    if args.order_id:
        raise BadInput("--order-id 需要和 --order-file 一起使用")
    if args.category is None:
        raise BadInput("请用 --category 给出商品类目，或用 --order-file/--order-id 读取订单")
    if args.paid_days_ago is not None and args.paid_hours_ago is not None:
        raise BadInput("--paid-days-ago 和 --paid-hours-ago 只能给一个")

    def days_ago(value: Optional[int]) -> Optional[date]:
        return None if value is None else today - timedelta(days=value)

    shipped_at = days_ago(args.shipped_days_ago)
    delivered_at = days_ago(args.delivered_days_ago)
    paid_at: Optional[date] = days_ago(args.paid_days_ago)
    if args.paid_hours_ago is not None:
        paid_at = now - timedelta(hours=args.paid_hours_ago)
    status = args.status or (
        OrderStatus.DELIVERED
        if delivered_at
        else OrderStatus.IN_TRANSIT
        if shipped_at
        else OrderStatus.AWAITING_SHIPMENT
    )
    price = args.price if args.price is not None else 0.0
    return OrderFacts(
        order_id="CLI",
        cross_border=bool(args.cross_border),
        payment_method=args.payment or PaymentMethod.ONLINE,
        status=status,
        paid_at=paid_at,
        shipped_at=shipped_at,
        delivered_at=delivered_at,
        promised_delivery_days=args.promised_days,
        order_total=args.total if args.total is not None else price,
        item_category=args.category,
        item_name=args.name or "",
        item_price=price,
    )


def _situation(args: argparse.Namespace) -> Situation:
    if args.issue is None and args.complaint is None:
        raise BadInput("请用 --issue 给出问题类型（或用 --complaint 给出投诉类别）")
    details: Dict[str, Any] = dict(
        evidence_given=args.evidence,
        item_unused=args.item_unused,
        repeat_contacts=args.repeat_contacts,
        earlier_ticket_overdue=args.earlier_ticket_overdue,
        repeated_fault_after_repair=args.repeated_fault,
        buyer_asks_for_human=args.wants_human,
    )
    if args.complaint is None:
        return Situation.from_sub_issue(args.issue, **details)
    return Situation(category=args.complaint, sub_issue=args.issue, **details)


def _summary(order: OrderFacts, decision: Decision, today: date) -> str:
    lines: List[str] = [
        f"订单：{order.order_id}（{order.item_name or order.item_category.value}）  计算日期：{today.isoformat()}",
        f"适用规则：{decision.rule_id}"
        + (f"（另适用 {'、'.join(decision.secondary_rules)}）" if decision.secondary_rules else ""),
        f"处理方案：{' / '.join(label_zh('remedy', r) for r in decision.remedies)}",
        f"退回运费：{label_zh('shipping_payer', decision.shipping_payer)}",
        f"需要凭证：{'是，尚未提供' if decision.evidence_required else '否'}",
    ]
    if decision.missing_facts:
        lines.append(f"还需确认：{'、'.join(label_zh('missing_fact', f) for f in decision.missing_facts)}")
    lines.append(
        f"优先级：{label_zh('priority', decision.priority)}    转人工：{'是' if decision.escalate else '否'}"
        f"    登记工单：{'是' if decision.opens_ticket else '否'}"
    )
    if decision.days_since_delivery is not None:
        lines.append(f"签收后天数：{decision.days_since_delivery}")
    if decision.warranty_end is not None:
        lines.append(f"质保截止：{decision.warranty_end.isoformat()}")
    if decision.refund_working_days is not None:
        refund = f"退款：{decision.refund_working_days} 个工作日，{label_zh('refund_counted_from', decision.refund_counted_from)}"
        if decision.refund_due is not None:
            refund += f"，最晚 {decision.refund_due.isoformat()}"
        lines.append(refund)
    if decision.return_processing_hours is not None:
        lines.append(f"退换货处理：退回商品到达后 {decision.return_processing_hours} 小时内")
    if decision.action_due is not None:
        lines.append(f"本规则跟进截止：{_minute(decision.action_due)}")
    lines.append(
        f"首次响应截止：{_minute(decision.first_response_due)}    解决截止：{_minute(decision.resolution_due)}"
    )
    lines.append(f"给买家的说明：{decision.explanation}")
    return "\n".join(lines)


def _minute(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _now_on(today: date, zone: ZoneInfo) -> datetime:
    current = datetime.now(zone).replace(microsecond=0)
    return current if current.date() == today else datetime.combine(today, datetime.min.time(), tzinfo=zone)


# --- argument types with Chinese messages ---------------------------------------------------


def _choices(kind: Type[Enum]) -> str:
    return "{" + ",".join(member.value for member in kind) + "}"


def _enum_value(kind: Type[Enum], what: str) -> Callable[[str], Enum]:
    def parse(text: str) -> Enum:
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} 不是有效的{what}（可用：{'、'.join(m.value for m in kind)}）"
            ) from None

    return parse


def _non_negative_int(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"必须是非负整数，实际是 {text!r}")
    return int(text)


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"必须是正整数，实际是 {text!r}")
    return value


def _non_negative_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"必须是非负数，实际是 {text!r}")
    return value


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"必须是 YYYY-MM-DD 格式的日期，实际是 {text!r}") from None
