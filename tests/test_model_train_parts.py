"""The parts of training that decide what the model learns: line check, hold-out, augmentation."""

from __future__ import annotations

import torch

from fieldwise.annotate.dataset import LabeledPage
from fieldwise.annotate.word_labels import WordLabel
from fieldwise.model.augment import mask_tokens, number_pieces, shift_layout, swap_numbers
from fieldwise.model.encode import IGNORE
from fieldwise.model.train import split_line_share, split_validation
from fieldwise.textract.geometry import Box


def _page(key: str, lines: list[int], labels: list[WordLabel]) -> LabeledPage:
    n = len(lines)
    boxes = [Box(0.1 * i, 0.1, 0.1 * i + 0.05, 0.12) for i in range(n)]
    ids = [str(i) for i in range(n)]
    return LabeledPage(key, 1, ["w"] * n, boxes, lines, [99.0] * n, ids, labels=tuple(labels))


def test_split_line_share_counts_lines_that_mix_entities() -> None:
    q, a, o = WordLabel(1, 0, True), WordLabel(2, 1, True), WordLabel(3, None, False)
    clean = _page("a#1", [0, 0, 1], [q, WordLabel(1, 0, False), a])
    mixed = _page("b#1", [0, 0, 1, 1], [q, a, a, o])  # both lines mix
    assert split_line_share([clean]) == 0.0
    assert split_line_share([clean, mixed]) == 2 / 4


def test_split_validation_is_deterministic_and_by_document() -> None:
    pages = [_page(f"doc{i}/textract.json#{p}", [0], [WordLabel(3, None, False)])
             for i in range(40) for p in (1, 2)]  # fmt: skip
    train1, val1 = split_validation(pages, 0.1)
    train2, val2 = split_validation(list(reversed(pages)), 0.1)
    assert {p.key for p in val1} == {p.key for p in val2}
    assert val1 and len(train1) + len(val1) == len(pages)
    docs = {p.key.split("#")[0] for p in val1}
    assert all(p.key.split("#")[0] not in docs for p in train1)  # both pages of a document


def test_shift_moves_words_together_and_leaves_specials() -> None:
    bbox = torch.tensor([[[0, 0, 0, 0], [100, 200, 150, 220], [300, 200, 350, 220], [1000] * 4]])
    features = torch.zeros((1, 4, 24))
    features[0, 1:3, :4] = bbox[0, 1:3].float() / 1000
    labels = torch.tensor([[IGNORE, 1, 2, IGNORE]])
    batch = {"bbox": bbox.clone(), "features": features, "labels": labels}
    shift_layout(batch, 0.05, torch.Generator().manual_seed(3))
    moved = batch["bbox"][0]
    assert moved[0].tolist() == [0, 0, 0, 0] and moved[3].tolist() == [1000] * 4
    delta = moved[1:3] - bbox[0, 1:3]
    assert torch.equal(delta[0], delta[1])  # one offset for the whole window
    assert delta[0, 0] == delta[0, 2] and delta[0, 1] == delta[0, 3]
    assert 0 < delta.abs().max() <= 50
    assert torch.allclose(batch["features"][0, 1:3, :4], moved[1:3].float() / 1000, atol=2e-3)


def test_mask_hides_a_share_of_word_pieces_never_specials_or_padding() -> None:
    cls, sep, pad, mask = 101, 102, 0, 103
    ids = torch.tensor([[cls] + list(range(1000, 1398)) + [sep] + [pad] * 112] * 4)
    attention = (ids != pad).long()
    batch = {"input_ids": ids.clone(), "attention_mask": attention}
    mask_tokens(batch, 0.25, mask, {cls, sep, pad}, torch.Generator().manual_seed(1))
    out = batch["input_ids"]
    hidden = out == mask
    assert not hidden[:, 0].any() and not hidden[:, 399].any()  # [CLS], [SEP] stay
    assert torch.equal(out[:, 400:], ids[:, 400:])  # padding stays
    share = hidden[:, 1:399].float().mean().item()
    assert 0.2 < share < 0.3
    assert torch.equal(out[~hidden], ids[~hidden])  # nothing else changes


def test_number_swap_changes_only_digit_pieces_and_keeps_their_kind() -> None:
    from transformers import AutoTokenizer

    from fieldwise.model.build import default_base_model

    tokenizer = AutoTokenizer.from_pretrained(str(default_base_model()))
    starts, continues = number_pieces(tokenizer)
    assert len(starts) > 500 and len(continues) > 10  # MiniLM's vocabulary has both kinds
    text = "Penalty APR Prime Rate + 26.74% Up to $1,199 since 2025"
    ids = torch.tensor([tokenizer(text)["input_ids"]] * 64)
    batch = {"input_ids": ids.clone()}
    swap_numbers(batch, 0.5, (starts, continues), torch.Generator().manual_seed(3))
    out = batch["input_ids"]
    changed = out != ids
    digit = torch.isin(ids, torch.cat([starts, continues]))
    assert not (changed & ~digit).any()  # words, "%", "$" and specials stay
    assert 0.35 < changed[digit].float().mean().item() < 0.65  # about half of the numbers
    assert torch.isin(out[digit & torch.isin(ids, starts)], starts).all()
    assert torch.isin(out[digit & torch.isin(ids, continues)], continues).all()


def test_the_folder_names_the_fields_training_never_showed() -> None:
    from fieldwise.fields.config import parse_fields
    from fieldwise.model.artifacts import make_info, trained_class_names
    from fieldwise.model.encode import EncodeOptions
    from fieldwise.model.scheme import Scheme

    fields = parse_fields([{"name": "q"}, {"name": "a"}, {"name": "h"}])
    q, o = WordLabel(0, 0, True), WordLabel(3, None, False)
    page = _page("a#1", [0, 0], [q, o])
    assert trained_class_names([page], fields) == ["q"]
    info = make_info(Scheme.bio, fields, EncodeOptions(), True, "base", "", False, ["q"])
    assert info.untrained_classes == ["a", "h"]
    older = info.model_copy(update={"trained_classes": None})  # folders that did not record it
    assert older.untrained_classes == []


def test_a_field_labelled_on_too_few_documents_counts_as_untrained() -> None:
    """Two of five documents (one template) teach the tagger that template's wording, not the
    field: it is reported NotTrained. With fewer documents than the minimum in all, a field on
    every one of them is trained."""
    from fieldwise.fields.config import parse_fields
    from fieldwise.model.artifacts import (
        MIN_FIELD_DOCUMENTS,
        class_documents,
        make_info,
        trained_class_names,
    )
    from fieldwise.model.encode import EncodeOptions
    from fieldwise.model.scheme import Scheme

    assert MIN_FIELD_DOCUMENTS == 3
    fields = parse_fields([{"name": "q"}, {"name": "a"}, {"name": "h"}])
    q, a, o = WordLabel(0, 0, True), WordLabel(1, 1, True), WordLabel(3, None, False)
    pages = [_page(f"doc{d}.json#{p}", [0, 0], [q, o]) for d in range(5) for p in (1, 2)]
    pages += [_page("doc0.json#3", [0], [a]), _page("doc0.json#4", [0], [a])]  # one document
    pages += [_page("doc1.json#3", [0], [a])]
    assert class_documents(pages, fields) == {"q": 5, "a": 2, "h": 0}
    assert trained_class_names(pages, fields) == ["q"]
    trained, counts = trained_class_names(pages, fields), class_documents(pages, fields)
    info = make_info(Scheme.bio, fields, EncodeOptions(), True, "base", "", False, trained, counts)
    assert info.untrained_classes == ["a", "h"] and info.class_documents == {"q": 5, "a": 2, "h": 0}
    two = [p for p in pages if p.key.startswith(("doc0", "doc1"))]  # two documents in all
    assert trained_class_names(two, fields) == ["q", "a"]


def test_the_dropout_option_reaches_the_hidden_layers_and_the_head() -> None:
    from fieldwise.model.build import build_model

    default, _ = build_model(None, num_labels=3)
    model, _ = build_model(None, num_labels=3, dropout=0.25)
    rates = {m.p for m in model.modules() if isinstance(m, torch.nn.Dropout)}
    assert model.dropout.p == 0.25 and rates == {0.25, 0.0}  # attention dropout stays off
    assert default.dropout.p == 0.1  # MiniLM's own
    assert model.config.hidden_dropout_prob == 0.25
