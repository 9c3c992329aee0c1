"""The 年度对比 tab: `reportqa diff` in the browser (qa/diff.py) — one agency, two years, the Markdown diff.

Like the corpus tab, the pickers are filled when the tab is opened, never built into the page (before a login
the page must name no report).
"""

from __future__ import annotations

import gradio as gr

from ingest.errors import ReportQAError
from ingest.store import Store
from qa.diff import diff

HINT = "选择机构和两个年份，比较两年报告：变化的单元格、指标对比、存在的主要问题新增与延续。"


class DiffPage:
    def __init__(self, store: Store) -> None:
        self.store = store

    def build(self, tab: gr.Tab) -> None:
        """Create the widgets inside the current Blocks context; `tab` is the tab they sit in."""
        with gr.Row():
            self.agency = gr.Dropdown(label="对比的机构", choices=[], elem_id="diff-agency")
            self.first = gr.Dropdown(label="对比年份一", choices=[], elem_id="diff-year1")
            self.second = gr.Dropdown(label="对比年份二", choices=[], elem_id="diff-year2")
            self.run = gr.Button("对比", variant="primary", elem_id="diff-run")
        self.output = gr.Markdown(HINT, elem_id="diff-output")
        years = [self.first, self.second]
        tab.select(self.refresh, [self.agency], [self.agency, *years], queue=False, api_visibility="private")
        self.agency.change(self.years, [self.agency], years, queue=False, api_visibility="private")
        self.run.click(self.show, [self.agency, *years], [self.output], api_visibility="private")

    def refresh(self, agency: str | None) -> tuple[gr.Dropdown, gr.Dropdown, gr.Dropdown]:
        agencies = self.store.agencies()
        agency = agency if agency in agencies else (agencies[0] if agencies else None)
        return (gr.Dropdown(choices=agencies, value=agency), *self.years(agency))

    def years(self, agency: str | None) -> tuple[gr.Dropdown, gr.Dropdown]:
        have = sorted((str(r.year) for r in self.store.reports() if r.agency == agency), reverse=True)
        later = have[0] if have else None
        earlier = have[1] if len(have) > 1 else later
        return gr.Dropdown(choices=have, value=earlier), gr.Dropdown(choices=have, value=later)

    def show(self, agency: str | None, first: str | None, second: str | None) -> str:
        if not agency or not first or not second:
            return HINT
        if first == second:
            return "请选择两个不同的年份。"
        try:
            return diff(self.store, agency, int(first), int(second)).to_markdown()
        except ReportQAError as err:
            return f"无法对比：{err}"
