"""A cell missing from the store is "not reported", never the value of another column of its row.

The store holds one generated report (the fake embedding: these questions are answered from cells alone);
the `issued` cell of its normative-documents row is deleted with SQL, as an extraction that missed it would
leave it. The row's other cells (repealed, in force) are still there and must not stand in for it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from langchain_core.embeddings import DeterministicFakeEmbedding

from ingest.pipeline import ingest
from ingest.settings import Settings
from ingest.store import Store
from qa import Engine
from qa.facts import fmt
from tests.reportgen import AGENCIES, random_spec, render

SPEC = random_spec(AGENCIES[3], 2022, seed=7)
ROW = ("rules", "normative_documents")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(Settings(home=tmp_path / "store", embed_model="fake"), embeddings=DeterministicFakeEmbedding(size=16))
    [result] = ingest([render(SPEC, "html", tmp_path / "report.html")], store)
    assert result.status == "added", result.message
    return store


def _value(column: str) -> str:
    return fmt(SPEC.numbers[(*ROW, column)])


@pytest.mark.parametrize(("question", "label"), [
    ("制发规范性文件多少件？", "本年制发件数"),
    ("2022年制发规范性文件多少件？", "本年制发件数"),
    ("规范性文件制发了多少件？", "本年制发件数"),
    ("How many normative documents were issued in 2022?", "documents issued this year"),
])
def test_a_deleted_cell_is_refused_not_taken_from_its_neighbour(store: Store, question: str, label: str) -> None:
    assert len({_value("issued"), _value("repealed"), _value("in_force")}) == 3, "the row's values must differ"
    engine = Engine(store)
    assert engine.answer(question).value == _value("issued"), "the question must ask for the issued cell"
    with store._db() as db:
        db.execute(sa.text("DELETE FROM facts WHERE tbl = :tbl AND row = :row AND col = 'issued'"),
                   {"tbl": ROW[0], "row": ROW[1]})
    answer = Engine(store).answer(question)
    assert (answer.kind, answer.value, answer.citations) == ("refusal", None, []), answer.answer
    assert label in answer.answer, answer.answer
    assert _value("repealed") not in answer.answer and _value("in_force") not in answer.answer, answer.answer
