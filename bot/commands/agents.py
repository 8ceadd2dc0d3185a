"""`python -m bot agents`: accounts of the agent console.

Examples:
    python -m bot agents create alice --role supervisor --display-name 王主管
    printf '%s\n' "$PASSWORD" | python -m bot agents create bob --password-stdin
    python -m bot agents list
    python -m bot agents password alice
"""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy.exc import SQLAlchemyError

from bot.commands.db import EXIT_BAD_INPUT, add_database_option, database_error_message, fail
from bot.console.accounts import (
    MIN_PASSWORD_LENGTH,
    ROLE_LABELS,
    ROLES,
    AccountError,
    create_agent,
    list_agents,
    set_password,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "agents",
        help="人工客服控制台账号：创建、列出、改密码",
        description="人工客服控制台（/console/）的账号。角色：agent（客服）、supervisor（主管）。",
    )
    actions = parser.add_subparsers(dest="agents_command", title="操作", metavar="ACTION", parser_class=type(parser))

    create = actions.add_parser("create", help="创建账号（第一个账号也用它创建）", description="创建一个控制台账号。")
    create.add_argument("username", metavar="USERNAME", help="登录名：字母、数字、下划线、点、连字符")
    create.add_argument("--role", choices=ROLES, default="agent", help="角色：agent（客服，默认）或 supervisor（主管）")
    create.add_argument("--display-name", metavar="NAME", help="显示名（默认同登录名）")
    create.add_argument(
        "--password-stdin", action="store_true", help="从标准输入读取密码（用于脚本），否则交互输入两次"
    )
    add_database_option(create)
    create.set_defaults(func=_create)

    listing = actions.add_parser("list", help="列出账号", description="列出所有控制台账号。")
    add_database_option(listing)
    listing.set_defaults(func=_list)

    password = actions.add_parser(
        "password", help="重设密码（同时注销该账号的所有登录）", description="重设一个账号的密码。"
    )
    password.add_argument("username", metavar="USERNAME")
    password.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码")
    add_database_option(password)
    password.set_defaults(func=_password)

    parser.set_defaults(func=lambda args: (parser.print_help(), EXIT_BAD_INPUT)[1])


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(f"密码（至少 {MIN_PASSWORD_LENGTH} 个字符）：")
    second = getpass.getpass("再输入一次：")
    if first != second:
        raise AccountError("两次输入的密码不一致。")
    return first


def _create(args: argparse.Namespace) -> int:
    try:
        password = _read_password(args.password_stdin)
        with args.runtime.unit_of_work(args.database_url) as unit:
            agent = create_agent(unit.session, args.username, password, role=args.role, display_name=args.display_name)
            print(f"已创建{ROLE_LABELS[agent.role]}账号 {agent.username}（{agent.display_name}）。登录地址：/console/")
    except AccountError as error:
        return fail(error.message, EXIT_BAD_INPUT)
    except SQLAlchemyError as error:
        return fail(database_error_message(error, args.database_url))
    return 0


def _list(args: argparse.Namespace) -> int:
    try:
        with args.runtime.unit_of_work(args.database_url) as unit:
            agents = list_agents(unit.session)
            if not agents:
                print("还没有账号。创建第一个：python -m bot agents create USERNAME --role supervisor")
            for agent in agents:
                state = "启用" if agent.active else "停用"
                last = agent.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if agent.last_login_at else "从未登录"
                print(f"{agent.username}\t{agent.display_name}\t{ROLE_LABELS[agent.role]}\t{state}\t{last}")
    except SQLAlchemyError as error:
        return fail(database_error_message(error, args.database_url))
    return 0


def _password(args: argparse.Namespace) -> int:
    try:
        password = _read_password(args.password_stdin)
        with args.runtime.unit_of_work(args.database_url) as unit:
            set_password(unit.session, args.username, password)
            print(f"已重设 {args.username} 的密码，原有登录已全部失效。")
    except AccountError as error:
        return fail(error.message, EXIT_BAD_INPUT)
    except SQLAlchemyError as error:
        return fail(database_error_message(error, args.database_url))
    return 0
