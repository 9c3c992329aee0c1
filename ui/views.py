"""The one JSON form of each thing the command line and the HTTP API show: a report, a fact, a report's check.

`reportqa list --json`, `reportqa facts --json/--csv`, `reportqa check` and the web API (ui/web/api.py) all
build their output here, so a field added to one appears in the other. (An answer's form is `Answer.to_json`.)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict

from ingest.checks import coverage
from ingest.model import Fact
from ingest.store import ReportInfo, Store
from qa.audit import KINDS, audit_report


def report_json(report: ReportInfo) -> dict:
    """One report as `reportqa list --json` prints it."""
    return asdict(report)


def fact_json(fact: Fact) -> dict:
    """One cell as `reportqa facts --json` prints it: the fact's fields, its provenance flattened as `ref_*`."""
    data = asdict(fact)
    ref = data.pop("ref")
    data["candidates"] = list(data["candidates"])
    return {**data, **{f"ref_{k}": v for k, v in ref.items()}}


def check_json(store: Store, report: ReportInfo) -> dict:
    """What `reportqa check` says of one report: coverage of the standard cells per template part, the
    ambiguous cells with the values they may be, the broken sum identities and the audit's findings."""
    found = store.facts(report_id=report.id)
    return {
        "report_id": report.id,
        "source": report.source,
        "coverage": [
            {"template": cov.template, "found": cov.found, "expected": cov.expected, "ambiguous": cov.ambiguous,
             "missing": ["/".join(m) for m in cov.missing]}
            for cov in coverage(found)
        ],
        "ambiguous": [
            {"table": f.table, "row": f.row, "column": f.column, "raw": f.raw, "candidates": list(f.candidates)}
            for f in found if f.status == "ambiguous"
        ],
        "violations": [
            {"table": v.table, "rule": v.rule, "where": v.where, "expected": v.expected, "found": v.found}
            for v in store.violations(report.id)
        ],
        "findings": [f.to_json() for f in audit_report(report.agency, report.year, found, store.chunks([report.id]))],
    }


def check_lines(check: dict) -> list[str]:
    """`check_json`'s object as the lines `reportqa check` prints."""
    head = f"{check['report_id']} ({check['source']})"
    lines = []
    n = len(check["violations"])
    for cov in check["coverage"] or [None]:
        cells = (f"{cov['found']}/{cov['expected']} cells, {cov['ambiguous']} ambiguous" if cov
                 else "no standard tables")
        lines.append(f"{head}: {cells}, {n} identity violations")
        if cov and cov["missing"]:
            lines.append(f"  missing: {', '.join(cov['missing'])}")
    lines += [f"  ambiguous {a['table']}/{a['row']}/{a['column']}: {a['raw']!r} candidates {a['candidates']}"
              for a in check["ambiguous"]]
    lines += [f"  violation {v['table']} {v['rule']} at {v['where']}: expected {v['expected']:g}, found {v['found']:g}"
              for v in check["violations"]]
    findings = check["findings"]
    tally = Counter(f["kind"] for f in findings)
    lines.append(f"  audit: {len(findings)} findings ({', '.join(f'{tally[k]} {k}' for k in KINDS)})")
    for f in findings:
        lines.append(f"  [{f['kind']} {f['severity']}] {f['message_zh']}")
        if f["prose"]:
            lines.append(f"    prose ({f['prose']['section']}): {f['prose']['snippet']}")
        lines += [f"    cell: {c['table']} › {c['row']} › {c['column']} = {c['cell']!r} ({c['source']}, "
                  f"p.{c['page'] or '-'})" for c in f["cells"][:_CELLS_SHOWN]]
        if len(f["cells"]) > _CELLS_SHOWN:
            lines.append(f"    … {len(f['cells']) - _CELLS_SHOWN} more cells (--json lists all)")
    return lines


_CELLS_SHOWN = 8  # cells printed per finding (a broken column sum involves twenty)
