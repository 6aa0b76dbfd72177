"""Pages → windows of sub-word tokens, and window outputs merged back into words."""

from __future__ import annotations

import numpy as np
import pytest

from fieldwise.annotate.dataset import PageWords
from fieldwise.model.encode import IGNORE, EncodeOptions, collate, encode_page, merge_windows
from fieldwise.model.features import NUM_FEATURES, normalized_boxes, word_features
from fieldwise.textract.geometry import Box


@pytest.fixture(scope="module")
def tokenizer():  # type: ignore[no-untyped-def]
    from transformers import AutoTokenizer

    from fieldwise.model.build import default_base_model

    return AutoTokenizer.from_pretrained(str(default_base_model()))


def _page(words: list[str]) -> PageWords:
    cells = [(0.01 * (i % 50), 0.02 * (i // 50)) for i in range(len(words))]
    boxes = [Box(x, y, x + 0.008, y + 0.01) for x, y in cells]
    lines = [i // 50 for i in range(len(words))]
    return PageWords(
        "p#1", 1, words, boxes, lines, [99.0] * len(words), [str(i) for i in range(len(words))]
    )


def test_short_page_is_one_window_with_specials(tokenizer) -> None:  # type: ignore[no-untyped-def]
    page = _page(["Date:", "unbelievably", "12/3/98"])
    enc = encode_page(page, tokenizer, EncodeOptions(), word_labels=[2, 3, 4])
    (window,) = enc.windows
    assert window.input_ids[0] == tokenizer.cls_token_id
    assert window.input_ids[-1] == tokenizer.sep_token_id
    assert window.token_words[0] == -1 and window.token_words[-1] == -1
    # every sub-token of a word carries its box and label (label_all_tokens)
    assert window.labels is not None
    for t, w in enumerate(window.token_words):
        if w >= 0:
            assert window.labels[t] == [2, 3, 4][w]
            assert list(window.bbox[t]) == list(normalized_boxes(page)[w])
    assert window.labels[0] == IGNORE
    assert len(window.input_ids) > 5  # "unbelievably" and the date split into sub-tokens


def test_first_token_labels_only(tokenizer) -> None:  # type: ignore[no-untyped-def]
    page = _page(["unbelievably", "x"])
    opts = EncodeOptions(label_all_tokens=False)
    (window,) = encode_page(page, tokenizer, opts, [1, 2]).windows
    assert window.labels is not None
    labelled = [int(x) for x in window.labels if x != IGNORE]
    assert labelled == [1, 2]


def test_long_page_windows_overlap_and_cover_every_token(tokenizer) -> None:  # type: ignore[no-untyped-def]
    page = _page([f"word{i}" for i in range(300)])
    opts = EncodeOptions(max_length=64, stride=16)
    enc = encode_page(page, tokenizer, opts)
    assert len(enc.windows) > 5
    assert all(len(w.input_ids) <= 64 for w in enc.windows)
    seen = set()
    for a, b in zip(enc.windows, enc.windows[1:], strict=False):
        assert b.token_words[1] <= a.token_words[-2]  # consecutive windows share words
        assert b.token_words[1] > a.token_words[1]  # and move forward
    for w in enc.windows:
        seen |= set(int(x) for x in w.token_words if x >= 0)
    assert seen == set(range(300))
    # windows start at a word's first sub-token
    for w in enc.windows[1:]:
        assert w.use[1]


def test_merge_averages_sub_tokens_and_windows(tokenizer) -> None:  # type: ignore[no-untyped-def]
    page = _page([f"w{i}" for i in range(40)])
    enc = encode_page(page, tokenizer, EncodeOptions(max_length=24, stride=8))
    outputs = []
    for k, w in enumerate(enc.windows):
        probs = np.zeros((len(w.input_ids), 2), dtype=np.float32)
        probs[:, 0] = k  # window k says "k" for every token
        outputs.append(probs)
    merged = merge_windows(enc, outputs)
    for word in range(40):
        # expected: mean over every (window, token) pair that holds the word
        values = [k for k, w in enumerate(enc.windows) for t in w.token_words if t == word]
        assert merged[word, 0] == pytest.approx(np.mean(values))
    with pytest.raises(ValueError):
        merge_windows(enc, outputs[:-1])


def test_collate_pads(tokenizer) -> None:  # type: ignore[no-untyped-def]
    a = encode_page(_page(["a"]), tokenizer, EncodeOptions(), [0]).windows[0]
    b = encode_page(_page(["a", "b", "c"]), tokenizer, EncodeOptions(), [0, 1, 2]).windows[0]
    batch = collate([a, b])
    assert batch["input_ids"].shape == (2, 5)
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]
    assert batch["labels"][0, 3] == IGNORE
    assert batch["features"].shape == (2, 5, NUM_FEATURES)


def test_features_describe_lines_and_shape() -> None:
    page = PageWords(
        "p#1", 1, ["NAME:", "John", "Smith"],
        [Box(0.1, 0.1, 0.2, 0.12), Box(0.5, 0.1, 0.6, 0.12), Box(0.61, 0.1, 0.7, 0.12)],
        [0, 1, 1], [99.0] * 3, ["a", "b", "c"],
    )  # fmt: skip
    f = word_features(page)
    assert f.shape == (3, NUM_FEATURES)
    assert np.all(np.abs(f) <= 1.0)
    first_of_line = f[:, 13]
    assert first_of_line.tolist() == [1.0, 1.0, 0.0]
    assert f[0, -2] == 1.0 and f[1, -2] == 0.0  # ends with a colon
    assert f[0, -5] == 1.0  # all capitals
    assert f[2, 4:8].tolist() == pytest.approx([0.5, 0.1, 0.7, 0.12])  # its line's box


def test_row_context_is_the_words_opening_the_row(tokenizer) -> None:  # type: ignore[no-untyped-def]
    from fieldwise.model.features import ROW_CONTEXT_WORDS, row_context

    # a rate table: two rows, label cells at the left, values to the right (slightly lower);
    # a line of prose further down must not see the table's rows
    words = ["Annual", "Fee", "$95", "Late", "Payment", "Up", "to", "$40", "Terms"]
    lefts = [0.05, 0.12, 0.5, 0.05, 0.10, 0.5, 0.54, 0.58, 0.05]
    tops = [0.10, 0.10, 0.103, 0.20, 0.20, 0.203, 0.203, 0.203, 0.5]
    boxes = [Box(x, y, x + 0.035, y + 0.012) for x, y in zip(lefts, tops, strict=True)]
    page = PageWords("p#1", 1, words, boxes, [0, 0, 1, 2, 2, 3, 3, 3, 4], [99.0] * 9,
                     [str(i) for i in range(9)])  # fmt: skip
    context = row_context(page)
    assert context.shape == (9, ROW_CONTEXT_WORDS)
    named = [[words[j] for j in row if j >= 0] for row in context]
    assert named[2] == ["Annual", "Fee"]
    assert named[7] == ["Late", "Payment", "Up", "to"]
    assert named[0] == [] and named[8] == []
    assert named[6] == ["Late", "Payment", "Up"]
    some = row_context(page, only=[7, 2, 7])  # only the values' rows, the same as in full
    assert some[[2, 7]].tolist() == context[[2, 7]].tolist()
    assert (np.delete(some, [2, 7], axis=0) == -1).all()
    assert encode_page(page, tokenizer, EncodeOptions()).windows[0].context_ids is None
    (window,) = encode_page(page, tokenizer, EncodeOptions(row_context=True)).windows
    dollar = int(np.flatnonzero(window.token_words == 2)[0])
    first_tokens = [
        tokenizer(w, add_special_tokens=False)["input_ids"][0] for w in ("Annual", "Fee")
    ]
    assert window.context_ids[dollar, :2].tolist() == first_tokens
    assert not window.context_ids[dollar, 2:].any() and not window.context_ids[0].any()
    assert collate([window])["context_ids"].shape == (1, len(window.input_ids), ROW_CONTEXT_WORDS)


def test_word_pieces_are_the_tokenizers_own(tokenizer, funsd_dir) -> None:  # type: ignore[no-untyped-def]
    """The fast path past the tokenizer's __call__ gives exactly its pieces, odd words included,
    and a tokenizer told to pad (where that path would differ) goes through __call__."""
    import copy
    import json

    from fieldwise.model.encode import MAX_TOKENS_PER_WORD, _word_tokens

    form = json.loads(next(iter(sorted((funsd_dir / "annotations").glob("*.json")))).read_text())
    words = [w["text"] for entity in form["form"] for w in entity["words"]]
    words += ["", "☐", "Æsop's", "₹1,300", "x" * 300, "naïve", "10/08/2025"]
    expected = [
        (ids or [tokenizer.unk_token_id])[:MAX_TOKENS_PER_WORD]
        for ids in tokenizer(words, add_special_tokens=False)["input_ids"]
    ]
    assert _word_tokens(words, tokenizer) == expected
    padded = copy.deepcopy(tokenizer)
    padded.backend_tokenizer.enable_padding(length=8)
    assert _word_tokens(words, padded) == expected
