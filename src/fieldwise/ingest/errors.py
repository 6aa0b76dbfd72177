"""The one error type of ingest: a reason a person understands, and the stage that failed."""


class IngestError(Exception):
    """A document cannot be ingested. ``stage`` is one of detect, open, page, textract, write."""

    def __init__(self, reason: str, stage: str = "open") -> None:
        super().__init__(reason)
        self.reason = reason
        self.stage = stage
