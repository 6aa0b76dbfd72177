"""fieldwise: documents in, Textract-compatible JSON and fields out, on your own machine."""

__version__ = "0.1.0"
