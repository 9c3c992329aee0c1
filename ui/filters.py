"""The agency filter of `reportqa ask --agency` and of the web API's `/ask`, checked against the store.

The engine reads a filter as a fact about the question; an agency the store does not hold would come back as
"no report for AGENCY" with an empty list of what there is. Refused here instead, naming what there is.
"""

from __future__ import annotations

from ingest.errors import ReportQAError
from ingest.store import Store


def check_agency(store: Store, agency: str | None) -> None:
    """Raise ReportQAError when `agency` is given and no report of the store is that agency's."""
    if not agency:
        return
    agencies = store.agencies()
    if agency not in agencies:
        raise ReportQAError(f"no agency {agency!r} in the store; agencies: {'、'.join(agencies) or 'none yet'}")
