"""The metamorphic set (tests/metamorphic.py): its hand-written agency forms, the set built from them, and a small
store on which every variant of every fact must give the gold cell."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from qa.evaluate import GoldItem
from tests import metamorphic
from tests.metamorphic import AgencyForms, build, load_forms

# Six dev agencies: two places with several agencies (governments among them), a misprinted printed name, a province.
SMALL = ("桐庐县人民政府", "桐庐县发展和改革局", "桐庐县市场监督管理局", "睢宁县人民政府", "睢宁县行政审批局",
         "河北省教育厅")


def _organ(agency: AgencyForms) -> str:
    """The organ's stem: 河北省教育厅 → 教育, 桐庐县人民政府 → 人民政府."""
    return re.sub(r"(?:厅|局|委员会)$", "", agency.name.removeprefix(agency.place))


def test_agency_forms_are_well_formed():
    agencies = load_forms()
    assert 55 <= len(agencies) <= 70 and len({a.name for a in agencies}) == len(agencies)
    for a in agencies:
        assert a.name.startswith(a.place), a.name
        assert len(a.misprint) == len(a.name) and sum(x != y for x, y in zip(a.name, a.misprint, strict=True)) == 1
        assert a.zh and a.name not in a.zh and 2 <= len(a.en) <= 3, a.name
        assert bool(a.place_only) == a.name.endswith(("人民政府", "管理委员会")), a.name


def test_halves_split_by_organ_type_and_both_hold_every_kind_of_form():
    agencies = load_forms()
    dev, holdout = ({_organ(a) for a in agencies if a.half == half} for half in ("dev", "holdout"))
    assert dev and holdout and not dev & holdout
    for half in ("dev", "holdout"):
        mine = load_forms(half=half)
        assert {a.half for a in mine} == {half} and len(mine) >= 25
        assert any(a.place_only for a in mine) and any(a.printed == "misprint" for a in mine)


@pytest.fixture(scope="module")
def full_set() -> list[GoldItem]:
    return build(load_forms())


def test_every_fact_is_asked_in_every_form_of_its_agency_in_both_languages(full_set):
    by_name = {a.printed_name: a for a in load_forms()}
    facts: dict[str, set[tuple[str, str]]] = {}
    for item in full_set:
        if item.tags["op"] == "value":
            facts.setdefault(item.tags["fact"], set()).add((item.tags["form"], item.tags["lang"]))
    assert len(facts) == 4 * len(by_name)
    for fact, variants in facts.items():
        agency = by_name[fact.split("|")[0]]
        kinds = {kind for kind, _ in agency.forms()}
        assert {form for form, _ in variants} == kinds, fact
        assert {lang for _, lang in variants} == {"zh", "en"}, fact
    assert {i.tags["order"] for i in full_set} == {"agency", "year", "metric"}
    assert {i.cite[0].table for i in full_set if i.tags["op"] == "value"} >= {"requests", "review", "rules"}
    assert len({i.id for i in full_set}) == len(full_set)


def test_compares_are_signed_later_minus_earlier_and_first_named_minus_second(full_set):
    compares = [i for i in full_set if i.type == "compare"]
    assert {i.tags["op"] for i in compares} == {"years", "percent", "agencies"}
    for item in compares:
        (first, a), (second, b) = item.values.items()
        if item.tags["op"] == "years":
            assert int(first) < int(second) and Decimal(item.expected) == Decimal(b) - Decimal(a)
        elif item.tags["op"] == "agencies":
            assert Decimal(item.expected) == Decimal(a) - Decimal(b)
        else:
            assert item.expected.endswith("%") and (Decimal(item.expected[:-1]) > 0) == (Decimal(b) > Decimal(a))
    assert any(Decimal(i.expected.rstrip("%")) < 0 for i in compares)


def test_written_set_round_trips_through_the_eval_format(tmp_path):
    out = tmp_path / "dev.jsonl"
    metamorphic.main(["--half", "dev", "--out", str(out)])
    from qa.evaluate import load_items

    items = load_items(out)
    assert items == build(load_forms(half="dev")) and {i.tags["half"] for i in items} == {"dev"}


def test_every_variant_gives_the_gold_cell_on_a_small_store(tmp_path_factory):
    from qa import Engine
    from qa.evaluate import evaluate

    agencies = [a for a in load_forms() if a.name in SMALL]
    store = metamorphic.build_store(agencies, tmp_path_factory.mktemp("metamorphic-home"))
    outcomes = evaluate(Engine(store), build(agencies)).outcomes
    alike, right, _ = metamorphic.consistency([o for o in outcomes if o.item.tags["op"] == "value"])
    assert all(o.ok for o in outcomes) and alike == right == 1.0, metamorphic.summary(outcomes)
