"""The chat tab: question box, conversation, and beside it the sources of the latest (or clicked) answer;
and the `/ask` API endpoint.

The page consumes the engine's event stream (qa/model.py `AnswerEvent`): text is streamed into the
chatbot, citations and chart points are collected and drawn when the answer is complete. Each browser
session keeps its own turns in a `gr.State`; the engine and store are shared by all sessions.

The chat's events are private: its pickers accept only the choices the page offered and its messages are
HTML-escaped for the chatbot. API clients get `/ask` instead: plain text, any filter value, checked here.

An answer that cites table cells (a fact, several cells, a comparison, a series, a ranking) can be downloaded
as CSV and XLSX (ui/export.py); the files are written under $REPORTQA_HOME/gradio/exports and removed after
an hour.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import gradio as gr

from ingest.errors import ReportQAError
from ingest.model import Fact, Violation
from ingest.readers.scan.page import cell_crop
from ingest.store import Store
from qa import Engine
from qa.model import Answer, Citation
from ui.export import answer_sheets, export_folder, to_csv, to_xlsx
from ui.filters import check_agency
from ui.web.render import SOURCES_CSS, answer_text, chart_frame, sources_html

log = logging.getLogger(__name__)

EXAMPLES = [
    "how many administrative penalties in 2021",
    "2021年行政处罚多少件？",
    "2021年收到多少政府信息公开申请？",
    "行政复议的结果如何？",
    "历年行政许可决定数量的变化趋势",
    "政府信息公开工作存在哪些主要问题？",
]
ALL = ""  # dropdown value meaning "no filter"
IDLE_SOURCES = '<p class="src-empty">提问后，这里显示回答引用的表格与原文。</p>'
EXPORT_MAX_AGE_S = 3600  # exported files are kept this long (a session's older answers may be downloaded again)


class ChatPage:
    """Owns the chat widgets; `refresh_filters` is what the corpus tab triggers after a change."""

    def __init__(self, store: Store, engine: Engine) -> None:
        self.store = store
        self.engine = engine

    def build(self) -> None:
        """Create the widgets inside the current Blocks context and wire their events."""
        self.turns = gr.State([])  # per session: one dict per answered question (see _turn)
        with gr.Row():
            with gr.Column(scale=3):
                with gr.Row():
                    self.agency = gr.Dropdown(label="机构", choices=[("全部机构", ALL)], value=ALL)
                    self.year = gr.Dropdown(label="年份", choices=[("全部年份", ALL)], value=ALL)
                self.chatbot = gr.Chatbot(
                    label="对话", height=520, elem_id="chat", render_markdown=False, allow_tags=False,
                    buttons=["copy"], feedback_options=None,
                    placeholder="请就已入库的政府信息公开年度报告提问，回答会给出所依据的表格单元格。",
                )
                with gr.Row():
                    self.question = gr.Textbox(
                        show_label=False, placeholder="例如：2021年行政处罚多少件？", scale=5, elem_id="question",
                        submit_btn=False, autofocus=True,
                    )
                    self.send = gr.Button("发送", variant="primary", scale=1, elem_id="send")
                gr.Examples(EXAMPLES, inputs=[self.question], label="示例问题")
                self.clear = gr.Button("清空对话", size="sm")
            with gr.Column(scale=2):
                gr.Markdown("### 来源")
                with gr.Row():
                    self.csv = gr.DownloadButton("下载 CSV", visible=False, size="sm", elem_id="download-csv")
                    self.xlsx = gr.DownloadButton("下载 XLSX", visible=False, size="sm", elem_id="download-xlsx")
                self.sources = gr.HTML(IDLE_SOURCES, css_template=SOURCES_CSS, elem_id="sources", js_on_load=None)
                self.line = gr.LinePlot(
                    x="label", y="value", visible=False, label="趋势", x_title="年份", y_title="数值", y_lim=[0, None]
                )
                self.bar = gr.BarPlot(x="label", y="value", visible=False, label="比较", x_title="", y_title="数值")
        outputs = [self.chatbot, self.question, self.turns, self.sources, self.line, self.bar, self.csv, self.xlsx]
        shown = [self.sources, self.line, self.bar, self.csv, self.xlsx]
        inputs = [self.question, self.chatbot, self.turns, self.agency, self.year]
        gr.on(
            [self.question.submit, self.send.click], self.respond, inputs, outputs, api_visibility="private",
            concurrency_id="ask", show_progress_on=[self.sources],
        )
        gr.api(self.ask, api_name="ask", concurrency_id="ask")
        self.chatbot.select(self.show_turn, [self.turns], shown, api_visibility="private")
        self.clear.click(
            lambda: ([], "", [], IDLE_SOURCES, gr.LinePlot(visible=False), gr.BarPlot(visible=False),
                     gr.DownloadButton(visible=False), gr.DownloadButton(visible=False)),
            None, outputs, queue=False, api_visibility="private",
        )

    def refresh_filters(self, agency: str, year: str) -> tuple[gr.Dropdown, gr.Dropdown]:
        """Picker choices from the reports now in the store, keeping the current picks that still exist."""
        reports = self.store.reports()
        agencies = sorted({r.agency for r in reports})
        years = sorted({str(r.year) for r in reports}, reverse=True)
        return (
            gr.Dropdown(choices=[("全部机构", ALL), *agencies], value=agency if agency in agencies else ALL),
            gr.Dropdown(choices=[("全部年份", ALL), *years], value=year if year in years else ALL),
        )

    def ask(self, question: str, agency: str = "", year: int | None = None) -> dict:
        """Answer one question, optionally for one agency and year: the `reportqa ask --json` object (answer
        text, kind, value, citations with their cells, chart points)."""
        try:
            check_agency(self.store, agency)
            return self.engine.answer(question, agency=agency or None, year=year).to_json()
        except ReportQAError as err:
            raise gr.Error(str(err)) from err

    def respond(
        self, question: str, messages: list[dict], turns: list[dict], agency: str, year: str
    ) -> Iterator[tuple]:
        """Stream one answer into the chat, then show its sources and chart."""
        question = (question or "").strip()
        if not question:
            yield messages, "", turns, *[gr.skip()] * 5
            return
        history = [t["question"] for t in turns]
        messages = [*messages, {"role": "user", "content": answer_text(question)},
                    {"role": "assistant", "content": "…"}]
        hidden = gr.DownloadButton(visible=False)
        yield messages, "", turns, '<p class="src-empty">正在查找…</p>', gr.skip(), gr.skip(), hidden, hidden
        text, citations, points, kind, value = "", [], (), "", None
        try:
            check_agency(self.store, agency)  # removed since the page offered it
            for event in self.engine.answer_stream(
                question, history, agency=agency or None, year=int(year) if year else None
            ):
                if event.channel == "text":
                    text += event.text
                    messages[-1] = {"role": "assistant", "content": answer_text(text)}
                    yield messages, "", turns, *[gr.skip()] * 5
                elif event.channel == "citation" and event.citation is not None:
                    citations.append(event.citation)
                elif event.channel == "chart":
                    points = event.points
                elif event.channel == "kind":
                    kind = event.text
                elif event.channel == "value":
                    value = event.text
        except ReportQAError as err:
            text = f"{text}\n\n无法回答：{err}".strip()
        except Exception:  # a broken answer must not break the session; the log keeps the trace
            log.exception("answering %r failed", question)
            text = f"{text}\n\n回答时出现内部错误，请换个问法或稍后再试。".strip()
        messages[-1] = {"role": "assistant", "content": answer_text(text)}
        answer = Answer(question, text, kind or "refusal", value, citations, tuple(points))  # type: ignore[arg-type]
        turn = {"question": question, "sources": self._sources(citations), "kind": kind, "points": list(points),
                "exports": self._export(answer)}
        turns = [*turns, turn]
        yield (messages, "", turns, *_turn_outputs(turn))

    def show_turn(self, turns: list[dict], evt: gr.SelectData) -> tuple:
        """Clicking a message shows the sources of that question's answer."""
        index = evt.index if isinstance(evt.index, int) else evt.index[0]
        if not turns or index // 2 >= len(turns):
            return (gr.skip(),) * 5
        return _turn_outputs(turns[index // 2])

    def _sources(self, citations: list[Citation]) -> str:
        tables: dict[tuple[str, str], list[Fact]] = {}
        violations: dict[str, list[Violation]] = {}
        for c in citations:
            if c.table_key and (c.report_id, c.table_key) not in tables:
                tables[(c.report_id, c.table_key)] = self.store.facts(report_id=c.report_id, table=c.table_key)
            if c.report_id not in violations:
                violations[c.report_id] = self.store.violations(c.report_id)
        reports = {r.id: r for r in self.store.reports()}
        return sources_html(citations, tables, reports, violations, self._crops(citations, tables))

    def _export(self, answer: Answer) -> dict[str, str]:
        """The answer's table as CSV and XLSX files ({} for an answer without cells); older exports go."""
        try:
            sheets = answer_sheets(answer, self.store)
        except Exception:  # the answer is shown either way; the log keeps the trace
            log.exception("exporting the answer to %r failed", answer.question)
            return {}
        if sheets is None:
            return {}
        folder = export_folder(self.store.settings.home, EXPORT_MAX_AGE_S)
        (folder / "reportqa-answer.csv").write_bytes(to_csv(sheets[0]))
        (folder / "reportqa-answer.xlsx").write_bytes(to_xlsx(sheets))
        return {"csv": str(folder / "reportqa-answer.csv"), "xlsx": str(folder / "reportqa-answer.xlsx")}

    def _crops(self, citations: list[Citation], tables: dict[tuple[str, str], list[Fact]]) -> dict:
        """The scanned image of each cited cell that was read by OCR (its fact has a box on a stored page)."""
        crops = {}
        for c in citations:
            cell = next((f for f in tables.get((c.report_id, c.table_key), ())
                         if (f.row, f.column) == (c.row_key, c.column_key)), None)
            if cell is None or cell.ref.box is None or cell.ref.page is None:
                continue
            page = self.store.page_image(c.report_id, cell.ref.page)
            if page is not None:
                crops[(c.report_id, c.table_key, c.row_key, c.column_key)] = cell_crop(page, cell.ref.box)
        return crops


def _turn_outputs(turn: dict) -> tuple:
    """Sources HTML, line plot, bar plot and the two download buttons for one answered question."""
    points = [tuple(p) for p in turn["points"]]
    frame = chart_frame(points)
    trend = bool(points) and turn["kind"] == "trend"
    compare = bool(points) and not trend
    exports = {k: v for k, v in turn.get("exports", {}).items() if Path(v).exists()}
    return (
        turn["sources"],
        gr.LinePlot(value=frame, visible=trend),
        gr.BarPlot(value=frame, visible=compare),
        gr.DownloadButton(value=exports.get("csv"), visible="csv" in exports),
        gr.DownloadButton(value=exports.get("xlsx"), visible="xlsx" in exports),
    )

