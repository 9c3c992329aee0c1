"""The project's own errors: each names the file (or setting) and the reason, so the CLI and UI
can show it as is."""

from __future__ import annotations


class ReportQAError(Exception):
    """Base of every error the project raises on purpose."""


class IngestError(ReportQAError):
    """A file could not be ingested; the store is unchanged for it."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class UnsupportedFormat(IngestError):
    """The file is none of the formats a reader exists for."""


class NotAReport(IngestError):
    """The file reads, but is not a filled-in annual report (news page, blank template)."""


class MissingMetadata(IngestError):
    """Agency or year could not be found; `--agency/--year` can supply them."""


class IndexMismatch(ReportQAError):
    """The store was built with another embedding model, or another runtime, than the one configured."""


class StoreError(ReportQAError):
    """The store cannot be used as asked (unwritable, damaged, lost); the message names the path and the remedy."""


class Cancelled(ReportQAError):
    """A write was cancelled by its user; the store is as it was before it."""
