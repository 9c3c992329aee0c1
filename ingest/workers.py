"""Files prepared (ingest.prepare) ahead of the pipeline that embeds and commits them: in worker processes, or
in this process, lazily, when there is one worker.

Processes rather than threads: reading and table recognition are pure Python and hold the GIL, so a reading
thread only took turns with the embedding (it was slower on 2 cores, issue #14). The workers are forked from a
forkserver that loaded them once (ingest.preload), never from this process, which may have torch's threads running (a
fork copies their locks mid-use); they import neither torch nor the store.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ingest.errors import Cancelled
from ingest.prepare import FileResult, Flag, Job, Prepared, guarded, prepare
from ingest.readers.scan.engine import set_threads

PageProgress = Callable[[Path, int, int], None]  # file, pages OCR'd, pages to OCR
Outcome = Callable[[], Prepared | FileResult]  # waits for a submitted file, when it must

_NICE = 10  # how much lower a worker's scheduling priority is than the embedding process's

# Set in each worker process by `_start_worker`.
_stop: Flag | None = None
_pages = None


class Preparer:
    """Prepares submitted files with `workers` processes; close it (or leave its `with`) to stop them.

    `pages` hears of each page OCR'd, from a thread of its own when workers run; setting `cancel` makes every
    outcome not yet asked for "cancelled". Closing stops a worker in the middle of a scan at its next page."""

    def __init__(self, workers: int, pages: PageProgress | None = None, cancel: Flag | None = None) -> None:
        self._pages, self._cancel = pages, cancel
        self._pool: ProcessPoolExecutor | None = None
        self.parallel = workers > 1
        if self.parallel:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["ingest.preload"])
            self._stop = context.Event()
            self._queue = context.SimpleQueue() if pages else None
            ocr_threads = max(1, (os.cpu_count() or 1) // workers)
            self._pool = ProcessPoolExecutor(workers, context, _start_worker, (self._stop, self._queue, ocr_threads))
            if self._queue is not None:
                self._relay = threading.Thread(target=self._relay_pages, name="ocr-pages", daemon=True)
                self._relay.start()

    def submit(self, job: Job) -> Outcome:
        """Start preparing `job` (at once in a worker; when asked for in this process)."""
        if self._pool is None:
            on_page = (lambda done, total: self._pages(job.path, done, total)) if self._pages else None
            return lambda: guarded(job.path, self._cancel, prepare, job, on_page)
        future = self._pool.submit(_work, job)
        return lambda: guarded(job.path, self._cancel, future.result)

    def close(self) -> None:
        """Stop the workers: those not started are dropped, a scan being read stops at its next page."""
        if self._pool is None:
            return
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._queue is not None:
            self._queue.put(None)
            self._relay.join()

    def __enter__(self) -> Preparer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _relay_pages(self) -> None:
        for path, done, total in iter(self._queue.get, None):
            self._pages(path, done, total)


def _start_worker(stop: Flag, pages, ocr_threads: int) -> None:
    global _stop, _pages
    # Ctrl-C reaches the whole process group; the parent alone handles it, stopping the workers (Preparer.close).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _stop, _pages = stop, pages
    # The embedding's threads wait for each other at every step: a worker taking one of their cores stalls them
    # all (40 generated reports, 2 cores: 92–110 s with 2 workers at its priority, 85–91 s with none, 82 s niced).
    # Niced, a worker reads with what the embedding leaves idle.
    os.nice(_NICE)
    # onnxruntime's threads spin while they wait: workers of a thread per core each would fight over the cores.
    set_threads(ocr_threads)


def _work(job: Job) -> Prepared | FileResult:
    def on_page(done: int, total: int) -> None:
        if _stop is not None and _stop.is_set():
            raise Cancelled("cancelled")
        if _pages is not None:
            _pages.put((job.path, done, total))

    return guarded(job.path, _stop, prepare, job, on_page)
