"""Settings as data: one frozen record read from the environment, rendered by the CLI help."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

DEFAULT_MODEL = "multilingual-e5-small"


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


@dataclass(frozen=True)
class Settings:
    home: Path = field(
        default_factory=lambda: Path(_env("REPORTQA_HOME", ".reportqa")),
        metadata={"env": "REPORTQA_HOME", "help": "where the Chroma index and the fact database live"},
    )
    embed_model: str = field(
        default_factory=lambda: _env("REPORTQA_EMBED_MODEL", DEFAULT_MODEL),
        metadata={
            "env": "REPORTQA_EMBED_MODEL",
            "help": "sentence-transformers id or path; the default is materialized offline by `reportqa model`",
        },
    )
    embed_runtime: str = field(
        default_factory=lambda: _env("REPORTQA_EMBED_RUNTIME", "auto"),
        metadata={
            "env": "REPORTQA_EMBED_RUNTIME",
            "help": "auto, openvino, openvino-int8, openvino-f32 or torch: what runs the model; auto is openvino "
            "(the CPU's default precision, bf16 where it has it) for the default model once `reportqa model` "
            "exported it, torch otherwise; openvino-int8 is 1.8x faster again and less faithful",
        },
    )
    model_cache: Path = field(
        default_factory=lambda: Path(
            _env("REPORTQA_MODEL_CACHE", str(Path.home() / ".cache" / "reportqa" / "models"))
        ),
        metadata={"env": "REPORTQA_MODEL_CACHE", "help": "where `reportqa model` writes the default model"},
    )
    chroma_url: str = field(
        default_factory=lambda: _env("REPORTQA_CHROMA_URL", ""),
        metadata={"env": "REPORTQA_CHROMA_URL", "help": "http://host:port of a `chroma run` server; embedded if empty"},
    )
    db_url: str = field(
        default_factory=lambda: _env("REPORTQA_DB_URL", ""),
        metadata={
            "env": "REPORTQA_DB_URL",
            "help": "postgresql://user:password@host/db for reports, facts and records; SQLite in the home if empty",
        },
    )
    collection: str = field(
        default_factory=lambda: _env("REPORTQA_COLLECTION", "reports"),
        metadata={"env": "REPORTQA_COLLECTION", "help": "Chroma collection name"},
    )
    chunk_chars: int = field(
        default_factory=lambda: int(_env("REPORTQA_CHUNK_CHARS", "400")),
        metadata={
            "env": "REPORTQA_CHUNK_CHARS",
            "help": "longest chunk in characters (the model truncates past 512 tokens)",
        },
    )
    top_k: int = field(
        default_factory=lambda: int(_env("REPORTQA_TOP_K", "5")),
        metadata={"env": "REPORTQA_TOP_K", "help": "passages a narrative answer draws on"},
    )
    llm_url: str = field(
        default_factory=lambda: _env("REPORTQA_LLM_URL", ""),
        metadata={"env": "REPORTQA_LLM_URL", "help": "OpenAI-compatible URL of an optional LLM for narrative answers"},
    )
    max_upload_mb: int = field(
        default_factory=lambda: int(_env("REPORTQA_MAX_UPLOAD_MB", "50")),
        metadata={"env": "REPORTQA_MAX_UPLOAD_MB", "help": "largest file ingest accepts, in MB"},
    )

    @property
    def chroma_dir(self) -> Path:
        return self.home / "chroma"

    @property
    def db_path(self) -> Path:
        """SQLite file holding facts, reports and LangChain's record manager, unless `db_url` names a database."""
        return self.home / "reportqa.sqlite"


def describe() -> list[tuple[str, str, str]]:
    """(env var, current value, help) for every setting: what `reportqa settings` prints."""
    current = Settings()
    return [(f.metadata["env"], str(getattr(current, f.name)), f.metadata["help"]) for f in fields(Settings)]
