"""The web chat: a Gradio Blocks app with a chat tab and a corpus tab over one shared store and engine.

`build_app` only builds (tests launch it in-process on a free port); `launch` starts it behind the Host and
login guards (ui/web/guard.py) after tidying the store; `serve` does both for `reportqa serve` and loads the
embedding model in the background meanwhile.

Without a login, whoever reaches the server may ask, upload and remove: that is the intent for the default
loopback bind (one person on their own machine), and `exposure_warning` says so loudly for any other bind.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable

import gradio as gr
from starlette.middleware import Middleware

from ingest.errors import ReportQAError
from ingest.store import Store
from qa import Engine
from ui.web.api import api_routes
from ui.web.chat_page import ChatPage
from ui.web.corpus_page import CorpusPage, prune_uploads
from ui.web.diff_page import DiffPage
from ui.web.guard import FailedLogins, HostGuard, LoginThrottle, host_names, is_loopback

log = logging.getLogger(__name__)

# Questions run concurrently up to this many at once (the engine and store are thread-safe); more wait
# in the queue. Uploads and removals each have their own single slot (corpus_page.py).
CHAT_CONCURRENCY = 8
QUEUE_SIZE = 200


def build_app(store: Store, engine: Engine) -> gr.Blocks:
    """The whole page; `engine` answers with `answer_stream(question, history, agency=, year=)`."""
    # Gradio writes uploads to GRADIO_TEMP_DIR before handlers see them; keep them under $REPORTQA_HOME
    # (it is read when components and the server are created, hence set here, before both).
    os.environ["GRADIO_TEMP_DIR"] = str((store.settings.home / "gradio").resolve())
    chat = ChatPage(store, engine)
    corpus = CorpusPage(store)
    # delete_cache: Gradio's copies of uploads are only needed until the handler has copied them.
    with gr.Blocks(title="ReportQA 政府信息公开年报问答", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.Markdown("## 政府信息公开年度报告问答")
        with gr.Tabs():
            with gr.Tab("问答", id="chat"):
                chat.build()
            with gr.Tab("报告库", id="corpus"):
                corpus.build()
            with gr.Tab("年度对比", id="diff") as diff_tab:
                DiffPage(store).build(diff_tab)
        filters = [chat.agency, chat.year]
        corpus.changed.change(chat.refresh_filters, filters, filters, queue=False, api_visibility="private")
        demo.load(chat.refresh_filters, filters, filters, queue=False, api_visibility="private")
        demo.load(corpus.refresh, None, [corpus.table, corpus.choice], queue=False, api_visibility="private")
    demo.queue(default_concurrency_limit=CHAT_CONCURRENCY, max_size=QUEUE_SIZE)
    return demo


def parse_auth(auth: str | None) -> tuple[str, str] | None:
    """`user:password` (from --auth or REPORTQA_AUTH) as Gradio's auth pair; None disables the login."""
    auth = auth or os.environ.get("REPORTQA_AUTH") or None
    if auth is None:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise ReportQAError("REPORTQA_AUTH / --auth: expected 'user:password'")
    return user, password


def exposure_warning(host: str, auth: str | None) -> str | None:
    """What to tell the operator who binds a non-loopback address without a login, else None."""
    if is_loopback(host) or parse_auth(auth):
        return None
    return (f"WARNING: serving on {host} without a login: anyone who can reach this machine can read, upload and "
            "remove reports. Pass --auth user:password (or set REPORTQA_AUTH), or bind 127.0.0.1.")


def launch(demo: gr.Blocks, store: Store, *, host: str, port: int, auth: str | None, block: bool,
           allowed_hosts: Iterable[str] = (), engine: Engine | None = None) -> None:
    """Start the server; with `block=False` it runs in background threads (tests), else until Ctrl-C.

    The HTTP API (ui/web/api.py) answers with `engine` (by default a plain engine over `store`); its routes
    are given to Gradio's FastAPI app as it is created, so they come before Gradio's own routes and behind
    the same guards, and `demo.close()` stops them with the chat.

    First the store is tidied: vectors no report owns and uploads whose ingest never finished (a server
    killed mid-upload) are removed. Requests must name this server's host (`host_names`) and failed logins
    are throttled (ui/web/guard.py).

    `_frontend=False` skips Gradio's self-check, which HEADs the page with a 3 s timeout and on a miss
    demands a public share link: this app is local and offline, and a busy 2-core machine can miss 3 s
    (seen while a benchmark ran), so the check could only turn a working server into a crash."""
    if not store.read_only:
        store.recover()
        prune_uploads(store, starting=True)
    logins = FailedLogins()
    guards = [Middleware(HostGuard, names=host_names(host, allowed_hosts)), Middleware(LoginThrottle, failures=logins)]
    routes = api_routes(store, engine or Engine(store), parse_auth(auth), logins)
    demo.launch(
        server_name=host, server_port=port, auth=parse_auth(auth), auth_message="请输入用户名和密码",
        max_file_size=f"{store.settings.max_upload_mb}mb", prevent_thread_lock=not block,
        footer_links=[], show_error=False, quiet=not block, ssr_mode=False, _frontend=False,
        app_kwargs={"middleware": guards, "routes": routes, "openapi_url": None},
    )


def preload(engine: Engine) -> threading.Thread:
    """Load the embedding model, open the index and build the engine's views of the corpus in a background
    thread, so that the first question after start does not wait for them (about 10 s on two cores)."""

    def load() -> None:
        try:
            engine.store.embeddings.embed_query("政府信息公开")  # the model, and its first encode
            engine.store.count_vectors()  # the index
            engine.answer("行政处罚多少件？")  # agency index, question parsing; a fact answer never calls an LLM
        except Exception:  # the first question will load it, and report what fails then
            log.exception("preloading the model and the index failed")

    thread = threading.Thread(target=load, name="reportqa-preload", daemon=True)
    thread.start()
    return thread


def serve(engine: Engine, host: str = "127.0.0.1", port: int = 7860, auth: str | None = None,
          allowed_hosts: Iterable[str] = ()) -> None:
    """`reportqa serve`: the web chat over the engine's store, until interrupted."""
    preload(engine)
    launch(build_app(engine.store, engine), engine.store, host=host, port=port, auth=auth, block=True,
           allowed_hosts=allowed_hosts, engine=engine)
