"""The standard tables of the annual report as data (report-format.md), in one place.

Every row and column has a stable key, the canonical printed label, aliases seen in real
reports, a unit and an English description (the QA stage matches English questions on it).
Keys are what facts, the SQLite store, citations and the labelled test sets use.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.format.template import T2019, TEMPLATES, Template


@dataclass(frozen=True)
class Label:
    key: str
    label: str  # canonical label, Simplified Chinese, as in the 2021 format
    en: str  # English description, for matching English questions
    aliases: tuple[str, ...] = ()  # other printed forms (2019 wording, old names, short forms)
    unit: str = "件"
    parent: str = ""  # group label for nested rows/columns, e.g. "不予公开"
    label_2019: str = ""  # how the 2019 trial format prints it, when that differs

    def printed(self, template: Template) -> str:
        """The label as a report of `template` prints it (what a citation shows)."""
        return self.label_2019 if template == T2019 and self.label_2019 else self.label


@dataclass(frozen=True)
class TableSpec:
    key: str
    title: str  # canonical sub-table or table title
    en: str
    section: str  # standard section key the table sits in (model.SECTION_TITLES)
    columns: tuple[Label, ...]
    rows: tuple[Label, ...]
    templates: tuple[Template, ...] = TEMPLATES
    aliases: tuple[str, ...] = ()

    def row(self, key: str) -> Label:
        return next(r for r in self.rows if r.key == key)

    def column(self, key: str) -> Label:
        return next(c for c in self.columns if c.key == key)


# Table 2 columns differ between the 2019 trial format and the 2021 format; both sets are listed
# and a report uses the ones its header shows.
_RULES_COLUMNS = (
    Label("issued", "本年制发件数", "documents issued this year", ("本年新制作数量",), label_2019="本年新制作数量"),
    Label("repealed", "本年废止件数", "documents repealed this year"),
    Label("in_force", "现行有效件数", "documents currently in force", ("对外公开总数量",), label_2019="对外公开总数量"),
    Label("published", "本年新公开数量", "documents newly published this year (2019 format)"),
)

_DECISION_COLUMNS = (
    Label("decisions", "本年处理决定数量", "decisions made this year", ("处理决定数量",), label_2019="处理决定数量"),
    Label("items_last_year", "上一年项目数量", "number of items last year (2019 format)"),
    Label("items_change", "本年增/减", "change in number of items this year (2019 format)", ("本年增减",)),
)

TABLE2 = (
    TableSpec(
        key="rules",
        title="第二十条第（一）项",
        en="regulations and normative documents (Article 20 item 1)",
        section="proactive",
        columns=_RULES_COLUMNS,
        rows=(
            Label("regulations", "规章", "government regulations (rules)"),
            Label(
                "normative_documents",
                "行政规范性文件",
                "administrative normative documents",
                ("规范性文件",),
                label_2019="规范性文件",
            ),
        ),
    ),
    TableSpec(
        key="licensing",
        title="第二十条第（五）项",
        en="administrative licensing (Article 20 item 5)",
        section="proactive",
        columns=_DECISION_COLUMNS,
        rows=(
            Label("licensing", "行政许可", "administrative licensing decisions, permits approved or granted"),
            Label(
                "other_services",
                "其他对外管理服务事项",
                "other external management and service items (2019 format)",
            ),
        ),
    ),
    TableSpec(
        key="enforcement",
        title="第二十条第（六）项",
        en="administrative penalties and enforcement (Article 20 item 6)",
        section="proactive",
        columns=_DECISION_COLUMNS,
        rows=(
            Label("penalty", "行政处罚", "administrative penalties, fines, punishment decisions", ("处罚",)),
            Label("coercion", "行政强制", "administrative coercive measures, compulsory enforcement, coercion"),
        ),
    ),
    TableSpec(
        key="fees",
        title="第二十条第（八）项",
        en="administrative fees (Article 20 item 8)",
        section="proactive",
        columns=(
            Label("amount", "本年收费金额（单位：万元）", "fees collected this year, money (10,000 yuan)",
                  ("本年收费金额",), unit="万元"),
            Label("items_last_year", "上一年项目数量", "number of fee items last year (2019 format)"),
            Label("items_change", "本年增/减", "change in fee items this year (2019 format)", ("本年增减",)),
        ),
        rows=(Label("admin_fees", "行政事业性收费", "administrative and institutional fees charged"),),
    ),
    TableSpec(
        key="procurement",
        title="第二十条第（九）项",
        en="government centralized procurement (Article 20 item 9, 2019 format)",
        section="proactive",
        columns=(
            Label("projects", "采购项目数量", "number of procurement projects"),
            Label("amount", "采购总金额", "total procurement amount, money spent, spending (yuan)", unit="元"),
        ),
        rows=(Label("procurement", "政府集中采购", "government centralized procurement"),),
        templates=(T2019,),
    ),
)

_APPLICANT_COLUMNS = (
    Label("natural_person", "自然人", "natural persons, individual applicants", unit="件"),
    Label("business", "商业企业", "commercial enterprises, companies", parent="法人或其他组织"),
    Label("research", "科研机构", "research institutions", parent="法人或其他组织"),
    Label("public_interest", "社会公益组织", "social public-interest organisations, NGOs", parent="法人或其他组织"),
    Label("legal_service", "法律服务机构", "legal service institutions, law firms", parent="法人或其他组织"),
    Label("other_org", "其他", "other legal persons or organisations", parent="法人或其他组织"),
    Label("total", "总计", "total of all applicants", ("合计",)),
)

_W = "不予公开"
_U = "无法提供"
_N = "不予处理"
_O = "其他处理"

TABLE3 = TableSpec(
    key="requests",
    title="收到和处理政府信息公开申请情况",
    en="information disclosure requests received and handled",
    section="requests",
    columns=_APPLICANT_COLUMNS,
    rows=(
        Label("new", "一、本年新收政府信息公开申请数量", "new requests received this year",
              ("本年新收政府信息公开申请数量", "新收申请", "收到申请")),
        Label("carried_over", "二、上年结转政府信息公开申请数量", "requests carried over from last year",
              ("上年结转政府信息公开申请数量",)),
        Label("granted", "（一）予以公开", "requests granted in full, information disclosed", ("予以公开", "全部公开"),
              parent="三、本年度办理结果"),
        Label("partly_granted", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
              "requests partly granted, partial disclosure", ("部分公开",), parent="三、本年度办理结果"),
        Label("withheld_state_secret", "1.属于国家秘密", "withheld: state secret", ("属于国家秘密",), parent=_W),
        Label("withheld_law", "2.其他法律行政法规禁止公开",
              "withheld: prohibited by other laws and regulations", ("其他法律行政法规禁止公开",), parent=_W),
        Label("withheld_security", "3.危及“三安全一稳定”",
              "withheld: endangers security and stability", ("危及“三安全一稳定”", "危及三安全一稳定"), parent=_W),
        Label("withheld_third_party", "4.保护第三方合法权益",
              "withheld: protecting third-party rights", ("保护第三方合法权益",), parent=_W),
        Label("withheld_internal", "5.属于三类内部事务信息",
              "withheld: internal affairs information", ("属于三类内部事务信息",), parent=_W),
        Label("withheld_process", "6.属于四类过程性信息",
              "withheld: process information", ("属于四类过程性信息",), parent=_W),
        Label("withheld_enforcement_file", "7.属于行政执法案卷",
              "withheld: administrative enforcement case files", ("属于行政执法案卷",), parent=_W),
        Label("withheld_query", "8.属于行政查询事项",
              "withheld: administrative query matters", ("属于行政查询事项",), parent=_W),
        Label("unavailable_not_held", "1.本机关不掌握相关政府信息",
              "unable to provide: information not held by this agency", ("本机关不掌握相关政府信息",),
              parent=_U),
        Label("unavailable_needs_creation", "2.没有现成信息需要另行制作",
              "unable to provide: information would need to be created", ("没有现成信息需要另行制作",),
              parent=_U),
        Label("unavailable_unclear", "3.补正后申请内容仍不明确",
              "unable to provide: request still unclear after correction", ("补正后申请内容仍不明确",),
              parent=_U),
        Label("not_handled_petition", "1.信访举报投诉类申请",
              "not processed: petitions, complaints and reports", ("信访举报投诉类申请",), parent=_N),
        Label("not_handled_repeat", "2.重复申请", "not processed: repeated requests, duplicates", ("重复申请",),
              parent=_N),
        Label("not_handled_publication", "3.要求提供公开出版物",
              "not processed: requests for public publications", ("要求提供公开出版物",), parent=_N),
        Label("not_handled_mass", "4.无正当理由大量反复申请",
              "not processed: large numbers of repeated requests without good reason",
              ("无正当理由大量反复申请",), parent=_N),
        Label("not_handled_confirm", "5.要求行政机关确认或重新出具已获取信息",
              "not processed: asking to confirm or reissue information already obtained",
              ("要求行政机关确认或重新出具已获取信息",), parent=_N),
        Label("other_overdue_correction",
              "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
              "other handling: applicant failed to supplement the request in time",
              ("申请人无正当理由逾期不补正",), parent=_O),
        Label("other_unpaid_fee",
              "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
              "other handling: applicant did not pay the fee in time", ("申请人逾期未按收费通知要求缴纳费用",),
              parent=_O),
        Label("other_misc", "3.其他", "other handling: other", parent=_O),
        Label("other_handling", "（六）其他处理", "other handling (2019 format: one row)", ("其他处理",),
              parent="三、本年度办理结果"),
        Label("total_handled", "（七）总计", "total requests handled this year", ("总计",),
              parent="三、本年度办理结果"),
        Label("carried_forward", "四、结转下年度继续办理",
              "requests carried forward to next year, still being processed at the end of the year",
              ("结转下年度继续办理", "结转到下一年度继续办理", "结转下一年")),
    ),
)

_BLOCK_COLUMNS = (
    ("upheld", "结果维持", "decision upheld"),
    ("corrected", "结果纠正", "decision corrected"),
    ("other", "其他结果", "other outcome"),
    ("pending", "尚未审结", "not yet concluded, pending"),
    ("total", "总计", "total"),
)
_BLOCKS = (
    ("review", "行政复议", "administrative reconsideration (review)"),
    ("suit_direct", "行政诉讼 › 未经复议直接起诉", "administrative lawsuits filed directly without review"),
    ("suit_after_review", "行政诉讼 › 复议后起诉", "administrative lawsuits filed after review"),
)

TABLE4 = TableSpec(
    key="review",
    title="政府信息公开行政复议、行政诉讼情况",
    en="administrative reconsideration and litigation over information disclosure",
    section="review",
    columns=tuple(
        Label(f"{block}_{col}", label, f"{block_en}: {col_en}", parent=block_label)
        for block, block_label, block_en in _BLOCKS
        for col, label, col_en in _BLOCK_COLUMNS
    ),
    rows=(Label("cases", "案件数量", "number of cases"),),
)

# Table 4's blocks and the outcome columns each block repeats, by key.
REVIEW_BLOCKS: tuple[str, ...] = tuple(block for block, _, _ in _BLOCKS)
REVIEW_OUTCOMES: tuple[str, ...] = tuple(col for col, _, _ in _BLOCK_COLUMNS)

TABLES: tuple[TableSpec, ...] = (*TABLE2, TABLE3, TABLE4)
BY_KEY: dict[str, TableSpec] = {t.key: t for t in TABLES}


def table(key: str) -> TableSpec:
    return BY_KEY[key]
