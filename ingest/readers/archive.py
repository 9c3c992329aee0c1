"""Zip bomb checks for every zip archive a reader opens (a .docx is one), made from the central directory
before any member is inflated.

The limits bound the archive as a whole, not only each member: a .docx whose relationships point at
hundreds of parts, each small enough alone, inflates as surely as one huge part (python-docx loads every
related part into memory). Checking declared sizes is enough because Python's `zipfile` never inflates a
member past the size its directory entry declares: a lying entry fails its CRC check instead of growing.
"""

from __future__ import annotations

import zipfile
from typing import IO

from ingest.errors import IngestError

MAX_MEMBERS = 1000  # a Word report has 10-50 parts; one with every chart and picture a few hundred
MAX_TOTAL = 128 * 2**20  # bytes inflated in all: a long report's document.xml is a few MB, pictures stay small
MAX_RATIO = 100  # XML compresses about 10:1, pictures about 1:1; far beyond that is padding
_RATIO_FLOOR = 2**20  # below this many inflated bytes a member (or archive) may compress as well as it likes


def check_archive(file: IO[bytes], source: str) -> None:
    """Refuse (IngestError naming `source` and the limit) an archive that would inflate beyond what any
    report needs: too many members, too many bytes in all, or compressed far better than documents are."""
    with zipfile.ZipFile(file) as archive:
        members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise IngestError(source, f"zip archive has {len(members)} members (at most {MAX_MEMBERS}): refused as "
                          "a zip bomb")
    total = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members)
    if total > MAX_TOTAL:
        raise IngestError(source, f"zip archive would inflate to {_mb(total)} in {len(members)} members (at most "
                          f"{_mb(MAX_TOTAL)}): refused as a zip bomb")
    for name, inflated, compressed in (("zip archive", total, packed),
                                       *((f"zip member {m.filename}", m.file_size, m.compress_size) for m in members)):
        ratio = inflated / max(compressed, 1)
        if inflated > _RATIO_FLOOR and ratio > MAX_RATIO:
            raise IngestError(source, f"{name} would inflate to {_mb(inflated)} ({ratio:.0f}:1 compression, at "
                              f"most {MAX_RATIO}:1): refused as a zip bomb")


def _mb(size: int) -> str:
    return f"{size / 2**20:.0f} MB"
