"""The default embedding model on OpenVINO: exported once by `reportqa model`, run as LangChain `Embeddings`.

`SentenceTransformer(backend="openvino")` needs optimum-intel, which pins an older transformers than ours, and a
plain trace of `BertModel` does not keep the attention mask: transformers drops an all-ones mask while tracing,
so padded batches would attend to their padding. `export` therefore converts a wrapper that builds the additive
attention mask from its `attention_mask` input itself, calls the embeddings and the encoder, mean-pools over the
mask and L2-normalizes (what the sentence-transformers modules do), with batch and length left dynamic. Weights
stay fp32 in the IR; the precision is chosen when compiling (`PRECISION` in ingest/runtime.py), logged, and kept in
`OpenVINOEmbeddings.precision`. The export checks itself against sentence-transformers on a padded batch before it
is kept.

Prompts are the model's own ("query: " for queries, "passage: " for documents) and tokenization is the model's
`tokenizer.json`, truncated to 512 tokens like sentence-transformers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import openvino as ov
from langchain_core.embeddings import Embeddings
from tokenizers import Tokenizer

from ingest.embeddings import CALIBRATION_WINDOWS, PROMPTS, build_once, checksum
from ingest.errors import ReportQAError

log = logging.getLogger(__name__)

# Bump when the export changes, so directories written by an older export are rebuilt.
EXPORT = 1
MODEL_XML = "model.xml"
CONFIG_FILE = "reportqa-openvino.json"
BATCH = 32  # texts per inference, as sentence-transformers' default
_MAX_SEQ_LENGTH = 512
# Texts of the export's self-check: different lengths, so the batch is padded.
_CHECK_TEXTS = ["行政处罚决定多少件", "本机关全年共收到政府信息公开申请117批次，办结110批次，结转下年度继续办理7批次。",
                "how many administrative penalties", ""]


def expected_checksum(model_dir: Path) -> str:
    """Identity of an export: the materialized model's checksum, this export's version and OpenVINO's."""
    source = checksum(model_dir)
    return hashlib.sha256(f"reportqa-openvino {EXPORT} {ov.get_version()} {source}".encode()).hexdigest()


def _wrapper(model_dir: Path):
    import torch
    from transformers import BertModel

    class Pooled(torch.nn.Module):
        """input_ids, attention_mask -> L2-normalized mean of the token states over the mask."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = BertModel.from_pretrained(
                str(model_dir), add_pooling_layer=False, attn_implementation="eager", local_files_only=True
            ).eval()

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert.embeddings(input_ids=input_ids)
            mask = attention_mask.to(hidden.dtype)
            additive = (1.0 - mask)[:, None, None, :] * torch.finfo(hidden.dtype).min
            states = self.bert.encoder(hidden, attention_mask=additive).last_hidden_state
            pooled = (states * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    return Pooled()


def export(model_dir: Path, target_dir: Path) -> Path:
    """Write the OpenVINO IR of the sentence-transformers model at `model_dir` to `target_dir`, once.

    Raises ReportQAError when the export does not encode like sentence-transformers (cosine < 0.9999 on a padded
    batch)."""
    model_dir = Path(model_dir)

    def build(work: Path) -> None:
        import torch
        import transformers

        transformers.utils.logging.disable_progress_bar()
        shutil.copy(model_dir / "tokenizer.json", work / "tokenizer.json")
        st_config = json.loads((model_dir / "config_sentence_transformers.json").read_text(encoding="utf-8"))
        pad = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))["pad_token_id"]
        prompts = {name: st_config.get("prompts", {}).get(name, prompt) for name, prompt in PROMPTS.items()}
        config = {"prompts": prompts, "max_seq_length": _MAX_SEQ_LENGTH, "pad_token_id": pad}
        (work / CONFIG_FILE).write_text(json.dumps(config, indent=2, ensure_ascii=False), encoding="utf-8")
        example = _batch(_tokenizer(work), [prompts["passage"] + text for text in _CHECK_TEXTS])
        dynamic = ov.PartialShape([-1, -1])
        with torch.no_grad():
            converted = ov.convert_model(
                _wrapper(model_dir),
                example_input={name: torch.from_numpy(array) for name, array in example.items()},
                input=[("input_ids", dynamic, ov.Type.i64), ("attention_mask", dynamic, ov.Type.i64)],
            )
        ov.save_model(converted, work / MODEL_XML, compress_to_fp16=False)
        _check(model_dir, work)

    return build_once(Path(target_dir), expected_checksum(model_dir), build)


# SmoothQuant's alpha for MatMuls (NNCF's transformer default is 0.95). On 400 shared-corpus passages and 30
# questions against fp32, with calibration_texts' extra windows: min cosine 0.9977 (NNCF defaults on the chunks
# alone: 0.99660), same top-5 on 21/30 questions (9/30), fp32's top-5 in the top-10 99.3% (97.3%), same speed.
# Alpha 0.75 gave min cosine 0.99796 but 12/30; 0.5 and no smoothing were worse than 0.95. The alpha was chosen on
# those passages, so they are not held out for it (the calibration never sees them).
SMOOTH_QUANT_ALPHA = 0.9


def quantize(export_dir: Path, target_dir: Path, calibration: Callable[[], list[tuple[str, str]]]) -> Path:
    """Write an int8 copy of the export at `export_dir` to `target_dir`, once: NNCF post-training quantization
    (weights and activations, transformer preset) calibrated on `calibration()`'s (prompt name, text) pairs, which
    should be report passages and questions: activation ranges fitted to other text clip on ours."""
    export_dir = Path(export_dir)

    def build(work: Path) -> None:
        import nncf

        for name in ("tokenizer.json", CONFIG_FILE):
            shutil.copy(export_dir / name, work / name)
        source = OpenVINOEmbeddings(export_dir, precision="f32")
        samples = [_batch(source._tokenizer, [source.prompts[name] + text]) for name, text in calibration()]
        quantized = nncf.quantize(
            ov.Core().read_model(export_dir / MODEL_XML), nncf.Dataset(samples),
            model_type=nncf.ModelType.TRANSFORMER, subset_size=len(samples),
            advanced_parameters=nncf.AdvancedQuantizationParameters(
                smooth_quant_alphas=nncf.AdvancedSmoothQuantParameters(matmul=SMOOTH_QUANT_ALPHA)),
        )
        ov.save_model(quantized, work / MODEL_XML, compress_to_fp16=False)

    import nncf

    config = f"smooth_quant {SMOOTH_QUANT_ALPHA} calibration windows {CALIBRATION_WINDOWS}"
    wanted = hashlib.sha256(f"int8 nncf {nncf.__version__} {config} {checksum(export_dir)}".encode()).hexdigest()
    return build_once(Path(target_dir), wanted, build)


def _check(model_dir: Path, export_dir: Path) -> None:
    """Refuse an export that does not encode as sentence-transformers does, in fp32."""
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    ours = OpenVINOEmbeddings(export_dir, precision="f32")
    for name in PROMPTS:
        expected = reference.encode(_CHECK_TEXTS, prompt_name=name, normalize_embeddings=True)
        low = float(np.min(np.sum(ours.encode(_CHECK_TEXTS, name) * expected, axis=1)))
        if low < 0.9999:
            raise ReportQAError(f"the OpenVINO export in {export_dir} does not match sentence-transformers "
                                f"({name} cosine {low:.5f}): set REPORTQA_EMBED_RUNTIME=torch")


def _tokenizer(directory: Path) -> Tokenizer:
    """The model's tokenizer, truncating and padding as sentence-transformers does; its settings never change
    after this, so threads share it."""
    config = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
    tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=config["max_seq_length"])
    pad = config["pad_token_id"]
    tokenizer.enable_padding(pad_id=pad, pad_token=tokenizer.id_to_token(pad))
    return tokenizer


def _batch(tokenizer: Tokenizer, texts: Sequence[str]) -> dict[str, np.ndarray]:
    encodings = tokenizer.encode_batch(list(texts))
    return {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
    }


class OpenVINOEmbeddings(Embeddings):
    """LangChain embeddings over an export written by `export`.

    One compiled model serves every thread: each encode borrows an infer request from a pool (one is made when
    none is idle) and returns it after, so concurrent callers (the web chat answers 8 at a time) never share a
    request. CPU pinning is off: pinned inference threads stall the calling threads when the machine is busy.
    """

    def __init__(self, directory: Path, precision: str | None = None) -> None:
        directory = Path(directory)
        if not (directory / MODEL_XML).is_file():
            raise ReportQAError(f"no OpenVINO export in {directory}: run `reportqa model`")
        config = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
        self.prompts: dict[str, str] = config["prompts"]
        self._tokenizer = _tokenizer(directory)
        properties: dict[str, object] = {"ENABLE_CPU_PINNING": False}
        if precision:
            properties["INFERENCE_PRECISION_HINT"] = precision
        self._compiled = ov.Core().compile_model(str(directory / MODEL_XML), "CPU", properties)
        self.precision = str(self._compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name())
        self._idle: queue.SimpleQueue[ov.InferRequest] = queue.SimpleQueue()
        log.info("OpenVINO embeddings from %s: inference precision %s, %s threads", directory, self.precision,
                 self._compiled.get_property("INFERENCE_NUM_THREADS"))

    @contextmanager
    def _request(self) -> Iterator[ov.InferRequest]:
        try:
            request = self._idle.get_nowait()
        except queue.Empty:
            request = self._compiled.create_infer_request()
        try:
            yield request
        finally:
            self._idle.put(request)

    def encode(self, texts: Sequence[str], prompt_name: str = "passage", batch_size: int = BATCH) -> np.ndarray:
        """Normalized embeddings of `texts` with the model's `prompt_name` prompt, one row each, in order.

        Texts are batched longest first, as sentence-transformers does, so that a batch pads little."""
        prompt = self.prompts[prompt_name]
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.empty((len(texts), self._compiled.output(0).get_partial_shape()[1].get_length()), np.float32)
        with self._request() as request:
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                request.infer(_batch(self._tokenizer, [prompt + texts[i] for i in rows]))
                out[rows] = request.get_output_tensor(0).data
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts, "passage").tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text], "query")[0].tolist()
