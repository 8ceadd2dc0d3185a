"""The linear intent model without Rasa: fits, predicts, and survives a save/load round trip."""

import numpy as np
import pytest
import scipy.sparse as sparse

from bot.nlu.linear_intent_model import CharNgramVectorizer, LinearIntentModel, char_ngrams

TEXTS = ["快递太慢了", "物流一直不动", "客服不回复", "客服态度差", "耳机没声音", "屏幕坏了"]
LABELS = ["logistics", "logistics", "service", "service", "quality", "quality"]


def test_char_ngrams_cover_the_range_and_squeeze_spaces():
    assert char_ngrams("ab  c", (1, 2)) == ["a", "b", " ", "c", "ab", "b ", " c"]


def test_vectorizer_rows_are_l2_normalised():
    matrix = CharNgramVectorizer((1, 3)).fit(TEXTS).transform(TEXTS + ["完全陌生"])
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    assert np.allclose(norms[:-1], 1.0)
    assert norms[-1] == 0.0


def test_fit_predict_and_round_trip(tmp_path):
    blocks = {"lexicon": sparse.csr_matrix(np.eye(6)[:, :3])}
    model = LinearIntentModel.fit(TEXTS, LABELS, blocks=blocks, block_weights={"lexicon": 0.5})
    probabilities = model.predict_proba(["快递好慢"], {"lexicon": sparse.csr_matrix((1, 3))})
    assert model.classes[int(probabilities.argmax())] == "logistics"
    assert np.isclose(probabilities.sum(), 1.0)

    model.save(tmp_path)
    loaded = LinearIntentModel.load(tmp_path)
    again = loaded.predict_proba(["快递好慢"], {"lexicon": sparse.csr_matrix((1, 3))})
    assert np.allclose(probabilities, again)


def test_missing_block_counts_as_zeros():
    model = LinearIntentModel.fit(TEXTS, LABELS, blocks={"lexicon": sparse.csr_matrix(np.ones((6, 2)))})
    assert model.predict_proba(["客服不理人"]).shape == (1, 3)


def test_block_by_block_scores_equal_the_stacked_product():
    rng = np.random.default_rng(7)
    blocks = {"encoder": rng.normal(size=(6, 4)).astype(np.float32), "lexicon": sparse.csr_matrix(np.eye(6)[:, :3])}
    model = LinearIntentModel.fit(TEXTS, LABELS, blocks=blocks, block_weights={"encoder": 2.0, "lexicon": 0.5})
    texts = ["快递好慢", "客服不理人"]
    given = {"encoder": rng.normal(size=(2, 4)).astype(np.float32), "lexicon": sparse.csr_matrix(np.eye(2, 3))}
    scores = np.asarray(model.features(texts, given) @ model.coef.T) + model.intercept
    expected = np.exp(scores - scores.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    assert np.allclose(model.predict_proba(texts, given), expected, atol=1e-12)
    for dense_row in (given["encoder"][:1], sparse.csr_matrix(given["encoder"][:1])):  # one message, either form
        one = model.predict_proba(texts[:1], {"encoder": dense_row, "lexicon": given["lexicon"][:1]})
        assert np.allclose(one, expected[:1], atol=1e-12)
    unknown = np.exp(model.intercept - model.intercept.max())  # no n-gram the model knows, no blocks
    assert np.allclose(model.predict_proba(["§"]), unknown / unknown.sum(), atol=1e-12)
    with pytest.raises(ValueError, match="encoder"):
        model.predict_proba(texts, {"encoder": given["encoder"][:, :3]})
