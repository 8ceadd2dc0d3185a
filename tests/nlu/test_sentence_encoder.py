"""The sentence-encoder featurizer: packaged weights (no download), dense 512-wide sentence
features from the normalised text, and the linear classifier reading them as a block."""

import os
import subprocess
import sys

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu import sentence_encoder
from bot.rasa_nlu.intent_classifier import sentence_feature_blocks
from bot.rasa_nlu.sentence_encoder_featurizer import SentenceEncoderFeaturizer


@pytest.fixture(scope="module")
def featurizer():
    return SentenceEncoderFeaturizer.create(
        {}, None, None, ExecutionContext(GraphSchema({}), node_name="run_SentenceEncoderFeaturizer0")
    )


def test_featurizer_adds_one_dense_512_wide_sentence_feature_per_message(featurizer):
    messages = [Message(data={TEXT: text}) for text in ("耳机一边没声音了", "ＯＫ，谢谢！！", "快递三天了还没到")]
    featurizer.process(messages)
    for message in messages:
        dense = [f for f in message.features if f.type == FEATURE_TYPE_SENTENCE and f.attribute == TEXT]
        assert len(dense) == 1 and dense[0].is_dense()
        assert dense[0].features.shape == (1, sentence_encoder.DIMENSION)
        assert abs(np.linalg.norm(dense[0].features) - 1.0) < 1e-3
    blocks = sentence_feature_blocks(messages)
    ((name, block),) = blocks.items()
    assert "SentenceEncoderFeaturizer" in name and block.shape == (3, sentence_encoder.DIMENSION)


def test_embeddings_place_paraphrases_closer_than_other_topics():
    vectors = sentence_encoder.encode(["快递怎么还没到", "包裹一直没送到", "耳机左边没有声音", ""])
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert not vectors[3].any()  # an empty text is a zero vector, not an error


def test_encoder_loads_and_encodes_without_any_network_access():
    script = (
        "import socket\n"
        "def refuse(*args, **kwargs): raise OSError('network access attempted')\n"
        "socket.socket.connect = refuse; socket.create_connection = refuse; socket.getaddrinfo = refuse\n"
        "from bot.nlu import sentence_encoder\n"
        "print(sentence_encoder.encode(['退货地址是哪里']).shape)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "(1, 512)"


def test_loading_the_encoder_pins_the_whole_process_to_one_blas_thread():
    script = (
        "import numpy, threadpoolctl\n"
        "before = [pool['num_threads'] for pool in threadpoolctl.threadpool_info() if pool['user_api'] == 'blas']\n"
        "from bot.nlu import sentence_encoder\n"
        "sentence_encoder.encoder()\n"
        "numpy.ones((300, 300)) @ numpy.ones((300, 300))  # a product outside the encoder\n"
        "after = [pool['num_threads'] for pool in threadpoolctl.threadpool_info() if pool['user_api'] == 'blas']\n"
        "print(max(before), max(after))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "2"},  # as on this two-core machine, whatever runs the test
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["2", "1"]
