"""The corpus tab: what is ingested, upload of new reports, removal.

Uploads follow `reportqa ingest`'s rules (ingest.pipeline.ingest), with two web-only guards: the
file type and size are checked before anything is copied, and an upload is copied under a generated
name into `$REPORTQA_HOME/uploads`, so a client-chosen file name never becomes a path.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import gradio as gr

from ingest.pipeline import FileResult, PageProgress, ingest
from ingest.readers import READERS
from ingest.store import Store
from ui.web.render import CORPUS_HEADERS, corpus_rows

STATUS = {"added": "新增", "replaced": "替换", "unchanged": "未变", "error": "失败"}


class CorpusPage:
    """Owns the corpus widgets; `changed` is a counter every successful change bumps (others listen to it)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.uploads = store.settings.home / "uploads"

    def build(self) -> None:
        """Create the widgets inside the current Blocks context and wire their events."""
        self.changed = gr.State(0)
        self.table = gr.Dataframe(
            headers=CORPUS_HEADERS, value=corpus_rows(self.store.reports()), label="已入库的报告",
            interactive=False, wrap=True, elem_id="reports",
        )
        with gr.Row():
            with gr.Column():
                self.files = gr.File(
                    label=f"上传报告（{' '.join(sorted(READERS))}，每个文件不超过 "
                    f"{self.store.settings.max_upload_mb} MB）",
                    file_count="multiple", file_types=sorted(READERS), elem_id="upload",
                )
                self.ingest_button = gr.Button("入库", variant="primary", elem_id="ingest")
                self.results = gr.Textbox(label="入库结果", lines=6, interactive=False, elem_id="ingest-results")
            with gr.Column():
                self.choice = gr.Dropdown(label="选择要删除的报告", choices=self._choices(), elem_id="remove-choice")
                self.remove_button = gr.Button("删除所选报告", variant="stop", elem_id="remove")
                self.remove_result = gr.Textbox(label="删除结果", interactive=False)
        # One writer at a time, in its own queue slot, so uploads never take the chat's slots.
        self.ingest_button.click(
            self.ingest_uploads, [self.files, self.changed],
            [self.results, self.files, self.table, self.choice, self.changed],
            concurrency_limit=1, concurrency_id="write", api_name="ingest", show_progress_on=self.results,
        )
        self.remove_button.click(
            self.remove, [self.choice, self.changed], [self.remove_result, self.table, self.choice, self.changed],
            concurrency_limit=1, concurrency_id="write", api_name="remove", show_progress_on=self.remove_result,
        )

    def refresh(self) -> tuple[list[list], gr.Dropdown]:
        """Report table and removal choices as the store has them now (on page load)."""
        return corpus_rows(self.store.reports()), gr.Dropdown(choices=self._choices(), value=None)

    def ingest_uploads(self, files: list[str] | None, changed: int, progress=gr.Progress()) -> tuple:  # noqa: B008
        """Ingest the uploaded files one by one, reporting a line per file."""
        paths = [Path(f) for f in files or []]
        if not paths:
            return "请先选择要上传的文件。", gr.skip(), gr.skip(), gr.skip(), changed
        lines = []
        for i, path in enumerate(paths):
            progress((i, len(paths)), desc=f"正在入库 {path.name}", unit="个文件")

            def page(_copy: Path, done: int, total: int, name: str = path.name) -> None:
                progress((done, total), desc=f"正在识别扫描页 {name}：第 {done}/{total} 页", unit="页")

            lines.append(self.ingest_file(path, page))
        progress((len(paths), len(paths)), desc="完成")
        table, choice = self.refresh()
        return "\n".join(lines), None, table, choice, changed + 1

    def remove(self, report_id: str | None, changed: int) -> tuple:
        if not report_id:
            return "请先选择一份报告。", gr.skip(), gr.skip(), changed
        if not self.store.remove(report_id):
            return f"库中没有 {report_id}（可能已被删除）。", *self.refresh(), changed + 1
        return f"已删除 {report_id}。", *self.refresh(), changed + 1

    def ingest_file(self, upload: Path, pages: PageProgress | None = None) -> str:
        """Check, copy under a generated name, ingest; one result line in `reportqa ingest`'s terms.
        `pages` hears of each page OCR'd."""
        name = upload.name  # what the browser sent: shown, never used to build a path
        suffix = upload.suffix.lower()
        if suffix not in READERS:
            return f"失败 {name}：不支持的文件类型，可上传 {' '.join(sorted(READERS))}"
        limit_mb = self.store.settings.max_upload_mb
        if upload.stat().st_size > limit_mb * 1024 * 1024:
            return f"失败 {name}：文件超过 {limit_mb} MB 的上限"
        self.uploads.mkdir(parents=True, exist_ok=True)
        copy = self.uploads / f"{uuid.uuid4().hex}{suffix}"
        shutil.copyfile(upload, copy)
        [result] = ingest([copy], self.store, source_name=name, pages=pages)
        if result.status == "error":
            copy.unlink(missing_ok=True)
        return _line(name, result)

    def _choices(self) -> list[tuple[str, str]]:
        return [(f"{r.agency} {r.year}（{r.source}）", r.id) for r in self.store.reports()]


def _line(name: str, r: FileResult) -> str:
    if r.status == "error":
        return f"{STATUS[r.status]} {name}：{r.message}"
    return f"{STATUS[r.status]} {name}：{r.report_id}，{r.chunks} 个分块，{r.facts} 个数据单元格；{r.message}"
