"""`python -m bot orders`: import orders from an interchange JSON file and look them up.

Examples:
    python -m bot orders import shop/demo_orders.json
    python -m bot orders import feed.json --today 2026-11-21 --database-url postgresql+psycopg2://...
    python -m bot orders show 6201458839270153
    python -m bot orders list --limit 20
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bot.commands.db import EXIT_BAD_INPUT, EXIT_FAILURE, add_database_option, database_error_message, fail
from bot.db import Order
from bot.domain.vocabulary import label_zh
from bot.services.clock import to_shop_time
from bot.services.errors import ServiceError
from bot.services.order_import import import_orders
from bot.services.orders import find_order, latest_tracking_event, mask_address, mask_phone, tracking_events


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "orders",
        help="订单：从交换格式 JSON 导入、查看",
        description="订单数据：导入交换格式 JSON（重复导入会更新同号订单），按订单号查看（手机号脱敏）。",
    )
    actions = parser.add_subparsers(dest="orders_command", title="操作", metavar="ACTION", parser_class=type(parser))

    importing = actions.add_parser(
        "import",
        help="导入订单文件（先自动创建/升级数据库表）",
        description='导入交换格式的订单文件（{"orders": [...]} 或订单数组）。有错误的订单逐条报告并跳过，其余照常导入；'
        "同一订单号再次导入时更新原订单。",
    )
    importing.add_argument("file", type=Path, metavar="FILE", help="订单 JSON 文件")
    importing.add_argument(
        "--today", type=_iso_date, metavar="YYYY-MM-DD", help="*_days_ago 相对日期的基准日（默认：店铺时区的今天）"
    )
    add_database_option(importing)
    importing.set_defaults(func=_import)

    show = actions.add_parser(
        "show", help="查看一个订单（手机号、地址脱敏）", description="按订单号显示订单、商品和物流轨迹。"
    )
    show.add_argument("order_number", metavar="ORDER_NUMBER", help="订单号")
    show.add_argument("--json", action="store_true", help="以 JSON 输出")
    add_database_option(show)
    show.set_defaults(func=_show)

    listing = actions.add_parser("list", help="列出最近导入的订单", description="按订单号列出订单（手机号脱敏）。")
    listing.add_argument("--limit", type=_positive_int, default=50, metavar="N", help="最多显示几条（默认 50）")
    add_database_option(listing)
    listing.set_defaults(func=_list)

    parser.set_defaults(
        func=lambda args: fail(parser.format_usage().rstrip() + "\n请指定操作：import、show 或 list。", EXIT_BAD_INPUT)
    )


def _import(args: argparse.Namespace) -> int:
    try:
        data = _read_json(args.file)
    except _BadFile as problem:
        return fail(str(problem), EXIT_BAD_INPUT)
    today = args.today or args.runtime.clock.today()
    try:
        with args.runtime.unit_of_work(args.database_url) as unit:
            report = import_orders(unit.session, data, today)
    except ServiceError as error:
        return fail(f"{args.file}：{error.message}", EXIT_BAD_INPUT)
    except SQLAlchemyError as error:
        return fail(database_error_message(error, args.database_url))
    print(f"{args.file}（基准日 {today.isoformat()}）：{report.summary()}")
    for problem in report.errors:
        print(f"  ✗ {problem.message}", file=sys.stderr)
    return 0 if report.ok else EXIT_FAILURE


def _show(args: argparse.Namespace) -> int:
    try:
        with args.runtime.unit_of_work(args.database_url) as unit:
            order = find_order(unit.session, args.order_number)
            if order is None:
                return fail(f"找不到订单 {args.order_number}。")
            view = order_view(order, args.runtime.clock.zone)
    except SQLAlchemyError as error:
        return fail(database_error_message(error, args.database_url))
    if args.json:
        print(json.dumps(view, ensure_ascii=False, indent=2))
    else:
        print(_order_text(view))
    return 0


def _list(args: argparse.Namespace) -> int:
    try:
        with args.runtime.unit_of_work(args.database_url) as unit:
            orders = unit.session.execute(select(Order).order_by(Order.id.desc()).limit(args.limit)).scalars().all()
            rows = [
                f"{order.order_number}  {label_zh('order_status', order.status):<4}  "
                f"{mask_phone(order.buyer_phone)}  ¥{order.total}  {order.items[0].name if order.items else ''}"
                f"{' 等' + str(len(order.items)) + '件' if len(order.items) > 1 else ''}"
                for order in orders
            ]
    except SQLAlchemyError as error:
        return fail(database_error_message(error, args.database_url))
    print("\n".join(rows) if rows else "还没有订单。用 `python -m bot orders import FILE` 导入。")
    return 0


def order_view(order: Order, zone: ZoneInfo) -> dict:
    """The order for shop staff: personal data masked, times in the shop's zone."""

    def when(moment: Any) -> Any:
        if moment is None:
            return None
        local = to_shop_time(moment, zone)
        # a time given only as a date (e.g. `*_days_ago`) is stored as the start of the day
        return local.strftime("%Y-%m-%d" if (local.hour, local.minute, local.second) == (0, 0, 0) else "%Y-%m-%d %H:%M")

    latest = latest_tracking_event(order)
    return {
        "order_number": order.order_number,
        "status": order.status,
        "buyer_name": order.buyer_name,
        "buyer_phone": mask_phone(order.buyer_phone),
        "address": mask_address(order.address) or None,
        "customer_id": order.customer_id,
        "cross_border": bool(order.cross_border),
        "origin_country": order.origin_country,
        "payment_method": order.payment_method,
        "paid_at": when(order.paid_at),
        "shipped_at": when(order.shipped_at),
        "delivered_at": when(order.delivered_at),
        "promised_delivery_days": order.promised_delivery_days,
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "total": str(order.total),
        "items": [
            {
                "sku": item.sku,
                "name": item.name,
                "category": item.category,
                "unit_price": str(item.unit_price),
                "quantity": item.quantity,
            }
            for item in order.items
        ],
        "tracking_events": [{"at": when(event.at), "text": event.text} for event in tracking_events(order)],
        "latest_tracking": latest.text if latest else None,
        "tickets": [ticket.ticket_number for ticket in order.tickets],
        "note": order.note,
    }


def _order_text(view: dict) -> str:
    where = (
        "跨境" + (f"（{view['origin_country']}）" if view["origin_country"] else "") if view["cross_border"] else "国内"
    )
    lines = [
        f"订单 {view['order_number']}  {label_zh('order_status', view['status'])}  {where}",
        f"买家：{view['buyer_name']}  {view['buyer_phone']}" + (f"  {view['address']}" if view["address"] else ""),
        f"支付：{label_zh('payment_method', view['payment_method'])}  合计 ¥{view['total']}",
        f"付款 {view['paid_at'] or '—'}  发货 {view['shipped_at'] or '—'}  签收 {view['delivered_at'] or '—'}"
        + (f"  承诺 {view['promised_delivery_days']} 天送达" if view["promised_delivery_days"] is not None else ""),
        f"物流：{view['carrier'] or '—'} {view['tracking_number'] or ''}".rstrip(),
        "商品：",
    ]
    lines += [
        f"  - {item['name']}（{item['sku']}，{item['category']}）¥{item['unit_price']} × {item['quantity']}"
        for item in view["items"]
    ]
    if view["tracking_events"]:
        lines.append("物流轨迹：")
        lines += [f"  {event['at']}  {event['text']}" for event in view["tracking_events"]]
    if view["tickets"]:
        lines.append("工单：" + "、".join(view["tickets"]))
    if view["note"]:
        lines.append(f"备注：{view['note']}")
    return "\n".join(lines)


class _BadFile(Exception):
    pass


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _BadFile(f"找不到文件：{path}") from None
    except IsADirectoryError:
        raise _BadFile(f"{path} 是目录，不是订单文件。") from None
    except UnicodeDecodeError:
        raise _BadFile(f"{path} 不是 UTF-8 编码的文本文件。") from None
    except OSError as error:
        raise _BadFile(f"无法读取文件 {path}：{error.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise _BadFile(f"{path} 不是有效的 JSON：第 {error.lineno} 行第 {error.colno} 列，{error.msg}。") from None


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期「{text}」格式不对，应为 YYYY-MM-DD") from None


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"「{text}」不是正整数")
    return int(text)
