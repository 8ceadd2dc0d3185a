"""The buyer waiting for a person: is a message only a ping (「在吗」「有人吗」), and how long
the wait honestly is — from the agents signed in to the console and how long they recently
took per chat, not a fixed number of minutes per waiting chat."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.tables import AgentSession, Handoff
from bot.db.types import utcnow
from bot.services import handoffs

# a ping is a short message made only of these words (and punctuation, emoji-free spaces)
_PING_WORDS = (
    "在吗",
    "在不在",
    "在么",
    "还在吗",
    "有人吗",
    "有人在吗",
    "有没有人",
    "人呢",
    "客服呢",
    "客服在吗",
    "人工呢",
    "客服",
    "人工",
    "哈喽",
    "你好",
    "您好",
    "喂",
    "hello",
    "hi",
    "嗨",
)
_PING = re.compile("^(?:" + "|".join(sorted(map(re.escape, _PING_WORDS), key=len, reverse=True)) + ")+$", re.IGNORECASE)
_FILLER = re.compile(r"[\s,，.。!！?？~～…、]+")
RECENT_CHATS = 20
RECENT_WINDOW = timedelta(days=7)


# thanks and acknowledgements while waiting: a courtesy, not a message for the agent or a ticket
_COURTESY_WORDS = (
    "谢谢",
    "多谢",
    "感谢",
    "谢啦",
    "谢了",
    "好的",
    "好滴",
    "好嘞",
    "好",
    "嗯",
    "嗯嗯",
    "哦",
    "噢",
    "ok",
    "okay",
    "行",
    "收到",
    "知道了",
    "明白",
    "了解",
    "辛苦了",
    "麻烦了",
    "再见",
    "拜拜",
    "thanks",
    "thank you",
    "thx",
)
_COURTESY = re.compile(
    "^(?:"
    + "|".join(sorted(map(re.escape, _COURTESY_WORDS), key=len, reverse=True))
    + ")+(?:[啦了呀啊哈呢的]|你|您|你们)*$",
    re.IGNORECASE,
)


def is_courtesy(text: Optional[str]) -> bool:
    """「谢谢」「好的，辛苦了」「ok thx」: thanks or an acknowledgement, and nothing else."""
    core = _FILLER.sub("", (text or "").strip())
    return 0 < len(core) <= 12 and bool(_COURTESY.match(core))


def is_ping(text: Optional[str]) -> bool:
    """「在吗？」「有人吗」「人呢？？」: asking whether anyone is there, and nothing else."""
    core = _FILLER.sub("", (text or "").strip())
    return 0 < len(core) <= 12 and bool(_PING.match(core))


@dataclass(frozen=True)
class WaitEstimate:
    position: int  # 1 = next in line
    agents_online: int
    minutes_per_chat: float  # recent average, or the policy's figure when there is no history
    wait_minutes: Optional[int]  # None: nobody is online to estimate with


def agents_online(session: Session, now: datetime) -> int:
    """Agents with a live console login."""
    return session.execute(
        select(func.count(func.distinct(AgentSession.agent_id))).where(
            AgentSession.ended_at.is_(None), AgentSession.expires_at > now
        )
    ).scalar_one()


def minutes_per_chat(session: Session, now: datetime, default_minutes: float) -> float:
    """The mean time agents held a chat (claimed → ended) over the last RECENT_CHATS chats of
    the past week."""
    rows: List[Handoff] = list(
        session.execute(
            select(Handoff)
            .where(
                Handoff.claimed_at.is_not(None), Handoff.ended_at.is_not(None), Handoff.ended_at > now - RECENT_WINDOW
            )
            .order_by(Handoff.ended_at.desc())
            .limit(RECENT_CHATS)
        ).scalars()
    )
    if not rows:
        return float(default_minutes)
    seconds = [max(0.0, (row.ended_at - row.claimed_at).total_seconds()) for row in rows]
    return max(1.0, sum(seconds) / len(seconds) / 60)


def estimate(
    session: Session, conversation_id: str, default_minutes: float, *, now: Optional[datetime] = None
) -> WaitEstimate:
    """Where the conversation stands in the queue and how long until an agent is free: the
    chats ahead of it (and itself) shared among the agents online, each taking the recent
    time per chat."""
    now = now or utcnow()
    queue = handoffs.waiting_handoffs(session)
    ids = [row.conversation_id for row in queue]
    position = ids.index(conversation_id) + 1 if conversation_id in ids else len(ids) + 1
    online = agents_online(session, now)
    per_chat = minutes_per_chat(session, now, default_minutes)
    wait = max(1, math.ceil(position * per_chat / online)) if online else None
    return WaitEstimate(position=position, agents_online=online, minutes_per_chat=round(per_chat, 1), wait_minutes=wait)
