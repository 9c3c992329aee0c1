"""`reportqa`: a thin click layer over library calls. Each command parses, calls, prints.

Heavy imports (torch, chromadb, gradio) happen inside the commands so `--help` stays instant.
Every `ReportQAError` becomes a `click.ClickException` in one place (`main`).
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

import click

from ingest.errors import ReportQAError
from ingest.settings import Settings, describe

for _name, _value in (
    ("HF_HUB_OFFLINE", "1"),
    ("TRANSFORMERS_OFFLINE", "1"),
    ("GRADIO_ANALYTICS_ENABLED", "False"),
    ("ANONYMIZED_TELEMETRY", "False"),
):
    os.environ.setdefault(_name, _value)


def _store():
    from ingest.store import Store

    return Store(Settings())


@click.group(
    epilog="Settings come from the environment: "
    + "; ".join(f"{env} ({help_})" for env, _, help_ in describe())
)
def cli() -> None:
    """Cited answers from Chinese government information-disclosure annual reports."""


@cli.command()
def model() -> None:
    """Materialize the offline multilingual embedding model and export it to OpenVINO (run once by `make setup`)."""
    from ingest.embeddings import checksum, prepare

    path, exported = prepare(Settings())
    click.echo(f"model ready: {path} (checksum {checksum(path)})")
    if isinstance(exported, Path):
        click.echo(f"OpenVINO export ready: {exported} (the default runtime)")
    else:
        click.echo(f"OpenVINO export failed, the default runtime stays torch: {exported}", err=True)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--agency", help="agency name, when the file does not state it")
@click.option("--year", type=int, help="reporting year, when the file does not state it")
@click.option("--workers", type=click.IntRange(min=1), default=os.cpu_count() or 1, show_default="cores",
              help="processes that read files ahead while others are embedded; 1 reads in this process")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per file")
def ingest(paths: tuple[Path, ...], agency: str | None, year: int | None, workers: int, as_json: bool) -> None:
    """Ingest report files or folders (txt, html, pdf, docx, md; scans as pdf, docx, png, jpg, tif, read by
    OCR with a line per page). Exit 1 if any file failed."""
    from tqdm import tqdm

    from ingest.pipeline import expand
    from ingest.pipeline import ingest as run

    store = _store()
    store.require_writable()
    files = expand(paths)
    results: list = []
    interrupted = False
    started = time.monotonic()
    # On stderr, and only on a terminal: stdout (--json) stays one result per line.
    with tqdm(total=len(files), unit="file", desc="ingesting", file=sys.stderr, disable=None) as bar:
        def page(path: Path, read: int, total: int) -> None:
            bar.write(f"  OCR {path.name}: page {read}/{total}", file=sys.stderr)

        def done(result) -> None:
            results.append(result)
            chunks = sum(r.chunks for r in results if r.status in ("added", "replaced"))
            bar.set_postfix_str(f"{chunks / (time.monotonic() - started):.1f} chunks/s", refresh=False)
            bar.update(1)

        try:
            run(files, store, agency=agency, year=year, progress=done, pages=page, workers=workers)
        except KeyboardInterrupt:  # the store dropped what the file being ingested had written (Store.put)
            interrupted = True
    for r in results:
        if as_json:
            click.echo(json.dumps(asdict(r), ensure_ascii=False))
        else:
            detail = f"{r.chunks} chunks, {r.facts} facts; {r.message}" if r.status != "error" else r.message
            click.echo(f"{r.status:9} {r.path}: {detail}")
    failed = sum(r.status == "error" for r in results)
    counts = {s: sum(r.status == s for r in results) for s in ("added", "replaced", "unchanged", "error")}
    click.echo(", ".join(f"{n} {s}" for s, n in counts.items()), err=True)
    if interrupted:
        left = files[len(results):]
        where = f"while ingesting {left[0]}: nothing of it was stored" if left else "after the last file"
        click.echo(f"interrupted (Ctrl-C) {where}, the store is as it was before it; {max(len(left) - 1, 0)} file(s) "
                   "after it were not read", err=True)
        sys.exit(130)
    if failed:
        sys.exit(1)


@cli.command(name="list")
@click.option("--json", "as_json", is_flag=True)
def list_reports(as_json: bool) -> None:
    """List ingested reports."""
    reports = _store().reports()
    if as_json:
        from ui.views import report_json

        click.echo(json.dumps([report_json(r) for r in reports], ensure_ascii=False, indent=1))
        return
    for r in reports:
        click.echo(f"{r.id}\t{r.source_format}\t{r.source}\t{r.chunks} chunks\t{r.facts} facts")


@cli.command()
@click.argument("report_id")
def remove(report_id: str) -> None:
    """Remove a report (id `AGENCY:YEAR`, as `reportqa list` shows) everywhere."""
    if not _store().remove(report_id):
        raise click.ClickException(f"no report {report_id!r} in the store (see `reportqa list`)")
    click.echo(f"removed {report_id}")


@cli.command()
@click.option("--agency")
@click.option("--year", type=int)
@click.option("--table", help="schema table key, e.g. enforcement, requests, review")
@click.option("--csv", "as_csv", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False, path_type=Path),
              help="write an XLSX workbook here: the cells (values as numbers) and the reports they come from")
def facts(agency: str | None, year: int | None, table: str | None, as_csv: bool, as_json: bool,
          xlsx: Path | None) -> None:
    """Print extracted table cells with their provenance."""
    from ui.views import fact_json

    store = _store()
    found = store.facts(agency=agency, year=year, table=table)
    if xlsx:
        from ui.export import facts_sheets, write

        write(facts_sheets(found, store.reports()), xlsx)
        click.echo(f"wrote {len(found)} cells to {xlsx}", err=True)
        return
    rows = [fact_json(f) for f in found]
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
    elif as_csv:
        if rows:
            writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    else:
        for r in rows:
            click.echo(f"{r['report_id']}\t{r['table']}\t{r['row']}\t{r['column']}\t{r['raw']!r}\t{r['status']}")


@cli.command()
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False, path_type=Path),
              help="write an XLSX workbook here (the overview, the reports, what each column is)")
@click.option("--csv", "as_csv", is_flag=True, help="the overview as CSV on stdout")
def overview(xlsx: Path | None, as_csv: bool) -> None:
    """One row per report: agency, year and the main cells (主动公开, 依申请, 行政复议, 行政诉讼) as numbers."""
    from ui.export import overview_sheets, to_csv, write

    sheets = overview_sheets(_store())
    if xlsx:
        write(sheets, xlsx)
        click.echo(f"wrote {len(sheets[0].rows)} reports to {xlsx}", err=True)
    elif as_csv:
        sys.stdout.buffer.write(to_csv(sheets[0]).removeprefix(b"\xef\xbb\xbf"))
    else:
        table = sheets[0]
        click.echo("\t".join(table.headers))
        for row in table.rows:
            click.echo("\t".join("" if v is None else str(v) for v in row))


@cli.command()
@click.argument("report_id", required=False)
@click.option("--repair", is_flag=True, help="set a damaged database aside and drop vectors no report owns first")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per report: coverage, violations, findings")
def check(report_id: str | None, repair: bool, as_json: bool) -> None:
    """Per report: cells found/expected, ambiguous cells, identity violations, and the audit's findings
    (identities, prose against tables, completeness) with the sentence and the cells of each."""
    from ui.views import check_json, check_lines

    if repair:
        from ingest.store import repair as run_repair

        for line in run_repair(Settings()):
            click.echo(f"repair: {line}")

    store = _store()
    reports = [r for r in store.reports() if report_id in (None, r.id)]
    if not reports and report_id is None:
        if not repair:
            raise click.ClickException("the store has no reports yet (see `reportqa ingest`)")
        return
    if not reports:
        raise click.ClickException(f"no report {report_id!r} in the store (see `reportqa list`)")
    for r in reports:
        check = check_json(store, r)
        if as_json:
            click.echo(json.dumps(check, ensure_ascii=False))
            continue
        for line in check_lines(check):
            click.echo(line)


@cli.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="JSON answer; with QUESTION '-' one JSON line per stdin line")
@click.option("--agency", help="restrict to this agency")
@click.option("--year", type=int, help="restrict to this year")
def ask(question: str, as_json: bool, agency: str | None, year: int | None) -> None:
    """Answer a question with citations (QUESTION '-' reads one question per line from stdin)."""
    from ui.filters import check_agency

    engine = _engine()
    check_agency(engine.store, agency)
    questions = [q.strip() for q in sys.stdin if q.strip()] if question == "-" else [question]
    for q in questions:
        answer = engine.answer(q, agency=agency, year=year)
        if as_json:
            click.echo(json.dumps(answer.to_json(), ensure_ascii=False))
        else:
            click.echo(answer.answer)
            for c in answer.citations:
                where = " › ".join(x for x in (c.section, c.row, c.column) if x)
                click.echo(f"  [{c.agency} {c.year}] {where} = {c.cell!r} ({c.source}, p.{c.page or '-'})")


@cli.command()
@click.argument("agency")
@click.argument("year1", type=int)
@click.argument("year2", type=int)
@click.option("--json", "as_json", is_flag=True, help="JSON instead of Markdown")
def diff(agency: str, year1: int, year2: int, as_json: bool) -> None:
    """Compare one agency's reports of two years: changed cells, indicators side by side, and the sentences of
    存在的主要问题及改进情况 new this year or carried over. AGENCY may be written as in a question."""
    from qa.diff import diff as run
    from qa.diff import resolve_agency

    store = _store()
    name = resolve_agency(store, agency)
    have = sorted(r.year for r in store.reports() if r.agency == name)
    absent = [y for y in (year1, year2) if y not in have]
    if absent:
        raise click.ClickException(f"no {name} report of {', '.join(map(str, absent))} in the store "
                                   f"(it holds: {', '.join(map(str, have))})")
    result = run(store, name, year1, year2)
    click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=1) if as_json else result.to_markdown())


@cli.command(name="eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="scores and failures as JSON instead of Markdown")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="write predictions (JSONL) here")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="also write the Markdown report here")
@click.option("--baseline", is_flag=True, help="also run a naive RAG baseline and show both side by side")
def evaluate(file: Path, as_json: bool, out: Path | None, report: Path | None, baseline: bool) -> None:
    """Score the engine on a labelled JSONL set: accuracy, citations, refusals, retrieval, latency."""
    from qa.evaluate import run_eval

    engine = _engine()
    result = run_eval(file, engine.store, engine, baseline=baseline, out=out)
    markdown = result.to_markdown()
    if report:
        report.write_text(markdown, encoding="utf-8")
    click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=1) if as_json else markdown)


def _engine():
    from qa import Engine

    settings = Settings()
    llm = None
    if settings.llm_url:
        from langchain_openai import ChatOpenAI

        llm = ChatOpenAI(base_url=settings.llm_url, api_key=os.environ.get("REPORTQA_LLM_KEY", "none"),
                         model=os.environ.get("REPORTQA_LLM_MODEL", "default"), temperature=0)
    return Engine(_store(), llm=llm)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=7860, show_default=True, type=int)
@click.option("--auth", envvar="REPORTQA_AUTH", help="user:password to require a login (or REPORTQA_AUTH)")
@click.option("--allowed-host", "allowed_hosts", multiple=True, envvar="REPORTQA_ALLOWED_HOSTS",
              help="another host name clients may use (a proxy's public name); repeatable, or REPORTQA_ALLOWED_HOSTS")
def serve(host: str, port: int, auth: str | None, allowed_hosts: tuple[str, ...]) -> None:
    """Start the web chat. It answers only to loopback names, --host and --allowed-host (and any IP address)."""
    from ui.web.app import exposure_warning
    from ui.web.app import serve as run

    if warning := exposure_warning(host, auth):
        click.secho(warning, err=True, fg="red", bold=True)
    run(_engine(), host=host, port=port, auth=auth, allowed_hosts=allowed_hosts)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except ReportQAError as err:
        click.echo(f"Error: {err}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        sys.exit(1)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)


if __name__ == "__main__":  # python -m ui.cli, as a checkout without the installed script runs it
    main()
