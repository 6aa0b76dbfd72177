"""The error raised for Textract JSON that cannot be used, naming the file, block and problem."""


class TextractFormatError(ValueError):
    """Textract JSON is malformed; ``problems`` lists each one as "block N (Id, TYPE): what"."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        shown = "; ".join(problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"{source}: invalid Textract JSON: {shown}{more}")
