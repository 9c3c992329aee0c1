"""Question answering with cited answers over the ingested reports.

`Engine(store).answer(question, history)` returns an `Answer`; `answer_stream` yields the same
answer as tagged `AnswerEvent`s for the web chat.
"""

from qa.engine import Engine
from qa.model import Answer, AnswerEvent, Citation, Query
from qa.understand import understand

__all__ = ["Answer", "AnswerEvent", "Citation", "Engine", "Query", "understand"]
