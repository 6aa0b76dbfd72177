"""The document model: load, validate, save and walk Amazon Textract JSON."""

from fieldwise.textract.document import Line, Page, TextractDocument, Word
from fieldwise.textract.errors import TextractFormatError
from fieldwise.textract.geometry import Box

__all__ = ["Box", "Line", "Page", "TextractDocument", "TextractFormatError", "Word"]
