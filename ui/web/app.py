"""The web chat: a Gradio Blocks app with a chat tab and a corpus tab over one shared store and engine.

`build_app` only builds (tests launch it in-process on a free port); `serve` builds and runs it
for `reportqa serve`.
"""

from __future__ import annotations

import os

import gradio as gr

from ingest.errors import ReportQAError
from ingest.store import Store
from qa import Engine
from ui.web.chat_page import ChatPage
from ui.web.corpus_page import CorpusPage

# Questions run concurrently up to this many at once (the engine and store are thread-safe); more wait
# in the queue. Uploads and removals have their own single slot (corpus_page.py).
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


def launch(demo: gr.Blocks, store: Store, *, host: str, port: int, auth: str | None, block: bool) -> None:
    """Start the server; with `block=False` it runs in background threads (tests), else until Ctrl-C.

    `_frontend=False` skips Gradio's self-check, which HEADs the page with a 3 s timeout and on a miss
    demands a public share link: this app is local and offline, and a busy 2-core machine can miss 3 s
    (seen while a benchmark ran), so the check could only turn a working server into a crash."""
    demo.launch(
        server_name=host, server_port=port, auth=parse_auth(auth), auth_message="请输入用户名和密码",
        max_file_size=f"{store.settings.max_upload_mb}mb", prevent_thread_lock=not block,
        footer_links=[], show_error=False, quiet=not block, ssr_mode=False, _frontend=False,
    )


def serve(engine: Engine, host: str = "127.0.0.1", port: int = 7860, auth: str | None = None) -> None:
    """`reportqa serve`: the web chat over the engine's store, until interrupted."""
    launch(build_app(engine.store, engine), engine.store, host=host, port=port, auth=auth, block=True)
