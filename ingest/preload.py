"""Imported once by the forkserver that ingest's worker processes are forked from (ingest.workers): what every
worker would otherwise load for its first file, the reading code and jieba's dictionary, is loaded there and
inherited by each fork."""

from ingest import names, workers  # noqa: F401  (workers: the module each worker runs)

names.load()
