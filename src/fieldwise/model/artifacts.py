"""The model folder: everything needed to run a trained model, and nothing fetched from anywhere.

``MODEL/`` holds the Hugging Face weights and config (``config.json``, ``model.safetensors``),
the tokenizer, ``fields.yaml`` (the field configuration it was trained for), ``fieldwise.json``
(label scheme, window, feature version, base model, the exact command), ``metrics.json``
(training history), ``links.json`` (the entity-boundary model decoding weighs in,
:mod:`fieldwise.model.links`), the votes field building weighs in (:mod:`fieldwise.fields.votes`:
``row_labels.json`` for rates and fees, ``name_heads.json`` for names, ``value_kinds.json`` for
fees), ``activation_ranges.safetensors`` (what int8 export smooths by,
:mod:`fieldwise.model.smoothing`), ``calibration_windows.safetensors`` (the 64 training windows
int8 export rounds the weights on, :mod:`fieldwise.model.gptq`) and, after ``export-onnx``,
``model.onnx`` / ``model.int8.onnx``.

Example::

    loaded = load_model_folder("models/funsd")
    loaded.info.scheme, loaded.fields.class_names
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError
from transformers import AutoTokenizer, PreTrainedTokenizerBase

from fieldwise.annotate.dataset import LabeledPage
from fieldwise.fields.config import FieldConfig, load_fields
from fieldwise.model.encode import EncodeOptions
from fieldwise.model.features import FEATURES_VERSION
from fieldwise.model.links import LinkModel, load_links
from fieldwise.model.scheme import Decoder, Scheme, label_names
from fieldwise.model.taggers import LayoutTagger, tagger_class

INFO_FILE = "fieldwise.json"
FIELDS_FILE = "fields.yaml"
METRICS_FILE = "metrics.json"


class ModelFolderError(ValueError):
    """A model folder that cannot be used; the message names the folder and the reason."""


class ModelInfo(BaseModel):
    """What ``fieldwise`` needs besides the weights to run a model the way it was trained."""

    format_version: int = 1
    scheme: Scheme
    class_names: list[str]
    label_names: list[str]
    max_length: int
    stride: int
    label_all_tokens: bool
    layout_features: bool
    row_context: bool = False  # the model reads each token's row context (older models do not)
    keep_lines: bool = False  # decode each LINE as one entity (the training lines never split one)
    decoder: Decoder = "viterbi"  # chosen on validation pages by ``train`` (older: viterbi)
    features_version: int = FEATURES_VERSION
    base_model: str
    command: str = ""
    #: the fields labelled on enough training documents (``trained_class_names``) to be
    #: reported; None: not recorded (older folders)
    trained_classes: list[str] | None = None
    #: per field, how many training documents hold a word labelled with it; None: not recorded
    class_documents: dict[str, int] | None = None

    @property
    def untrained_classes(self) -> list[str]:
        """Fields the model saw on too few documents to have learned them: it only guesses."""
        if self.trained_classes is None:
            return []
        return [c for c in self.class_names[:-1] if c not in self.trained_classes]

    @property
    def encode_options(self) -> EncodeOptions:
        return EncodeOptions(self.max_length, self.stride, self.label_all_tokens, self.row_context)


@dataclass(frozen=True)
class LoadedModel:
    model: LayoutTagger
    tokenizer: PreTrainedTokenizerBase
    fields: FieldConfig
    info: ModelInfo
    path: Path
    links: LinkModel | None = None  # entity-boundary model (folders trained before: None)


def make_info(
    scheme: Scheme,
    fields: FieldConfig,
    encode: EncodeOptions,
    layout_features: bool,
    base_model: str,
    command: str,
    keep_lines: bool = False,
    trained_classes: list[str] | None = None,
    class_documents: dict[str, int] | None = None,
) -> ModelInfo:
    return ModelInfo(
        trained_classes=trained_classes,
        class_documents=class_documents,
        keep_lines=keep_lines,
        scheme=scheme,
        class_names=fields.class_names,
        label_names=label_names(scheme, fields.class_names),
        max_length=encode.max_length,
        stride=encode.stride,
        label_all_tokens=encode.label_all_tokens,
        row_context=encode.row_context,
        layout_features=layout_features,
        base_model=base_model,
        command=command,
    )


def save_model_folder(
    out: Path,
    model: LayoutTagger,
    tokenizer: PreTrainedTokenizerBase,
    fields: FieldConfig,
    info: ModelInfo,
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    fields.save(out / FIELDS_FILE)
    save_info(out, info)
    (out / "command.txt").write_text(info.command + "\n", encoding="utf-8")


def save_info(folder: Path, info: ModelInfo) -> None:
    """Write the folder's ``fieldwise.json``."""
    (folder / INFO_FILE).write_text(info.model_dump_json(indent=2), encoding="utf-8")


def load_info(path: str | Path) -> tuple[ModelInfo, FieldConfig]:
    """The folder's ``fieldwise.json`` and field configuration, checked against each other."""
    folder = Path(path)
    if not folder.is_dir():
        raise ModelFolderError(f"{folder}: model folder not found")
    info_path = folder / INFO_FILE
    if not info_path.is_file():
        raise ModelFolderError(f"{folder}: no {INFO_FILE}; not a model made by `fieldwise train`")
    try:
        info = ModelInfo.model_validate_json(info_path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise ModelFolderError(f"{info_path}: invalid ({exc.errors()[0]['msg']})") from None
    if info.features_version != FEATURES_VERSION:
        raise ModelFolderError(
            f"{folder}: trained with layout features v{info.features_version}, this fieldwise "
            f"computes v{FEATURES_VERSION}; retrain the model"
        )
    fields = load_fields(folder / FIELDS_FILE)
    if fields.class_names != info.class_names:
        raise ModelFolderError(
            f"{folder}: {FIELDS_FILE} classes {fields.class_names} differ from the model's "
            f"{info.class_names}"
        )
    return info, fields


def load_model_folder(path: str | Path) -> LoadedModel:
    """Weights, tokenizer, fields and info of a trained model, ready for inference."""
    folder = Path(path)
    info, fields = load_info(folder)
    try:
        model_type = json.loads((folder / "config.json").read_text())["model_type"]
        model = tagger_class(model_type).from_pretrained(str(folder))
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
    except (OSError, ValueError, KeyError) as exc:
        raise ModelFolderError(f"{folder}: cannot load the weights or tokenizer ({exc})") from None
    if model.config.num_labels != len(info.label_names):
        raise ModelFolderError(
            f"{folder}: the weights have {model.config.num_labels} labels, {INFO_FILE} names "
            f"{len(info.label_names)}"
        )
    model.eval()
    # the weights decide whether row context is fed (folders saved before the info said so)
    info = info.model_copy(update={"row_context": model.row_context is not None})
    try:
        links = load_links(folder)
    except ValueError as exc:
        raise ModelFolderError(str(exc)) from None
    return LoadedModel(model, tokenizer, fields, info, folder, links)


#: A field labelled on fewer training documents than this (or than there are, when there are
#: fewer) is reported ``NotTrained``: learned from one template's wording, the tagger's calls
#: on new issuers are guesses. The introductory APR, labelled in two Chase agreements, made 7
#: wrong values and no right one on other issuers (README, fields benchmark).
MIN_FIELD_DOCUMENTS = 3


def class_documents(pages: Sequence[LabeledPage], fields: FieldConfig) -> dict[str, int]:
    """{field: how many documents of ``pages`` hold a word labelled with it}, in class order."""
    found: dict[int, set[str]] = {}
    for page in pages:
        for class_id in {label.class_id for label in page.labels}:
            found.setdefault(class_id, set()).add(page.document)
    names = fields.class_names[:-1]
    return {name: len(found.get(i, ())) for i, name in enumerate(names)}


def trained_class_names(pages: Sequence[LabeledPage], fields: FieldConfig) -> list[str]:
    """The fields labelled on at least ``MIN_FIELD_DOCUMENTS`` of ``pages``' documents (all of
    them when there are fewer), in class order."""
    needed = max(1, min(MIN_FIELD_DOCUMENTS, len({p.document for p in pages})))
    return [name for name, n in class_documents(pages, fields).items() if n >= needed]


def reported_untrained(info: ModelInfo, fields: FieldConfig) -> list[str]:
    """The fields a user is told are ``NotTrained``: the untrained ones that are reported
    (``ignore`` fields never are, trained or not)."""
    ignored = {f.name for f in fields.fields if f.ignore}
    return [c for c in info.untrained_classes if c not in ignored]


def check_fields_match(loaded_classes: list[str], fields: FieldConfig, where: str) -> None:
    """Refuse data labelled for other fields than the model's."""
    if fields.class_names != loaded_classes:
        raise ModelFolderError(
            f"{where}: fields {fields.class_names} do not match the model's {loaded_classes}"
        )


def read_metrics(folder: Path) -> dict[str, object]:
    path = folder / METRICS_FILE
    return json.loads(path.read_text()) if path.exists() else {}
