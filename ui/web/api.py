"""The HTTP API for other tools, served beside the chat by the same server (same Host guard, same login).

- `POST /api/ask` {question, history?, agency?, year?} → the `reportqa ask --json` object;
  `GET /api/reports` (`reportqa list --json`), `GET /api/facts?agency=&year=&table=` (`reportqa facts --json`),
  `GET /api/check/{report_id}` (what `reportqa check` says), `GET /api/overview` (`reportqa overview`).
- `POST /v1/chat/completions` in the OpenAI format, `stream: true` as server-sent events, and `GET /v1/models`:
  the last user message is the question, the user messages before it the conversation; the answer is the
  assistant message and its citations ride in an extra `citations` field (on the message, or on the final
  chunk of a stream), so OpenAI clients and LangChain's `ChatOpenAI` can use ReportQA as a model.
- `GET /api/docs` (Swagger UI) and `GET /api/openapi.json` describe these routes only.

The routes are handed to Gradio's own FastAPI app when it is created (ui/web/app.py `launch`), ahead of Gradio's
routes, so the Host guard and the login throttle in front of that app cover them too. With `--auth` every route
but the two describing the API needs the password: HTTP Basic with the login's user and password, or a Bearer
token that is the password (what an OpenAI client sends as `api_key`); anything else is answered 401. Wrong
passwords count with the login page's failures (ui/web/guard.py `FailedLogins`).
"""

from __future__ import annotations

import json
import logging
import math
import time
import uuid
from base64 import b64decode
from collections.abc import Iterator
from dataclasses import asdict
from secrets import compare_digest
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel, ConfigDict, Field
from starlette.routing import BaseRoute

from ingest.errors import ReportQAError
from ingest.store import Store
from qa import Engine
from qa.model import Citation
from ui.filters import check_agency
from ui.views import check_json, fact_json, report_json
from ui.web.guard import FailedLogins

log = logging.getLogger(__name__)

MODEL = "reportqa"
TITLE = "ReportQA API"


class _Basic(HTTPBasic):
    """HTTP Basic credentials decoded as UTF-8 (FastAPI's take ASCII only; a login may be 张三:密码), or None.
    Credentials that cannot be decoded come back empty: a wrong password, not a missing one."""

    async def __call__(self, request: Request) -> HTTPBasicCredentials | None:  # type: ignore[override]
        scheme, param = get_authorization_scheme_param(request.headers.get("Authorization"))
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = b64decode(param, validate=True).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            user = password = ""
        return HTTPBasicCredentials(username=user, password=password)


# Module-level: FastAPI reads the routes' annotations (strings here) in this module's namespace.
BASIC = _Basic(realm="ReportQA", auto_error=False, description="the --auth user and password")
BEARER = HTTPBearer(auto_error=False, description="the --auth password (an OpenAI client's api_key)")


class AskRequest(BaseModel):
    question: str = Field(description="the question, in Chinese or English")
    history: list[str] = Field(default=[], description="earlier questions of the conversation, oldest first")
    agency: str | None = Field(default=None, description="answer from this agency's reports only")
    year: int | None = Field(default=None, description="answer from this year's reports only")


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """An OpenAI chat completion request; sampling parameters are accepted and ignored (answers are computed
    from the reports). `agency` and `year` (an OpenAI client's `extra_body`) filter as in /api/ask."""

    model_config = ConfigDict(extra="allow")
    model: str = MODEL
    messages: list[ChatMessage]
    stream: bool = False
    agency: str | None = None
    year: int | None = None


def api_routes(store: Store, engine: Engine, auth: tuple[str, str] | None,
               logins: FailedLogins | None = None) -> list[BaseRoute]:
    """The API's routes over `store` and `engine`; with `auth` (user, password) all but the docs need it."""
    router = APIRouter(dependencies=[Depends(_authorizer(auth, logins or FailedLogins()))])

    @router.post("/api/ask", tags=["reportqa"], summary="Answer a question with citations")
    def ask(request: AskRequest) -> dict:
        """The `reportqa ask --json` object: answer text, kind, value, citations with their cells, chart."""
        try:
            check_agency(store, request.agency)
            answer = engine.answer(request.question, request.history, agency=request.agency or None,
                                   year=request.year)
        except ReportQAError as err:
            raise HTTPException(400, str(err)) from err
        return answer.to_json()

    @router.get("/api/reports", tags=["reportqa"], summary="The ingested reports")
    def reports() -> list[dict]:
        """As `reportqa list --json`."""
        return [report_json(r) for r in store.reports()]

    @router.get("/api/facts", tags=["reportqa"], summary="Extracted table cells with provenance")
    def facts(agency: Annotated[str | None, Query(description="agency name as stored")] = None,
              year: Annotated[int | None, Query()] = None,
              table: Annotated[str | None, Query(description="schema table key: enforcement, requests…")] = None,
              ) -> list[dict]:
        """As `reportqa facts --json`, one object per cell."""
        return [fact_json(f) for f in store.facts(agency=agency or None, year=year, table=table or None)]

    @router.get("/api/check/{report_id}", tags=["reportqa"], summary="Cells found, ambiguous, broken sums")
    def check(report_id: str) -> dict:
        """What `reportqa check REPORT_ID` says, as an object (report id: `AGENCY:YEAR`)."""
        report = next((r for r in store.reports() if r.id == report_id), None)
        if report is None:
            raise HTTPException(404, f"no report {report_id!r} in the store (see /api/reports)")
        return check_json(store, report)

    @router.get("/api/overview", tags=["reportqa"], summary="One row per report: the main cells")
    def overview() -> list[dict]:
        """As `reportqa overview`: agency, year and the main cells of each report, under Chinese headers."""
        from ui.export import overview_sheets

        table = overview_sheets(store)[0]
        return [dict(zip(table.headers, row, strict=True)) for row in table.rows]

    @router.get("/v1/models", tags=["openai"], summary="The one model: reportqa")
    def models() -> dict:
        return {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "reportqa"}]}

    @router.post("/v1/chat/completions", tags=["openai"], summary="OpenAI chat completion (stream: SSE)",
                 response_model=None)
    def chat(request: ChatRequest) -> dict | StreamingResponse | JSONResponse:
        """The last user message is the question, earlier user messages the conversation. The answer is the
        assistant message; its citations are in `citations` (on the message, on the final chunk when
        streaming), with `reportqa` {kind, value, chart} beside them."""
        users = [_text(m.content) for m in request.messages if m.role == "user"]
        if not users or not users[-1].strip():
            return _openai_error(400, "no user message to answer")
        try:
            check_agency(store, request.agency)
        except ReportQAError as err:
            return _openai_error(400, str(err))
        completion = Completion(request.model or MODEL)
        stream = completion.events(engine, users[-1], users[:-1], request.agency or None, request.year)
        if request.stream:
            return StreamingResponse(stream, media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        for _ in stream:
            pass
        return completion.whole()

    schema: dict = {}
    public = APIRouter()  # the two routes describing the API need no password: they name no report

    @public.get("/api/openapi.json", include_in_schema=False)
    def openapi() -> dict:
        if not schema:
            schema.update(get_openapi(title=TITLE, version="1", routes=router.routes,
                                      description="Cited answers from government information-disclosure annual "
                                                  "reports; the chat is at /."))
        return schema

    @public.get("/api/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/api/openapi.json", title=TITLE)

    return [*router.routes, *public.routes]


class Completion:
    """One chat completion: the engine's events as OpenAI chunks, and what they add up to."""

    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.model = model
        self.text = ""
        self.citations: list[Citation] = []
        self.extra: dict = {"kind": "refusal", "value": None, "chart": []}

    def events(self, engine: Engine, question: str, history: list[str], agency: str | None,
               year: int | None) -> Iterator[str]:
        """Server-sent events: a role chunk, the text as it comes, a final chunk with the citations, [DONE]."""
        yield self._sse({"role": "assistant", "content": ""})
        try:
            for event in engine.answer_stream(question, history, agency=agency, year=year):
                if event.channel == "text":
                    self.text += event.text
                    yield self._sse({"content": event.text})
                elif event.channel == "citation" and event.citation is not None:
                    self.citations.append(event.citation)
                elif event.channel == "kind":
                    self.extra["kind"] = event.text
                elif event.channel == "value":
                    self.extra["value"] = event.text
                elif event.channel == "chart":
                    self.extra["chart"] = [list(p) for p in event.points]
        except ReportQAError as err:
            yield self._sse({"content": self._add(f"无法回答：{err}")})
        except Exception:  # the stream has begun: say so in it; the log keeps the trace
            log.exception("answering %r failed", question)
            yield self._sse({"content": self._add("回答时出现内部错误，请换个问法或稍后再试。")})
        cited = self._cited()
        yield self._sse({}, finish="stop", citations=cited, reportqa=self.extra)
        yield "data: [DONE]\n\n"

    def whole(self) -> dict:
        """The non-streamed `chat.completion` object."""
        cited = self._cited()
        return {
            "id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": self.text, "citations": cited}}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            "citations": cited, "reportqa": self.extra,
        }

    def _add(self, text: str) -> str:
        piece = f"\n\n{text}" if self.text else text
        self.text += piece
        return piece

    def _cited(self) -> list[dict]:
        return [asdict(c) for c in self.citations]

    def _sse(self, delta: dict, finish: str | None = None, **extra: object) -> str:
        choice: dict = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        if "citations" in extra:
            choice["citations"] = extra["citations"]
        chunk = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                 "choices": [choice], **extra}
        return f"data: {json.dumps(chunk, ensure_ascii=False, separators=(',', ':'))}\n\n"


def _text(content: str | list[dict[str, Any]] | None) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if part.get("type") == "text")
    return content or ""


def _openai_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "code": None}},
                        status_code=status)


def _authorizer(auth: tuple[str, str] | None, logins: FailedLogins):
    """The dependency every API route has: nothing without `auth`, else Basic user:password or Bearer password."""

    def require(request: Request, user: Annotated[HTTPBasicCredentials | None, Depends(BASIC)],
                token: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> None:
        if auth is None:
            return
        client = request.client.host if request.client else "unknown"
        wait = logins.wait(client)
        if wait > 0:
            seconds = str(math.ceil(wait))
            raise HTTPException(429, f"too many failed logins: try again in {seconds} s",
                                headers={"Retry-After": seconds})
        name, password = auth
        if user is not None:
            ok = compare_digest(user.username.encode(), name.encode()) & compare_digest(
                user.password.encode(), password.encode())
        elif token is not None:
            ok = compare_digest(token.credentials.encode(), password.encode())
        else:
            ok = False
        if ok:
            logins.succeeded(client)
            return
        if user is not None or token is not None:
            logins.failed(client)
        raise HTTPException(401, "this server needs a login: HTTP Basic user:password, or Bearer <password>",
                            headers={"WWW-Authenticate": 'Basic realm="ReportQA", Bearer'})

    return require
