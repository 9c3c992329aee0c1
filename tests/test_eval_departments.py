"""The departments set (tests/departments.py): real department reports of one district, questions written from
them by hand in both languages, department names the way people write them. Its bar (issue #11): fact ≥ 95%,
compare ≥ 95% and refusal recall 100%, in each language."""

from __future__ import annotations

import json

import pytest

from qa.evaluate import EvalReport, evaluate, load_items
from qa.text import language
from tests import departments

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def departments_report(tmp_path_factory) -> EvalReport:
    from ingest.pipeline import ingest
    from ingest.settings import Settings
    from ingest.store import Store
    from qa import Engine

    store = Store(Settings(home=tmp_path_factory.mktemp("departments-home")))
    results = ingest(departments.store_files(), store)
    assert all(r.status != "error" for r in results), [r for r in results if r.status == "error"]
    return evaluate(Engine(store), load_items(departments.SET), name="golden_departments")


def test_the_set_is_what_the_converter_makes_from_questions_jsonl():
    on_disk = [json.loads(line) for line in departments.SET.read_text(encoding="utf-8").splitlines()]
    assert on_disk == [item.to_json() for item in departments.build()]
    items = load_items(departments.SET)
    assert {i.type for i in items} == {"fact", "compare", "narrative", "refusal"}
    assert {language(i.question) for i in items} == {"zh", "en"}
    compares = [i for i in items if i.type == "compare"]
    # Signed: later − earlier, read from the two compared values.
    assert all(float(i.expected) == float(i.values[max(i.values)]) - float(i.values[min(i.values)])
               for i in compares)
    assert any(float(i.expected) < 0 for i in compares)


def test_store_is_the_html_pages_and_the_txt_only_reports():
    names = [p.relative_to(departments.CORPUS).as_posix() for p in departments.store_files()]
    assert names and not any(n.startswith("alt/") for n in names)
    assert any(n.startswith("txt-only/") for n in names)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_departments_bar_per_language(departments_report, lang):
    scores = departments_report.scores_by_language()[lang]
    assert scores["fact"].accuracy >= 0.95, departments_report.to_markdown()
    assert scores["compare"].accuracy >= 0.95, departments_report.to_markdown()
    assert scores["refusal"].refusal_recall == 1.0, departments_report.to_markdown()
