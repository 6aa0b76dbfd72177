"""Which kinds of amount each fee field was labelled with in training: money, a rate, "None".

A fee is written as money ("$95", "Up to $40"), as a rate ("3% of each transaction"), as both
("Either $5 or 3%") or as nothing owed ("None", "Nil"), and each field keeps to its own kinds:
no annual fee in the shared agreements is a percentage, no late fee is one either, and no
foreign-transaction fee is a sum of money. A tagger trained on few issuers does not learn that:
on American Express agreements it never saw, an undertrained one called "up to 1.33%" (a
monthly plan fee) the annual fee in 22 of 23 documents. So ``train`` records, per field
normalised as ``amount`` or ``money``, the kinds its labelled values were written in, and field
building rejects a mention of a kind the field was never labelled with (it is listed under
``Rejected`` for a reviewer, as unparsable values are). Learned from the user's own labels, so
a field whose fees are percentages in the user's documents keeps them. "None" is allowed for
every fee whatever the labels say: any fee may be waived (Apple Card has no late fee, while
no late fee labelled on American Express or Chase agreements is "None").

Example::

    kinds = fit_value_kinds(train_pages, config)     # {"Fee - Annual": {"money", "none"}, …}
    kinds.save(model_dir / VALUE_KINDS_FILE)
    kinds.allows("Fee - Annual", "up to 1.33%")      # False
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from fieldwise.annotate.dataset import LabeledPage
from fieldwise.fields.config import FieldConfig, Normalize

VALUE_KINDS_FILE = "value_kinds.json"
KINDS = ("money", "percent", "none")
#: The fields whose values are amounts of more than one possible kind.
KIND_CHECKED = (Normalize.amount, Normalize.money)

_NUMBER = re.compile(
    r"(?P<sign>[$₹€£`]|\brs\.?\s?)?\s*\d[\d,]*(?:\.\d+)?\s*(?P<percent>%)?", re.IGNORECASE
)
_NONE = re.compile(r"\b(?:none|nil|ninguno|ninguna|waived|n/a)\b|\bno\s+fee\b", re.IGNORECASE)


def kinds_of(text: str) -> frozenset[str]:
    """The kinds of amount ``text`` states. A bare number ("Up to 40") counts as money only
    when nothing in the text has a sign, as ``normalize_amount`` reads it."""
    signed, bare = set(), False
    for m in _NUMBER.finditer(text):
        if m.group("percent"):
            signed.add("percent")
        elif m.group("sign"):
            signed.add("money")
        else:
            bare = True
    if bare and not signed:
        signed.add("money")
    if _NONE.search(text):
        signed.add("none")
    return frozenset(signed)


@dataclass(frozen=True)
class ValueKinds:
    """{field name: the kinds its training values were written in}; a field not listed (not
    kind-checked, or never labelled) allows every kind."""

    seen: dict[str, frozenset[str]]

    def allows(self, field_name: str, text: str) -> bool:
        """Whether ``text`` states only kinds ``field_name`` was labelled with ("None" aside:
        every fee may be waived)."""
        known = self.seen.get(field_name)
        return known is None or kinds_of(text) - {"none"} <= known

    def save(self, path: Path) -> None:
        data = {name: sorted(kinds) for name, kinds in self.seen.items()}
        path.write_text(json.dumps({"fields": data}, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path, config: FieldConfig) -> ValueKinds:
        """ValueError naming the file when it is unreadable or names unknown fields or kinds."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))["fields"]
            seen = {str(name): frozenset(str(k) for k in kinds) for name, kinds in data.items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}: not a value-kinds file ({exc})") from None
        names = {f.name for f in config.fields}
        for name, kinds in seen.items():
            if name not in names:
                raise ValueError(f"{path}: unknown field {name!r}")
            if unknown := kinds - set(KINDS):
                raise ValueError(f"{path}: unknown kinds {sorted(unknown)} for {name!r}")
        return cls(seen)


def labelled_values(page: LabeledPage, class_ids: set[int]) -> Iterator[tuple[int, str]]:
    """(class id, text) of each labelled value on ``page`` among ``class_ids``: the words of
    one labelled box (or entity), in reading order."""
    grouped: dict[tuple[int, int | None], list[str]] = {}
    for word, label in zip(page.words, page.labels, strict=True):
        if label.class_id in class_ids:
            entity = label.entity if label.entity is not None else label.box_index
            grouped.setdefault((label.class_id, entity), []).append(word)
    for (class_id, _), words in grouped.items():
        yield class_id, " ".join(words)


def fit_value_kinds(pages: Sequence[LabeledPage], config: FieldConfig) -> ValueKinds:
    """The kinds each amount field's labelled values on ``pages`` were written in (fields
    never labelled are left out: nothing is known of them)."""
    checked = {f.class_id: f.name for f in config.fields if f.normalize in KIND_CHECKED}
    seen: dict[str, set[str]] = {}
    for page in pages:
        for class_id, text in labelled_values(page, set(checked)):
            seen.setdefault(checked[class_id], set()).update(kinds_of(text))
    return ValueKinds({name: frozenset(kinds) for name, kinds in seen.items() if kinds})


def has_kind_checked(config: FieldConfig) -> bool:
    """Whether any reported field is an amount the check is for."""
    return bool(config.reported_ids(*KIND_CHECKED))
