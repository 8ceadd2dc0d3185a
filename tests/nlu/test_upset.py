"""The upset/abuse score that sends a buyer to a person (bot/nlu/upset.py)."""

from __future__ import annotations

import pytest

from bot.nlu.upset import Mood, UpsetLexicon, assess_mood, load_upset_lexicon


@pytest.mark.parametrize(
    "text",
    [
        "耳机坏了，右边没声音",
        "质量太差了，我要退货",
        "快递太慢了，什么时候能到",
        "这个垃圾袋漏了",  # one mild word is not anger
        "不是骗子吧，想确认一下是不是正品",  # negated
        "请问还能去哪里投诉？",
    ],
)
def test_ordinary_complaints_are_calm(text):
    assert assess_mood(text).mood is Mood.CALM


@pytest.mark.parametrize(
    "text",
    [
        "气死我了，第三次问了，到底什么时候发货！！！",
        "什么破耳机，坑人，我要曝光你们",
        "我要去12315投诉你们",
        "说了多少遍了还不处理，忍无可忍",
    ],
)
def test_angry_messages_need_a_person(text):
    assessment = assess_mood(text)
    assert assessment.mood is Mood.UPSET
    assert assessment.needs_person


@pytest.mark.parametrize("text", ["垃圾客服", "你们就是骗子", "SB客服听不懂人话", "黑店！"])
def test_insults_are_abusive_at_once(text):
    assert assess_mood(text).mood is Mood.ABUSIVE


def test_full_width_and_upper_case_are_matched():
    assert assess_mood("ＳＢ客服").mood is Mood.ABUSIVE


def test_a_phrase_contained_in_a_longer_one_counts_once():
    assessment = assess_mood("气死我了")
    assert assessment.matched == ("气死我了",)
    assert assessment.score == 3


def test_the_threshold_and_weights_come_from_the_lexicon_file(tmp_path):
    lexicon_file = tmp_path / "upset.yml"
    lexicon_file.write_text(
        "upset_threshold: 2\nabuse: [坏蛋]\nphrases:\n  太慢: 2\npunctuation:\n  run_length: 2\n  weight: 1\n",
        encoding="utf-8",
    )
    lexicon = load_upset_lexicon(lexicon_file)
    assert lexicon.assess("太慢了").mood is Mood.UPSET
    assert lexicon.assess("好的??").mood is Mood.CALM
    assert lexicon.assess("坏蛋").mood is Mood.ABUSIVE
    assert UpsetLexicon(abuse=(), phrases={"太慢": 2}, threshold=3).assess("太慢了").mood is Mood.CALM
