"""`python -m bot tickets`: list and inspect after-sales tickets, and move them along their life cycle.

Examples:
    python -m bot tickets list --status open --limit 20
    python -m bot tickets show AS202611210001 --json
    python -m bot tickets status AS202611210001 resolved --agent alice --note "已补发"
    python -m bot tickets tracking AS202611210001 顺丰速运 SF1234567890 --agent alice

A status change or a new tracking number is told to the buyer through their own channel by
the running assistant, once the change is saved: the handlers of the ticket events (bot/bootstrap.py)
ask it over HTTP (bot/relay_client.py); the command says whether it arrived.
"""

from __future__ import annotations

import argparse
import json
from typing import Any, Optional
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from bot.commands.db import EXIT_BAD_INPUT, add_database_option, database_error_message, fail
from bot.console import promises
from bot.db import Ticket
from bot.domain.vocabulary import TicketStatus, label_zh
from bot.services.clock import to_shop_time
from bot.services.errors import ServiceError
from bot.services.tickets import TICKET_STATUS_LABELS, audit_record, change_status, list_tickets, require_ticket

STATUS_CHOICES = [status.value for status in TicketStatus]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "tickets",
        help="售后工单：列表、详情、变更状态",
        description="售后工单：按状态列出、查看详情（含处理记录、凭证、满意度）、按生命周期变更状态。",
    )
    actions = parser.add_subparsers(dest="tickets_command", title="操作", metavar="ACTION", parser_class=type(parser))

    listing = actions.add_parser("list", help="列出工单（最新的在前）", description="列出工单，最新的在前。")
    listing.add_argument(
        "--status", choices=STATUS_CHOICES, metavar="STATUS", help="只看某个状态：" + "、".join(STATUS_CHOICES)
    )
    listing.add_argument("--limit", type=_positive_int, default=50, metavar="N", help="最多显示几条（默认 50）")
    listing.add_argument("--json", action="store_true", help="以 JSON 输出")
    add_database_option(listing)
    listing.set_defaults(func=_list)

    show = actions.add_parser(
        "show", help="查看一个工单的详情", description="显示工单、处理记录（审计）、凭证和满意度评分。"
    )
    show.add_argument("ticket_number", metavar="TICKET_NUMBER", help="工单号，如 AS202611210001")
    show.add_argument("--json", action="store_true", help="以 JSON 输出")
    add_database_option(show)
    show.set_defaults(func=_show)

    status = actions.add_parser(
        "status",
        help="变更工单状态（按生命周期校验）",
        description="变更工单状态；不允许的变更（如 closed → open）会被拒绝。每次变更都记入处理记录。",
    )
    status.add_argument("ticket_number", metavar="TICKET_NUMBER", help="工单号")
    status.add_argument(
        "new_status", choices=STATUS_CHOICES, metavar="STATUS", help="新状态：" + "、".join(STATUS_CHOICES)
    )
    status.add_argument("--agent", metavar="NAME", help="操作的客服（记为 agent:NAME；默认记为 cli）")
    status.add_argument("--note", help="备注")
    add_database_option(status)
    status.set_defaults(func=_change_status)

    tracking = actions.add_parser(
        "tracking",
        help="设置工单的新物流单号（补发、换货寄出）并通知买家",
        description="把订单的承运商和物流单号改为新包裹的，记入工单处理记录，并由运行中的助手通知买家。",
    )
    tracking.add_argument("ticket_number", metavar="TICKET_NUMBER", help="工单号")
    tracking.add_argument("carrier", metavar="CARRIER", help="承运商，如 顺丰速运")
    tracking.add_argument("tracking_number", metavar="TRACKING_NUMBER", help="物流单号")
    tracking.add_argument("--agent", metavar="NAME", help="操作的客服（记为 agent:NAME；默认记为 cli）")
    add_database_option(tracking)
    tracking.set_defaults(func=_set_tracking)

    parser.set_defaults(
        func=lambda args: fail(
            parser.format_usage().rstrip() + "\n请指定操作：list、show、status 或 tracking。", EXIT_BAD_INPUT
        )
    )


def _list(args: argparse.Namespace) -> int:
    zone = args.runtime.clock.zone
    try:
        with args.runtime.unit_of_work(args.database_url) as unit:
            views = [
                ticket_summary(ticket, zone)
                for ticket in list_tickets(unit.session, status=args.status, limit=args.limit)
            ]
    except SQLAlchemyError as error:
        return fail(database_error_message(error, args.database_url))
    if args.json:
        print(json.dumps(views, ensure_ascii=False, indent=2))
    elif not views:
        print("没有符合条件的工单。")
    else:
        for view in views:
            print(
                f"{view['ticket_number']}  {TICKET_STATUS_LABELS[TicketStatus(view['status'])]:<6}  "
                f"{label_zh('priority', view['priority'])}  订单 {view['order_number']}  "
                f"{label_zh('category', view['category'])}  {view['rule_id'] or '—'}  {view['created_at']}"
            )
    return 0


def _show(args: argparse.Namespace) -> int:
    try:
        with args.runtime.unit_of_work(args.database_url) as unit:
            view = ticket_detail(require_ticket(unit.session, args.ticket_number), args.runtime.clock.zone)
    except ServiceError as error:
        return fail(error.message)
    except SQLAlchemyError as error:
        return fail(database_error_message(error, args.database_url))
    print(json.dumps(view, ensure_ascii=False, indent=2) if args.json else _detail_text(view))
    return 0


def _change_status(args: argparse.Namespace) -> int:
    """The buyer is told by the handler of the change's event, once it is saved."""
    actor = f"agent:{args.agent}" if args.agent else "cli"
    try:
        with args.runtime.unit_of_work(args.database_url) as unit:
            ticket = require_ticket(unit.session, args.ticket_number)
            before = ticket.status
            change_status(unit.session, ticket, args.new_status, actor, args.note)
            number, after = ticket.ticket_number, ticket.status
    except ServiceError as error:
        return fail(error.message)
    except SQLAlchemyError as error:
        return fail(database_error_message(error, args.database_url))
    if before == after:
        print(f"工单 {number} 已是「{TICKET_STATUS_LABELS[TicketStatus(after)]}」，未变更。")
        return 0
    print(f"工单 {number}：{TICKET_STATUS_LABELS[TicketStatus(before)]} → {TICKET_STATUS_LABELS[TicketStatus(after)]}")
    _print_notices(unit.handled)
    return 0


def _set_tracking(args: argparse.Namespace) -> int:
    actor = f"agent:{args.agent}" if args.agent else "cli"
    try:
        with args.runtime.unit_of_work(args.database_url) as unit:
            number = promises.set_tracking(
                unit.session, args.ticket_number, args.carrier, args.tracking_number, actor
            ).ticket_number
    except ServiceError as error:
        return fail(error.message)
    except SQLAlchemyError as error:
        return fail(database_error_message(error, args.database_url))
    print(f"工单 {number}：新物流单号 {args.carrier.strip()} {args.tracking_number.strip()}")
    _print_notices(unit.handled)
    return 0


def _print_notices(handled: list) -> None:
    """What the handlers of the change's events said about telling the buyer."""
    for line in handled:
        print(line)


def _when(moment: Any, zone: ZoneInfo) -> Optional[str]:
    if moment is None:
        return None
    if hasattr(moment, "hour"):
        return to_shop_time(moment, zone).strftime("%Y-%m-%d %H:%M")
    return moment.isoformat()


def ticket_summary(ticket: Ticket, zone: ZoneInfo) -> dict:
    return {
        "ticket_number": ticket.ticket_number,
        "status": ticket.status,
        "priority": ticket.priority,
        "order_number": ticket.order.order_number if ticket.order is not None else None,
        "category": ticket.category,
        "sub_issue": ticket.sub_issue,
        "rule_id": ticket.rule_id,
        "escalate": bool(ticket.escalate),
        "created_at": _when(ticket.created_at, zone),
        "resolution_due": _when(ticket.resolution_due, zone),
    }


def ticket_detail(ticket: Ticket, zone: ZoneInfo) -> dict:
    """Everything an agent needs about one ticket (no buyer phone: the order view masks it)."""
    view = ticket_summary(ticket, zone)
    view.update(
        {
            "item": {"sku": ticket.item_sku, "name": ticket.item.name if ticket.item else None},
            "offered_remedies": list(ticket.offered_remedies or []),
            "chosen_remedy": ticket.chosen_remedy,
            "shipping_payer": ticket.shipping_payer,
            "evidence_required": bool(ticket.evidence_required),
            "first_response_due": _when(ticket.first_response_due, zone),
            "refund_due": _when(ticket.refund_due, zone),
            "warranty_end": _when(ticket.warranty_end, zone),
            "conversation_id": ticket.conversation_id,
            "channel": ticket.channel,
            "description": ticket.description,
            "decision_explanation": ticket.decision_explanation,
            "updated_at": _when(ticket.updated_at, zone),
            "resolved_at": _when(ticket.resolved_at, zone),
            "closed_at": _when(ticket.closed_at, zone),
            "events": [audit_record(event, lambda moment: _when(moment, zone)) for event in ticket.events],
            "evidence": [
                {
                    "reference": piece.reference,
                    "media_type": piece.media_type,
                    "size_bytes": piece.size_bytes,
                    "sha256": piece.sha256,
                    "original_filename": piece.original_filename,
                    "received_at": _when(piece.received_at, zone),
                }
                for piece in ticket.evidence
            ],
            "satisfaction": {
                "score": ticket.satisfaction.score,
                "comment": ticket.satisfaction.comment,
                "at": _when(ticket.satisfaction.at, zone),
            }
            if ticket.satisfaction
            else None,
        }
    )
    return view


def _remedy_text(remedy: Optional[str]) -> str:
    if remedy is None:
        return "—"
    try:
        return f"{label_zh('remedy', remedy)}（{remedy}）"
    except ValueError:
        return remedy


def _detail_text(view: dict) -> str:
    status = TICKET_STATUS_LABELS[TicketStatus(view["status"])]
    lines = [
        f"工单 {view['ticket_number']}  {status}  优先级 {label_zh('priority', view['priority'])}"
        + ("  需人工" if view["escalate"] else ""),
        f"订单 {view['order_number']}"
        + (f"  商品 {view['item']['name'] or view['item']['sku']}" if view["item"]["sku"] else ""),
        f"问题：{label_zh('category', view['category'])}"
        + (f" / {view['sub_issue']}" if view["sub_issue"] else "")
        + f"  规则 {view['rule_id'] or '—'}",
        "可选方案："
        + ("、".join(_remedy_text(remedy) for remedy in view["offered_remedies"]) or "—")
        + f"  已选：{_remedy_text(view['chosen_remedy'])}",
        f"首次响应截止 {view['first_response_due'] or '—'}  解决截止 {view['resolution_due'] or '—'}"
        + (f"  退款截止 {view['refund_due']}" if view["refund_due"] else "")
        + (f"  质保至 {view['warranty_end']}" if view["warranty_end"] else ""),
        f"会话 {view['conversation_id'] or '—'}（{view['channel'] or '—'}）  创建 {view['created_at']}",
    ]
    if view["description"]:
        lines.append(f"买家描述：{view['description']}")
    if view["decision_explanation"]:
        lines.append(f"处理依据：{view['decision_explanation']}")
    lines.append("处理记录：")
    for event in view["events"]:
        change = f"{event['from_status'] or '—'} → {event['to_status']}" if event["to_status"] else ""
        details = json.dumps(event["details"], ensure_ascii=False) if event["details"] else ""
        lines.append(
            "  "
            + "  ".join(part for part in (event["at"], event["actor"], change, event["note"] or "", details) if part)
        )
    lines.append("凭证：" + ("" if view["evidence"] else "无"))
    for piece in view["evidence"]:
        lines.append(
            f"  {piece['received_at']}  {piece['original_filename'] or piece['reference']}  {piece['media_type'] or ''}  {piece['sha256'][:12]}…"
        )
    satisfaction = view["satisfaction"]
    lines.append(
        f"满意度：{satisfaction['score']} 分" + (f"（{satisfaction['comment']}）" if satisfaction["comment"] else "")
        if satisfaction
        else "满意度：未评价"
    )
    return "\n".join(lines)


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"「{text}」不是正整数")
    return int(text)
