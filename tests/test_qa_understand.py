"""understand(): agencies, years, metrics, operations and follow-ups, from a list of agency names."""

from __future__ import annotations

import pytest

from qa.agencies import AgencyIndex, parse_name
from qa.understand import understand, years_in

AGENCIES = (
    "西藏自治区住房和城乡建设厅",
    "淮安市洪泽区人民政府",
    "平潭综合实验区",
    "上海市人民政府办公厅",
    "上海市科学技术委员会",
    "沭阳县人民政府",
)
INDEX = AgencyIndex(AGENCIES)


def test_agency_names_split_into_places_and_organ() -> None:
    assert parse_name("淮安市洪泽区人民政府").places == ("淮安市", "洪泽区")
    assert parse_name("西藏自治区住房和城乡建设厅").organ == "住房和城乡建设厅"
    assert parse_name("平潭综合实验区").organ == ""


@pytest.mark.parametrize("place", ["新会区", "和平区", "全椒县", "市中区", "社旗县", "新台区"])
def test_places_that_start_like_words_are_places_before_an_organ(place: str) -> None:
    """jieba knows none of these as a place; before an organ (or another place) stem + level can only be one."""
    assert parse_name(f"{place}教育局").places == (place,)
    assert parse_name(f"嘉州市{place}人民政府办公室").places == ("嘉州市", place)
    for phrase in ("全市教育局", "本区教育局", "全市各区教育局", "发展和改革局"):
        assert parse_name(phrase).places == ()


def test_each_of_many_similar_names_finds_itself() -> None:
    """A national store holds thousands of names one character apart (安德市新台区… and 隆德市清台区…): a name
    asked in full is that agency, never a near one read as its misprint."""
    from itertools import product

    places = [f"{a}{b}市{c}{d}{'区' if (c + d) < '清' else '县'}"
              for a, b, c, d in product("安隆和平", "德州江", "新清北和", "台滨溪")]
    names = [p + organ for p, organ in product(places, ("卫生健康委员会", "水利局", "应急管理局", "人民政府"))]
    index = AgencyIndex(names)
    for name in names[::7]:
        assert index.match(f"{name}2021年新收政府信息公开申请多少件？").agencies == (name,), name


@pytest.mark.parametrize(
    ("text", "agency"),
    [
        ("洪泽区政府", "淮安市洪泽区人民政府"),
        ("洪泽", "淮安市洪泽区人民政府"),
        ("平潭实验区", "平潭综合实验区"),
        ("平潭", "平潭综合实验区"),
        ("西藏住建厅", "西藏自治区住房和城乡建设厅"),
        ("西藏自治區住建廳", "西藏自治区住房和城乡建设厅"),
        ("上海科委", "上海市科学技术委员会"),
        ("上海市政府办公厅", "上海市人民政府办公厅"),
        ("Hongze District", "淮安市洪泽区人民政府"),
        ("and Pingtan?", "平潭综合实验区"),
        ("Tibet housing department", "西藏自治区住房和城乡建设厅"),
        ("Shanghai Science and Technology Commission", "上海市科学技术委员会"),
        ("Shuyang County", "沭阳县人民政府"),
    ],
)
def test_agency_aliases(text: str, agency: str) -> None:
    assert INDEX.match(text).agencies == (agency,)


def test_ambiguous_and_unknown_agencies() -> None:
    assert INDEX.match("上海2019年").candidates == ("上海市人民政府办公厅", "上海市科学技术委员会")
    assert INDEX.match("北京市2021年行政处罚").unknown == "北京市"
    assert INDEX.match("洪泽区公安局").unknown == "洪泽区公安局"
    assert INDEX.match("西藏自治区人民政府").unknown
    assert INDEX.match("Tibet public security bureau").unknown
    assert INDEX.match("how many administrative penalties in 2021") == INDEX.match("")


@pytest.mark.parametrize(
    ("text", "years", "offsets", "is_range"),
    [
        ("2021年", (2021,), (), False),
        ("2021年度", (2021,), (), False),
        ("二〇二一年", (2021,), (), False),
        ("2019-2024", tuple(range(2019, 2025)), (), True),
        ("2019至2024年", tuple(range(2019, 2025)), (), True),
        ("2023 vs 2024", (2023, 2024), (), False),
        ("2023年和2024年", (2023, 2024), (), False),
        ("去年", (), (-1,), False),
        ("requests carried over from last year", (), (), False),
    ],
)
def test_years(text: str, years: tuple, offsets: tuple, is_range: bool) -> None:
    assert years_in(text) == (years, offsets, is_range)


@pytest.mark.parametrize(
    ("question", "cell"),
    [
        ("2021年西藏住建厅行政处罚多少件？", ("enforcement", "penalty", "decisions")),
        ("how many administrative penalties in 2021", ("enforcement", "penalty", "decisions")),
        ("平潭新收申请多少", ("requests", "new", "total")),
        ("洪泽区收到多少申请", ("requests", "new", "total")),
        ("requests granted in full", ("requests", "granted", "total")),
        ("how many requests were partly granted", ("requests", "partly_granted", "total")),
        ("复议纠正", ("review", "cases", "review_corrected")),
        ("lawsuits filed directly", ("review", "cases", "suit_direct_total")),
        ("fees collected", ("fees", "admin_fees", "amount")),
        ("规范性文件", ("rules", "normative_documents", "in_force")),
        ("商业企业申请", ("requests", "new", "business")),
        ("本机关不掌握相关政府信息的有几件", ("requests", "unavailable_not_held", "total")),
    ],
)
def test_metrics(question: str, cell: tuple[str, str, str]) -> None:
    q = understand(question, (), INDEX)
    assert (q.ask.table, q.ask.row, q.ask.column) == cell
    assert not q.narrative


def test_groups_sum_their_members() -> None:
    q = understand("平潭2021年不予公开的有多少", (), INDEX)
    assert q.ask.row == "withheld" and len(q.ask.rows) == 8
    q = understand("what about lawsuits?", (), INDEX)
    assert q.ask.columns == ("suit_direct_total", "suit_after_review_total")


@pytest.mark.parametrize(
    "question",
    ["西藏住建厅存在什么问题？", "平潭政府信息公开平台建设情况如何", "洪泽区信息处理费怎么收", "天气怎么样"],
)
def test_unrelated_or_narrative_questions_get_no_metric(question: str) -> None:
    q = understand(question, (), INDEX)
    assert q.narrative and q.ask is None


@pytest.mark.parametrize(
    ("question", "metric"),
    [
        ("How many government new-media accounts does it run?", None),
        ("How many training sessions were held?", None),
        ("How many policy interpretation articles were published?", None),
        ("how many requests were received through the website", ("requests", "new", "total")),
    ],
)
def test_things_only_prose_reports_outweigh_a_chance_label_word(question: str, metric: tuple | None) -> None:
    q = understand(question, (), INDEX)
    assert (q.ask and (q.ask.table, q.ask.row, q.ask.column)) == metric
    assert q.quantity


def test_operations() -> None:
    assert understand("平潭2019-2024年新收申请", (), INDEX).operation == "trend"
    assert understand("平潭历年行政处罚", (), INDEX).operation == "trend"
    assert understand("Pingtan requests granted in full 2023 vs 2024", (), INDEX).operation == "compare"
    assert understand("洪泽和平潭2023年行政处罚", (), INDEX).operation == "compare"
    assert understand("哪个机关2021年行政处罚最多", (), INDEX).operation == "rank"
    assert understand("2021年西藏住建厅行政处罚多少件", (), INDEX).operation == "value"


def test_language() -> None:
    assert understand("how many administrative penalties did 西藏住建厅 make", (), INDEX).language == "en"
    assert understand("2021年西藏住建厅行政处罚多少件", (), INDEX).language == "zh"


def test_follow_ups_reuse_the_previous_slots() -> None:
    history = ["2021年平潭新收申请多少？"]
    q = understand("那2022年呢？", history, INDEX)
    assert (q.agencies, q.years, q.ask.row, q.ask.column) == (("平潭综合实验区",), (2022,), "new", "total")
    history.append("那2022年呢？")
    q = understand("按自然人分呢", history, INDEX)
    assert (q.agencies, q.years, q.ask.row, q.ask.column) == (("平潭综合实验区",), (2022,), "new", "natural_person")
    history.append("按自然人分呢")
    q = understand("and Hongze?", history, INDEX)
    assert (q.agencies, q.years) == (("淮安市洪泽区人民政府",), (2022,))
    assert (q.ask.row, q.ask.column) == ("new", "natural_person")
    q = understand("what about lawsuits?", history, INDEX)
    assert (q.agencies, q.years, q.ask.table) == (("平潭综合实验区",), (2022,), "review")


def test_follow_up_keeps_a_trend() -> None:
    q = understand("and Hongze?", ["Pingtan penalties 2019 to 2024"], INDEX)
    assert q.operation == "trend" and q.agencies == ("淮安市洪泽区人民政府",) and q.ask.row == "penalty"


# -- agencies in every form people write them (issue #11) ------------------------------------------------------

STORE = (
    "平潭综合实验区行政审批局", "平潭综合实验区管理委员会办公室", "平潭综合实验区社会事业局", "沭阳县发展和改革局",
    "沐阳县人民政府", "河北省工业和信息化厅", "河北省教育厅", "上海市科委", "淮安市洪泽区公安局",
    "苏州工业园区管理委员会", "襄阳市发展和改革委员会", "涿州市财政局", "泉州市财政局",
)
NAMES = AgencyIndex(STORE)


@pytest.mark.parametrize(("text", "agency"), [
    ("平潭审批局", "平潭综合实验区行政审批局"),
    ("平潭实验区行政审批局", "平潭综合实验区行政审批局"),
    ("沭阳县发改局", "沭阳县发展和改革局"),
    ("沭阳发改局", "沭阳县发展和改革局"),
    ("河北省工信厅", "河北省工业和信息化厅"),
    ("河北工信厅", "河北省工业和信息化厅"),
    ("省教育厅", "河北省教育厅"),
    ("上海市科学技术委员会", "上海市科委"),
    ("洪泽公安", "淮安市洪泽区公安局"),
    ("苏州园区管委会", "苏州工业园区管理委员会"),
    ("苏州工业园区", "苏州工业园区管理委员会"),
    ("Hebei Provincial Department of Education", "河北省教育厅"),
    ("the Department of Industry and Information Technology", "河北省工业和信息化厅"),
    ("the Pingtan Social Affairs Bureau", "平潭综合实验区社会事业局"),
    ("Pingtan's administrative approval bureau", "平潭综合实验区行政审批局"),
    ("Shanghai Municipal Science and Technology Commission", "上海市科委"),
    ("Xiangyang DRC", "襄阳市发展和改革委员会"),
    ("Suzhou Industrial Park", "苏州工业园区管理委员会"),
    ("Hongze District Public Security Bureau", "淮安市洪泽区公安局"),
])
def test_agency_forms(text: str, agency: str) -> None:
    assert NAMES.match(text).agencies == (agency,)


ZONES = AgencyIndex(("青岛西海岸新区管理委员会", "武汉东湖新技术开发区管理委员会", "大连金普新区管理委员会",
                     "昆明市人力资源和社会保障局", "青岛市人民政府"))


@pytest.mark.parametrize(("text", "agency"), [
    ("西海岸新区", "青岛西海岸新区管理委员会"),  # a zone named after its city, called without it
    ("金普新区管委会", "大连金普新区管理委员会"),
    ("东湖高新区", "武汉东湖新技术开发区管理委员会"),  # 新技术开发区 is a 高新区
    ("青岛", "青岛市人民政府"),  # the city alone is still the city
    ("Kunming HRSS Bureau", "昆明市人力资源和社会保障局"),  # initials of the body, the head said apart
])
def test_zones_and_initials(text: str, agency: str) -> None:
    assert ZONES.match(text).agencies == (agency,)


AUTONOMOUS = AgencyIndex(("广西壮族自治区卫生健康委员会", "湘西土家族苗族自治州人民政府", "新疆维吾尔自治区财政厅",
                          "威海市卫生健康委员会", "嘉兴经济技术开发区管理委员会", "北京市科学技术委员会"))


@pytest.mark.parametrize(("text", "agency"), [
    ("广西卫健委", "广西壮族自治区卫生健康委员会"),  # an autonomous area without its nationalities
    ("广西自治区卫健委", "广西壮族自治区卫生健康委员会"),
    ("the Guangxi health commission", "广西壮族自治区卫生健康委员会"),
    ("湘西州", "湘西土家族苗族自治州人民政府"),
    ("Xinjiang Department of Finance", "新疆维吾尔自治区财政厅"),
    ("嘉兴经济开发区管委会", "嘉兴经济技术开发区管理委员会"),  # 经济技术开发区 written without 技术
    ("Beijing Sci-Tech Commission", "北京市科学技术委员会"),
])
def test_autonomous_areas_and_level_short_forms(text: str, agency: str) -> None:
    assert AUTONOMOUS.match(text).agencies == (agency,)


SPELT = AgencyIndex(("长治市财政局", "南允市投资促进局", "河北雄安新区管理委员会", "长春市教育局",
                     "北京市科学技术委员会"))


@pytest.mark.parametrize(("text", "agencies", "misprints"), [
    ("Changzhi Finance Bureau", ("长治市财政局",), ()),  # every reading of a place's characters (长: chang, zhang)
    ("How much (10,000 yuan) did the Nanchong Investment Promotion Bureau charge?",  # not yuan for Xiong'an
     ("南允市投资促进局",), (("nanchong", "南允市投资促进局"),)),
    ("How did requests of the Changchun Education Bureau change from 2020 to 2023?", ("长春市教育局",), ()),
    ("北京市科学技术萎员会2023年", ("北京市科学技术委员会",), (("北京市科学技术萎员会", "北京市科学技术委员会"),)),
])
def test_places_spelt_or_misprinted(text: str, agencies: tuple, misprints: tuple) -> None:
    match = SPELT.match(text)
    assert (match.agencies, match.misprints) == (agencies, misprints)


def test_a_parent_place_before_a_name_stored_without_it_is_no_unexplained_word() -> None:
    query = understand("金华义乌卫健局2023年行政处罚决定多少件？", (), AgencyIndex(("义乌市卫生健康局",)))
    assert query.agencies == ("义乌市卫生健康局",) and query.unaccounted == () and query.ask is not None


@pytest.mark.parametrize(("text", "agency", "printed"), [
    ("沭阳县2025年", "沐阳县人民政府", "沐阳县人民政府"),  # the report prints a misprint; the user types it right
    ("沭阳县政府", "沐阳县人民政府", "沐阳县人民政府"),
    ("Shuyang County government", "沐阳县人民政府", "沐阳县人民政府"),
    ("襄阳市发展和攺革委员会", "襄阳市发展和改革委员会", "襄阳市发展和改革委员会"),  # the user misprints it
    ("琢州市财政局", "涿州市财政局", "涿州市财政局"),  # a homophone slip, not 泉州
])
def test_names_one_character_off_are_answered_and_say_how_the_report_prints_them(
        text: str, agency: str, printed: str) -> None:
    match = NAMES.match(text)
    assert match.agencies == (agency,) and match.misprints[0][1] == printed


@pytest.mark.parametrize(("text", "unknown"), [
    ("平潭卫健委2023年收到多少件政府信息公开申请？", "平潭卫健委"),
    ("北京市公安局2023年", "北京市公安局"),
    ("the Pingtan Public Security Bureau", "pingtan public security bureau"),
    ("泰州市财政局", "泰州市财政局"),  # two real cities one character apart: never corrected
])
def test_agencies_the_store_does_not_hold(text: str, unknown: str) -> None:
    match = NAMES.match(text)
    assert match.agencies == () and match.unknown == unknown


def test_comparison_order() -> None:
    store = ("平潭综合实验区行政审批局", "平潭综合实验区管理委员会办公室")
    q = understand("2024年平潭审批局比管委会办公室多多少件？", (), store)
    assert (q.operation, q.agencies) == ("compare", store)
    q = understand("2024年与平潭审批局相比，管委会办公室多多少件？", (), store)
    assert q.agencies == (store[1], store[0])
    for text in ("平潭审批局2025年比2019年多多少件？",
                 "平潭审批局2019年比2025年少多少件？",
                 "平潭审批局2019年和2025年相比",
                 "How did Pingtan's approval bureau's requests change from 2019 to 2025?"):
        assert understand(text, (), store).years == (2025, 2019), text
    assert understand("平潭审批局2019至2025年的趋势", (), store).operation == "trend"


def test_several_quantities_and_whole_blocks() -> None:
    q = understand("平潭2023年收到多少申请？其中自然人多少？", (), INDEX)
    assert [(a.row, a.column) for a in q.asks] == [("new", "total"), ("new", "natural_person")]
    q = understand("平潭2023年予以公开和不予公开分别是多少", (), INDEX)
    assert [a.row for a in q.asks] == ["granted", "withheld"]
    q = understand("平潭2023年行政复议的结果如何？", (), INDEX)
    assert not q.narrative and [a.column for a in q.asks] == [
        "review_upheld", "review_corrected", "review_other", "review_pending", "review_total"]
    q = understand("法律服务机构提出的申请有多少", (), INDEX)
    assert (q.ask.row, q.ask.column) == ("new", "legal_service")
    q = understand("因本机关不掌握相关政府信息无法提供的申请有多少", (), INDEX)
    assert (q.ask.row, q.ask.column, q.unaccounted) == ("unavailable_not_held", "total", ())
