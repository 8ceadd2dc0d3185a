"""`python -m bot nlu-eval` rejects bad input with a Chinese message and no traceback."""

import argparse

import pytest

from bot.commands import nlu_eval


def run(argv):
    parser = argparse.ArgumentParser(prog="python -m bot")
    nlu_eval.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["nlu-eval", *argv])
    return args.func(args)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--model", "/nonexistent/model.tar.gz"], "模型文件"),
        (["--folds", "1"], "--folds"),
        (["--order-cases", "10"], "--order-cases"),
    ],
)
def test_bad_options_give_a_chinese_error(capsys, argv, message):
    assert run(argv) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error


def test_eval_file_without_text_and_label_columns(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    assert run(["--complaints", str(bad)]) == 2
    assert "text 和 label" in capsys.readouterr().err


def test_leak_guard_counts_copied_and_nearly_copied_eval_texts():
    from benchmarks.nlu import LabelledText, training_overlap

    train = [
        LabelledText("耳机左边没有声音了怎么办", "complain_quality"),
        LabelledText("好的", "affirm"),
        LabelledText("快递三天没有更新物流信息了", "complain_logistics"),
    ]
    evaluated = [
        LabelledText("耳机左边没有声音了怎么办", "complain_quality"),  # copied
        LabelledText("快递三天没有更新物流信息了!!", "complain_logistics"),  # nearly copied
        LabelledText("冰箱冷冻室一点都不制冷", "complain_quality"),  # new
        LabelledText("好的", "affirm"),  # too short to count
        LabelledText("[订单x]", "inform"),
    ]
    assert training_overlap(train, evaluated) == {"evaluated": 3, "identical": 1, "near": 1}
