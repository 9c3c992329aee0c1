"""The corpus tab: what is ingested, upload of new reports (with cancel), removal; and the `/reports` and
`/remove` API endpoints.

Uploads follow `reportqa ingest`'s rules (ingest.pipeline.ingest), with two web-only guards: the
file type and size are checked before anything is copied, and an upload is copied under a generated
name into `$REPORTQA_HOME/uploads`, so a client-chosen file name never becomes a path. A committed upload is
kept there named by its content hash; `prune_uploads` deletes the ones no committed report was read from.

"导出总览" writes the overview (one row per report, the main cells: ui/export.py) as XLSX to download.

The report list and the removal choices are filled when a page loads, never built into the page: before a
login the page must not name any report (Gradio embeds the page's API description in it).
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import uuid
from pathlib import Path

import gradio as gr

from ingest.errors import ReportQAError
from ingest.pipeline import FileResult, PageProgress, ingest
from ingest.readers import READERS
from ingest.store import Store
from ui.export import export_folder, overview_sheets, to_xlsx
from ui.web.render import AUDIT_CSS, CORPUS_HEADERS, audit_html, corpus_rows

STATUS = {"added": "新增", "replaced": "替换", "unchanged": "未变", "error": "失败", "cancelled": "已取消"}


def uploads_dir(store: Store) -> Path:
    return store.settings.home / "uploads"


def prune_uploads(store: Store, *, starting: bool = False) -> list[Path]:
    """Delete kept uploads no committed report was read from (removed or replaced since), and when `starting`
    also copies whose ingest never finished (the server stopped mid-ingest); returns what was deleted."""
    folder = uploads_dir(store)
    if not folder.is_dir():
        return []
    committed = {r.content_hash for r in store.reports()}
    stale = [p for p in folder.iterdir()
             if p.is_file() and p.stem not in committed and (starting or len(p.stem) == 64)]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


class CorpusPage:
    """Owns the corpus widgets; `changed` is a counter every successful change bumps (others listen to it)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.uploads = uploads_dir(store)
        self._cancels: dict[str, threading.Event] = {}  # browser session -> its running upload's cancel flag

    def build(self) -> None:
        """Create the widgets inside the current Blocks context and wire their events."""
        self.changed = gr.State(0)
        self.table = gr.Dataframe(
            headers=CORPUS_HEADERS, value=[], label="已入库的报告（点选一行查看该报告的核查结果）", interactive=False,
            wrap=True, elem_id="reports",
        )
        self.audit = gr.HTML("", css_template=AUDIT_CSS, elem_id="audit")
        with gr.Row():
            self.overview_button = gr.Button("导出总览（每份报告一行）", size="sm", elem_id="overview-export")
            self.overview = gr.DownloadButton("下载总览 XLSX", visible=False, size="sm", elem_id="download-overview")
        with gr.Row():
            with gr.Column():
                self.files = gr.File(
                    label=f"上传报告（{' '.join(sorted(READERS))}，每个文件不超过 "
                    f"{self.store.settings.max_upload_mb} MB）",
                    file_count="multiple", file_types=sorted(READERS), elem_id="upload",
                )
                with gr.Row():
                    self.ingest_button = gr.Button("入库", variant="primary", elem_id="ingest")
                    self.cancel_button = gr.Button("取消入库", elem_id="cancel-ingest")
                self.results = gr.Textbox(label="入库结果", lines=6, interactive=False, elem_id="ingest-results")
            with gr.Column():
                self.choice = gr.Dropdown(label="选择要删除的报告", choices=[], elem_id="remove-choice")
                self.remove_button = gr.Button("删除所选报告", variant="stop", elem_id="remove")
                self.remove_result = gr.Textbox(label="删除结果", interactive=False)
        # Uploads embed on the CPU: one at a time, in their own queue slot, so they never take the chat's slots.
        # Removals have their own slot: they never wait for an upload's embedding (Store.put commits last).
        self.ingest_button.click(
            self.ingest_uploads, [self.files, self.changed],
            [self.results, self.files, self.table, self.choice, self.changed],
            concurrency_limit=1, concurrency_id="write", api_name="ingest", show_progress_on=self.results,
        )
        self.cancel_button.click(self.cancel, None, None, queue=False, api_visibility="private")
        self.remove_button.click(
            self.remove, [self.choice, self.changed], [self.remove_result, self.table, self.choice, self.changed],
            concurrency_limit=1, concurrency_id="remove", api_name="remove_selected", api_visibility="private",
            show_progress_on=self.remove_result,
        )
        self.overview_button.click(self.overview_file, None, self.overview, api_visibility="private")
        # Selecting a report (a row of the table, or the removal choice) shows its audit.
        self.table.select(self.show_selected, None, self.audit, queue=False, api_visibility="private")
        self.choice.change(self.show_audit, self.choice, self.audit, queue=False, api_visibility="private")
        gr.api(self.list_reports, api_name="reports")
        gr.api(self.remove_report, api_name="remove", concurrency_limit=1, concurrency_id="remove")

    def show_audit(self, report_id: str | None) -> str:
        """The audit of one report (qa.audit): identity violations, prose against tables, completeness."""
        from qa.audit import audit

        info = next((r for r in self.store.reports() if r.id == report_id), None)
        if info is None:
            return ""
        return audit_html(f"{info.agency} {info.year}（{info.source}）", audit(self.store, info.id))

    def show_selected(self, evt: gr.SelectData) -> str:
        """The audit of the report whose row was selected (the row's agency and year name it)."""
        row = evt.row_value or []
        return self.show_audit(f"{row[0]}:{row[1]}" if len(row) > 1 else None)

    def refresh(self) -> tuple[list[list], gr.Dropdown]:
        """Report table and removal choices as the store has them now (on page load)."""
        return corpus_rows(self.store.reports()), gr.Dropdown(choices=self._choices(), value=None)

    def overview_file(self) -> gr.DownloadButton:
        """The overview of the store as it is now, as an XLSX file to download."""
        path = export_folder(self.store.settings.home) / "reportqa-overview.xlsx"
        path.write_bytes(to_xlsx(overview_sheets(self.store)))
        return gr.DownloadButton(value=str(path), visible=True)

    def ingest_uploads(self, files: list[str] | None, changed: int, request: gr.Request,
                       progress=gr.Progress()) -> tuple:  # noqa: B008
        """Ingest the uploaded files one by one, reporting a line per file; "取消入库" stops it."""
        paths = [Path(f) for f in files or []]
        if not paths:
            return "请先选择要上传的文件。", gr.skip(), gr.skip(), gr.skip(), changed
        cancel = self._cancels[request.session_hash] = threading.Event()
        try:
            lines = []
            for i, path in enumerate(paths):
                progress((i, len(paths)), desc=f"正在入库 {path.name}", unit="个文件")

                def page(_copy: Path, done: int, total: int, name: str = path.name) -> None:
                    progress((done, total), desc=f"正在识别扫描页 {name}：第 {done}/{total} 页", unit="页")

                lines.append(self.ingest_file(path, cancel, page))
        finally:
            self._cancels.pop(request.session_hash, None)
        progress((len(paths), len(paths)), desc="完成")
        table, choice = self.refresh()
        return "\n".join(lines), None, table, choice, changed + 1

    def cancel(self, request: gr.Request) -> None:
        """Stop this browser's running upload: the file being embedded and those after it are not stored."""
        if (running := self._cancels.get(request.session_hash)) is not None:
            running.set()

    def remove(self, report_id: str | None, changed: int) -> tuple:
        if not report_id:
            return "请先选择一份报告。", gr.skip(), gr.skip(), changed
        return self.remove_report(report_id), *self.refresh(), changed + 1

    def list_reports(self) -> list[dict]:
        """The ingested reports: id (what /remove takes), agency, year, source file, chunks and facts."""
        return [{"id": r.id, "agency": r.agency, "year": r.year, "source": r.source, "chunks": r.chunks,
                 "facts": r.facts} for r in self.store.reports()]

    def remove_report(self, report_id: str) -> str:
        """Remove a report (its id `AGENCY:YEAR`, as /reports lists it) everywhere; says what happened."""
        kept = {r.id: r.content_hash for r in self.store.reports()}.get(report_id)
        try:
            removed = self.store.remove(report_id)
        except ReportQAError as err:
            return f"无法删除 {report_id}：{err}"
        if not removed:
            return f"库中没有 {report_id}（可能已被删除）。"
        for upload in self.uploads.glob(f"{kept}.*"):
            upload.unlink(missing_ok=True)
        return f"已删除 {report_id}。"

    def ingest_file(
        self, upload: Path, cancel: threading.Event | None = None, pages: PageProgress | None = None
    ) -> str:
        """Check, copy under a generated name, ingest; one result line in `reportqa ingest`'s terms.
        `pages` hears of each page OCR'd."""
        name = upload.name  # what the browser sent: shown, never used to build a path
        suffix = upload.suffix.lower()
        if suffix not in READERS:
            return f"失败 {name}：不支持的文件类型，可上传 {' '.join(sorted(READERS))}"
        limit_mb = self.store.settings.max_upload_mb
        if upload.stat().st_size > limit_mb * 1024 * 1024:
            return f"失败 {name}：文件超过 {limit_mb} MB 的上限"
        if cancel is not None and cancel.is_set():
            return f"{STATUS['cancelled']} {name}：未入库"
        self.uploads.mkdir(parents=True, exist_ok=True)
        copy = self.uploads / f"{uuid.uuid4().hex}{suffix}"
        shutil.copyfile(upload, copy)
        try:
            [result] = ingest([copy], self.store, source_name=name, cancel=cancel, pages=pages)
        except ReportQAError as err:  # the store itself failed (read-only, damaged)
            copy.unlink(missing_ok=True)
            return f"{STATUS['error']} {name}：{err}"
        if result.status in ("added", "replaced"):
            with copy.open("rb") as file:
                content_hash = hashlib.file_digest(file, "sha256").hexdigest()
            copy.replace(self.uploads / f"{content_hash}{suffix}")
            prune_uploads(self.store)  # the upload a replaced report was read from
        else:
            copy.unlink(missing_ok=True)
        return _line(name, result)

    def _choices(self) -> list[tuple[str, str]]:
        return [(f"{r.agency} {r.year}（{r.source}）", r.id) for r in self.store.reports()]


def _line(name: str, r: FileResult) -> str:
    if r.status in ("error", "cancelled"):
        return f"{STATUS[r.status]} {name}：{r.message}"
    return f"{STATUS[r.status]} {name}：{r.report_id}，{r.chunks} 个分块，{r.facts} 个数据单元格；{r.message}"
