"""`python -m bot nlu-eval` rejects bad input with a Chinese message and no traceback."""
import argparse

import pytest

from bot.commands import nlu_eval


def run(argv):
    parser = argparse.ArgumentParser(prog="python -m bot")
    nlu_eval.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["nlu-eval", *argv])
    return args.func(args)


@pytest.mark.parametrize("argv, message", [
    (["--model", "/nonexistent/model.tar.gz"], "模型文件"),
    (["--folds", "1"], "--folds"),
    (["--order-cases", "10"], "--order-cases"),
])
def test_bad_options_give_a_chinese_error(capsys, argv, message):
    assert run(argv) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error


def test_eval_file_without_text_and_label_columns(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    assert run(["--complaints", str(bad)]) == 2
    assert "text 和 label" in capsys.readouterr().err
