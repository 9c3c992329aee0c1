"""The two templates of the report: the 2019 trial format and the 2021 revised format (report-format.md)."""

from __future__ import annotations

from typing import Literal

Template = Literal["2019", "2021"]
T2019: Template = "2019"  # 国办公开办函〔2019〕60号, used for the 2019 and 2020 reports
T2021: Template = "2021"  # 国办公开办函〔2021〕30号, used from the 2021 reports on
TEMPLATES: tuple[Template, ...] = (T2019, T2021)
FIRST_2021_YEAR = 2021  # the first reporting year printed in the revised format


def by_year(year: int) -> Template:
    """The template a report of this reporting year is due to follow."""
    return T2021 if year >= FIRST_2021_YEAR else T2019
