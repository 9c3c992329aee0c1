"""The HTTP API beside the chat (ui/web/api.py) and the exports (ui/export.py).

Servers are started in-process on a free port over the seed report with the fake embedding, as the guard tests
of test_web.py do; the OpenAI-format endpoint is driven by the official `openai` client and LangChain's
`ChatOpenAI`, the way other tools would use it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import openpyxl
import pytest

from tests.test_storage import cli
from tests.test_web import SEED_ID, FakeServed, _fake_store, _free_port
from ui.export import answer_sheets, to_csv, to_xlsx
from ui.web.app import build_app, launch

AUTH = ("ann", "secret")


@pytest.fixture
def api(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[FakeServed]:
    """The app over the seed report; `@pytest.mark.parametrize("api", ["user:pw"], indirect=True)` sets a login."""
    from qa import Engine

    store = _fake_store(tmp_path / "home")
    engine = Engine(store)
    demo = build_app(store, engine)
    port = _free_port()
    launch(demo, store, host="127.0.0.1", port=port, auth=getattr(request, "param", None), block=False,
           engine=engine)
    yield FakeServed(f"http://127.0.0.1:{port}/", store, None, port)  # type: ignore[arg-type]
    demo.close()


@pytest.mark.parametrize("api", [":".join(AUTH)], indirect=True)
def test_openai_client_streams_an_answer_with_citations(api: FakeServed) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{api.url}v1", api_key=AUTH[1], max_retries=0)
    assert [m.id for m in client.models.list()] == ["reportqa"]
    chunks = list(client.chat.completions.create(
        model="reportqa", stream=True, messages=[{"role": "user", "content": "2021年行政处罚多少件？"}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "3" in text and "行政处罚" in text, text
    final = chunks[-1]
    assert final.choices[0].finish_reason == "stop"
    [cited] = final.model_extra["citations"]
    assert (cited["report_id"], cited["table_key"], cited["row_key"], cited["cell"]) == (
        SEED_ID, "enforcement", "penalty", "3")
    assert final.model_extra["reportqa"]["kind"] == "fact"
    # The conversation: earlier user turns are the history, so a follow-up keeps the year and the table.
    follow = client.chat.completions.create(model="reportqa", messages=[
        {"role": "system", "content": "ignored"},
        {"role": "user", "content": "2021年行政处罚多少件？"},
        {"role": "assistant", "content": text},
        {"role": "user", "content": [{"type": "text", "text": "行政强制呢？"}]},
    ])
    message = follow.choices[0].message
    assert "行政强制" in message.content and "0" in message.content, message.content
    assert [c["row_key"] for c in message.model_extra["citations"]] == ["coercion"]


def test_langchain_uses_reportqa_as_a_chat_model(api: FakeServed) -> None:
    from langchain_openai import ChatOpenAI

    model = ChatOpenAI(base_url=f"{api.url}v1", api_key="unused", model="reportqa", max_retries=0)
    assert "3" in model.invoke("how many administrative penalties in 2021").content
    streamed = "".join(str(chunk.content) for chunk in model.stream("2021年行政处罚多少件？"))
    assert "3" in streamed, streamed


@pytest.mark.parametrize("api", [":".join(AUTH)], indirect=True)
def test_unauthenticated_api_calls_are_refused(api: FakeServed) -> None:
    from openai import AuthenticationError, OpenAI

    url = api.url.rstrip("/")
    ask = {"question": "2021年行政处罚多少件？"}
    for method, path in [("GET", "/api/reports"), ("GET", "/api/facts"), ("POST", "/api/ask"),
                         ("GET", f"/api/check/{quote(SEED_ID)}"), ("GET", "/api/overview"), ("GET", "/v1/models"),
                         ("POST", "/v1/chat/completions")]:
        body = ask if path == "/api/ask" else {"messages": [{"role": "user", "content": ask["question"]}]}
        response = httpx.request(method, url + path, json=body if method == "POST" else None)
        assert response.status_code == 401, (path, response.status_code)
        assert "Basic" in response.headers["WWW-Authenticate"], path
        assert "西藏" not in response.text
    assert httpx.get(f"{url}/api/reports", auth=("ann", "wrong")).status_code == 401
    assert httpx.get(f"{url}/api/reports", headers={"Authorization": "Bearer wrong"}).status_code == 401
    with pytest.raises(AuthenticationError):
        OpenAI(base_url=f"{url}/v1", api_key="wrong", max_retries=0).models.list()
    assert [r["id"] for r in httpx.get(f"{url}/api/reports", auth=AUTH).json()] == [SEED_ID]
    bearer = {"Authorization": f"Bearer {AUTH[1]}"}
    assert httpx.post(f"{url}/api/ask", json=ask, headers=bearer).json()["value"] == "3"
    # The description of the API names no report and needs no login.
    spec = httpx.get(f"{url}/api/openapi.json").json()
    assert {"/api/ask", "/api/reports", "/api/facts", "/api/check/{report_id}", "/v1/chat/completions"} <= set(
        spec["paths"])
    assert "/gradio_api/info" not in spec["paths"]
    assert httpx.get(f"{url}/api/docs").status_code == 200
    # The chat's own login still works and the page still asks for it.
    assert httpx.get(f"{url}/config").status_code == 401


def test_api_routes_answer_as_the_command_line_does(api: FakeServed) -> None:
    url = api.url.rstrip("/")
    answer = httpx.post(f"{url}/api/ask", json={"question": "行政处罚多少件？", "agency": "西藏自治区住房和城乡建设厅",
                                                "year": 2021}).json()
    assert answer["kind"] == "fact" and answer["value"] == "3"
    assert [c["cell"] for c in answer["citations"]] == ["3"]
    follow = httpx.post(f"{url}/api/ask", json={"question": "行政强制呢？", "history": ["2021年行政处罚多少件？"]})
    assert follow.json()["citations"][0]["row_key"] == "coercion"
    refused = httpx.post(f"{url}/api/ask", json={"question": "行政处罚多少件？", "agency": "X局"})
    assert refused.status_code == 400 and "no agency 'X局'" in refused.json()["detail"]
    [penalty, coercion] = httpx.get(f"{url}/api/facts", params={"table": "enforcement", "year": 2021}).json()
    assert (penalty["row"], penalty["value"], penalty["ref_source"]) == ("penalty", 3.0, "xizang_zjt_2021.txt")
    assert coercion["row"] == "coercion"
    assert httpx.get(f"{url}/api/facts", params={"year": 2020}).json() == []
    check = httpx.get(f"{url}/api/check/{quote(SEED_ID)}").json()
    assert check["report_id"] == SEED_ID and check["coverage"][0]["found"] > 100 and check["violations"] == []
    assert httpx.get(f"{url}/api/check/{quote('X局:2021')}").status_code == 404
    [row] = httpx.get(f"{url}/api/overview").json()
    assert (row["机构"], row["年份"], row["主动公开·行政处罚"]) == ("西藏自治区住房和城乡建设厅", 2021, 3)
    completion = httpx.post(f"{url}/v1/chat/completions", json={"messages": []})
    assert completion.status_code == 400 and "no user message" in completion.json()["error"]["message"]


def test_an_answer_exports_its_cells_as_numbers_with_its_citations(tmp_path: Path) -> None:
    from qa import Engine

    store = _fake_store(tmp_path / "home")
    engine = Engine(store)
    sheets = answer_sheets(engine.answer("2021年行政处罚和行政强制分别是多少？"), store)
    assert sheets is not None
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(sheets)))
    assert book.sheetnames == ["数据", "引用", "回答"]
    rows = list(book["数据"].values)
    assert rows[0][:6] == ("机构", "年份", "表格", "项目", "栏目", "数值")
    assert [(r[3], r[5]) for r in rows[1:]] == [("行政处罚", 3), ("行政强制", 0)]
    assert isinstance(rows[1][5], int)
    cited = list(book["引用"].values)
    assert cited[1][1] == SEED_ID and cited[1][4] == "xizang_zjt_2021.txt" and cited[1][12] == "penalty"
    csv_text = to_csv(sheets[0]).decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("机构,年份") and ",行政处罚," in csv_text
    assert answer_sheets(engine.answer("政府信息公开工作存在哪些主要问题？"), store) is None


def test_facts_and_overview_xlsx_from_the_command_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _fake_store(home)
    facts = cli(home, "facts", "--table", "enforcement", "--xlsx", str(tmp_path / "facts.xlsx"))
    assert facts.returncode == 0, facts.stderr
    sheet = openpyxl.load_workbook(tmp_path / "facts.xlsx")["单元格"]
    header, *rows = sheet.values
    penalty = dict(zip(header, rows[0], strict=True))
    assert (penalty["行键"], penalty["数值"], penalty["原文"], penalty["来源文件"]) == (
        "penalty", 3, "3", "xizang_zjt_2021.txt")
    overview = cli(home, "overview", "--xlsx", str(tmp_path / "overview.xlsx"))
    assert overview.returncode == 0, overview.stderr
    book = openpyxl.load_workbook(tmp_path / "overview.xlsx")
    header, *rows = book["总览"].values
    [row] = [dict(zip(header, r, strict=True)) for r in rows]
    assert (row["机构"], row["年份"], row["主动公开·行政处罚"], row["主动公开·行政许可"]) == (
        "西藏自治区住房和城乡建设厅", 2021, 3, 117)
    assert book.sheetnames == ["总览", "来源", "列说明"]


@pytest.mark.parametrize("api", [":".join(AUTH)], indirect=True)
def test_wrong_api_passwords_count_with_failed_logins(api: FakeServed) -> None:
    """Guesses through the API and through the login page add up; once throttled, even the right password
    is refused (429, Retry-After) until the delay has passed."""
    url = api.url.rstrip("/")
    with httpx.Client(base_url=url) as client:
        tries = [client.post("/login", data={"username": "ann", "password": f"guess{i}"}).status_code
                 for i in range(2)]
        tries += [client.get("/api/reports", headers={"Authorization": f"Bearer guess{i}"}).status_code
                  for i in range(3)]
        assert tries == [400, 400, 401, 401, 401]  # five failures: the next try waits 1 s
        refused = client.get("/api/reports", auth=AUTH)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        assert client.post("/login", data={"username": "ann", "password": "secret"}).status_code == 429


@pytest.mark.parametrize("api", ["张三:密码 1"], indirect=True)
def test_a_login_beyond_ascii_works_over_basic(api: FakeServed) -> None:
    url = f"{api.url}api/reports"
    assert [r["id"] for r in httpx.get(url, auth=("张三", "密码 1")).json()] == [SEED_ID]
    assert httpx.get(url, auth=("张三", "密码")).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Basic !!notbase64"}).status_code == 401
