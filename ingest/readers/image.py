"""Image files of a report (`.png`, `.jpg`, `.tif`: a scan saved page by page, or a photographed page), read by
OCR. A multi-frame TIFF is one page per frame."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageSequence, UnidentifiedImageError

from ingest.assemble import assemble
from ingest.draft import Draft, load
from ingest.errors import IngestError
from ingest.model import Report
from ingest.readers.scan import Progress, scan_page

MAX_PIXELS = 80_000_000  # a 600 dpi A3 page is 70 Mpx; beyond this the file is no page scan (or a bomb)


def read(
    path: Path, *, agency: str | None = None, year: int | None = None, progress: Progress | None = None
) -> Report:
    path = Path(path)
    data = load(path)
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise IngestError(path.name, f"image of {image.width}×{image.height} pixels is too large for a page")
            frames = [frame.convert("RGB") for frame in ImageSequence.Iterator(image)]
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise IngestError(path.name, f"not an image Pillow can read ({error})") from error
    draft = Draft(path=path, data=data, source_format="image")
    for number, frame in enumerate(frames, start=1):
        scan_page(draft, number, frame)
        if progress:
            progress(number, len(frames))
    if not draft.lines:
        raise IngestError(path.name, "OCR read no text in the image")
    return assemble(draft, agency=agency, year=year)
