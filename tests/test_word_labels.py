"""The box → word rule, by example and by property (hypothesis)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fieldwise.annotate.word_labels import LabelBox, bio_tags, io_tags, label_words
from fieldwise.textract.geometry import Box

NAMES = ["header", "question", "answer", "other"]
OTHER = 3


def test_half_inside_takes_the_class_less_does_not() -> None:
    box = LabelBox(1, Box(0.0, 0.0, 0.5, 1.0))
    half_in = Box(0.4, 0.1, 0.6, 0.2)  # exactly half of it inside
    mostly_out = Box(0.45, 0.1, 0.65, 0.2)  # a quarter inside
    labels = label_words([half_in, mostly_out], [box], OTHER)
    assert [lb.class_id for lb in labels] == [1, OTHER]


def test_ties_go_to_the_lowest_class_id_whatever_the_box_order() -> None:
    word = Box(0.1, 0.1, 0.2, 0.2)
    boxes = [LabelBox(2, Box(0, 0, 1, 1)), LabelBox(1, Box(0, 0, 1, 1))]
    assert label_words([word], boxes, OTHER)[0].class_id == 1
    assert label_words([word], boxes[::-1], OTHER)[0].class_id == 1


def test_boxes_of_one_entity_number_are_one_entity() -> None:
    words = [Box(0.1, 0.1, 0.2, 0.15), Box(0.1, 0.2, 0.2, 0.25), Box(0.5, 0.2, 0.6, 0.25)]
    boxes = [
        LabelBox(2, Box(0.05, 0.05, 0.3, 0.16), entity=4),  # a value's first line
        LabelBox(2, Box(0.05, 0.18, 0.3, 0.26), entity=4),  # and its second
        LabelBox(2, Box(0.45, 0.18, 0.7, 0.26)),  # another value, no number: its own
    ]
    labels = label_words(words, boxes, OTHER)
    assert [lb.begins for lb in labels] == [True, True, True]  # each box begins (BIO)
    assert labels[0].entity == labels[1].entity == 4
    assert labels[2].entity not in (None, 4)


def test_bio_starts_a_new_entity_where_a_box_starts() -> None:
    words = [Box(0.1 * i, 0.1, 0.1 * i + 0.08, 0.15) for i in range(6)]
    boxes = [
        LabelBox(1, Box(0.0, 0.0, 0.19, 0.2)),
        LabelBox(1, Box(0.2, 0.0, 0.39, 0.2)),
        LabelBox(2, Box(0.4, 0.0, 0.49, 0.2)),
    ]
    labels = label_words(words, boxes, OTHER)
    assert bio_tags(labels, NAMES) == [
        "B-question",
        "I-question",
        "B-question",
        "I-question",
        "B-answer",
        "O",
    ]
    assert io_tags(labels, NAMES) == ["question"] * 4 + ["answer", "other"]


coord = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@st.composite
def boxes(draw: st.DrawFn, min_side: float = 0.0) -> Box:
    left, right = sorted((draw(coord), draw(coord)))
    top, bottom = sorted((draw(coord), draw(coord)))
    return Box(left, top, max(right, left + min_side), max(bottom, top + min_side))


label_boxes = st.lists(
    st.builds(LabelBox, st.integers(0, OTHER - 1), boxes()), min_size=0, max_size=5
)


@given(st.lists(boxes(min_side=0.01), min_size=1, max_size=8), label_boxes)
def test_rule_holds_for_any_boxes(words: list[Box], drawn: list[LabelBox]) -> None:
    labels = label_words(words, drawn, OTHER)
    for word, label in zip(words, labels, strict=True):
        qualifying = [b.class_id for b in drawn if word.intersection(b.box) >= 0.5 * word.area]
        assert label.class_id == (min(qualifying) if qualifying else OTHER)
        if label.box_index is not None:
            assert drawn[label.box_index].class_id == label.class_id


@given(st.lists(boxes(min_side=0.01), min_size=1, max_size=8), label_boxes, st.randoms())
def test_classes_do_not_depend_on_box_order(words: list[Box], drawn: list[LabelBox], rnd) -> None:
    shuffled = list(drawn)
    rnd.shuffle(shuffled)
    a = [lb.class_id for lb in label_words(words, drawn, OTHER)]
    b = [lb.class_id for lb in label_words(words, shuffled, OTHER)]
    assert a == b


@given(st.lists(boxes(min_side=0.01), min_size=1, max_size=8), label_boxes)
def test_every_entity_begins_with_b(words: list[Box], drawn: list[LabelBox]) -> None:
    tags = bio_tags(label_words(words, drawn, OTHER), NAMES)
    for previous, tag in zip(["O", *tags], tags, strict=False):
        if tag.startswith("I-"):
            assert previous[2:] == tag[2:]  # an I- continues an entity of the same class
