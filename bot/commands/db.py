"""`python -m bot db`: create or upgrade the orders/tickets database schema.

Also the database plumbing the `orders`, `tickets` and `agents` commands share: the
`--database-url` option and turning database errors into Chinese messages (they open the
database through the command line's runtime, bot/bootstrap.py).
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from bot.db import current_revision, head_revision, upgrade_database
from bot.db.engine import resolve_database_url

EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "db",
        help="订单/工单数据库：创建或升级表结构",
        description="订单/工单数据库的表结构管理（Alembic 迁移，目录 migrations/）。",
    )
    actions = parser.add_subparsers(dest="db_command", title="操作", metavar="ACTION", parser_class=type(parser))
    upgrade = actions.add_parser(
        "upgrade", help="把数据库升级到最新表结构（不存在时创建）", description="执行 alembic upgrade head。"
    )
    add_database_option(upgrade)
    upgrade.set_defaults(func=_upgrade)
    current = actions.add_parser(
        "current", help="显示数据库当前的迁移版本", description="显示数据库当前的迁移版本和最新版本。"
    )
    add_database_option(current)
    current.set_defaults(func=_current)
    parser.set_defaults(func=lambda args: _usage(parser))


def add_database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="SQLAlchemy 数据库地址（默认取环境变量 AFTERSALES_DATABASE_URL，再默认 var/aftersales.db）",
    )


def printable_url(url: Optional[str]) -> str:
    url = resolve_database_url(url)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "（无效地址）"


def database_error_message(error: SQLAlchemyError, url: Optional[str]) -> str:
    if isinstance(error, ArgumentError):
        return f"数据库地址无效：{printable_url(url)}（{error}）"
    if isinstance(error, DBAPIError):
        detail = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        return f"访问数据库 {printable_url(url)} 失败：{detail}"
    return f"访问数据库 {printable_url(url)} 失败：{type(error).__name__}"


def fail(message: str, code: int = EXIT_FAILURE) -> int:
    print(message, file=sys.stderr)
    return code


def _upgrade(args: argparse.Namespace) -> int:
    try:
        upgrade_database(args.database_url)
        revision = current_revision(args.database_url)
    except SQLAlchemyError as error:
        return fail(database_error_message(error, args.database_url))
    print(f"数据库 {printable_url(args.database_url)} 已是最新表结构（版本 {revision}）。")
    return 0


def _current(args: argparse.Namespace) -> int:
    try:
        revision = current_revision(args.database_url)
    except SQLAlchemyError as error:
        return fail(database_error_message(error, args.database_url))
    head = head_revision()
    if revision is None:
        print(
            f"数据库 {printable_url(args.database_url)} 还没有建表；最新版本 {head}。运行 `python -m bot db upgrade`。"
        )
    else:
        state = "已是最新" if revision == head else f"需要升级到 {head}"
        print(f"数据库 {printable_url(args.database_url)} 当前版本 {revision}（{state}）。")
    return 0


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_BAD_INPUT
