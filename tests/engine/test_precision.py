"""backend/engine/precision.py: int8 on the CPU decodes the same tokens as the float32 reference.

Where a checkpoint's top two candidates for a token are nearly tied, dynamic int8 may
pick the other one; on the test checkpoints (random words, and the trained 20-word
model on clear speech) the margins are wide and the tokens must match exactly.
"""

from __future__ import annotations

import pytest
import torch

from backend import audio
from backend.engine import precision
from backend.engine.engine import Engine
from backend.engine.precision import Precision, resolve_precision
from backend.status import ModelState
from backend.transcript import Options


def test_auto_is_int8_on_cpu_and_float16_on_cuda():
    assert resolve_precision("auto", torch.device("cpu")) is Precision.INT8
    assert resolve_precision("auto", torch.device("cpu"), width=768) is Precision.INT8  # whisper-small
    assert resolve_precision("auto", torch.device("cuda")) is Precision.FLOAT16
    assert resolve_precision("auto", torch.device("mps")) is Precision.FLOAT32
    assert resolve_precision("bfloat16", torch.device("cpu")) is Precision.BFLOAT16
    with pytest.raises(ValueError, match="CPU only"):
        resolve_precision("int8", torch.device("cuda"))


def test_auto_keeps_models_too_narrow_for_int8_in_float32(random_checkpoint):
    """int8 makes a 128-wide model no faster, only less exact."""
    assert resolve_precision("auto", torch.device("cpu"), width=128) is Precision.FLOAT32
    engine = Engine(str(random_checkpoint), device="cpu")
    engine.start()
    assert engine.wait_until_loaded(120).state is ModelState.READY
    assert engine.precision is Precision.FLOAT32
    assert "float32 on cpu" in engine.status.detail


def engines(checkpoint) -> dict[Precision, Engine]:
    made = {p: Engine(str(checkpoint), device="cpu", precision=p) for p in (Precision.FLOAT32, Precision.INT8)}
    for engine in made.values():
        engine.start()
        assert engine.wait_until_loaded(120).state is ModelState.READY
    return made


def test_int8_linear_layers_are_quantized(random_checkpoint):
    model = engines(random_checkpoint)[Precision.INT8]._ready()[0]
    assert not any(type(m) is torch.nn.Linear for m in model.modules())
    assert model.get_input_embeddings().weight.dtype is torch.int8  # looked up only: a quarter of the memory
    cross = model.get_decoder().layers[0].encoder_attn
    encoded = torch.randn(1, 10, model.config.d_model)
    assert cross.k_proj(encoded).dtype is cross.v_proj(encoded).dtype is torch.bfloat16  # cached a window long
    assert cross.q_proj(encoded).dtype is torch.float32


def test_a_long_input_goes_through_int8_a_block_of_rows_at_a_time_each_row_scaled_to_its_own_peak():
    linear = torch.nn.Linear(64, 32)
    rows = torch.randn(precision.ROWS_AT_ONCE * 2 + 100, 64, generator=torch.Generator().manual_seed(0))
    rows[::7] *= 1000  # loud rows beside quiet ones, in every block
    quantized = precision.Int8Linear(linear, reduce_range=True)
    with torch.no_grad():
        exact, got = linear(rows), quantized(rows)
    assert got.shape == exact.shape
    error = (got - exact).norm(dim=-1) / exact.norm(dim=-1)
    assert float(error.max()) < 0.03  # quiet rows as exact as loud ones: each has all its levels


def test_an_int8_row_gives_the_same_result_alone_or_beside_any_other_rows():
    """A chunk must decode to the same text alone or in a batch, and after the others in its batch have
    finished (a streamed answer's first batch is one chunk): within ``alike_rows``, as batched decoding
    runs, each row is quantized the same way whatever shares the kernel's call."""
    linear = torch.nn.Linear(64, 32)
    rows = torch.randn(40, 64, generator=torch.Generator().manual_seed(1))
    rows[3] *= 50  # a loud neighbour
    rows[5] = rows[5].abs()  # a row with no negative value: alone, its own range would be lopsided
    quantized = precision.Int8Linear(linear, reduce_range=True)
    with torch.no_grad(), precision.alike_rows():
        together = quantized(rows)
        for index in (0, 5, 39):
            assert torch.equal(quantized(rows[index : index + 1]), together[index : index + 1])
        assert torch.equal(quantized(rows[:7])[5], together[5])


def test_an_int8_embedding_gives_each_token_its_row_within_half_a_step_of_its_peak():
    float_embedding = torch.nn.Embedding(1000, 64)
    with torch.no_grad():
        float_embedding.weight[7] *= 1000  # one loud row: the others keep their own resolution
    embedding = precision.Int8Embedding(float_embedding, rows_at_once=300)  # rows in pieces, one left over
    ids = torch.tensor([[0, 7, 999], [5, 6, 300]])
    expected = float_embedding(ids).detach()
    step = expected.abs().amax(-1, keepdim=True) / 127
    looked_up = embedding(ids)
    assert looked_up.dtype is torch.float32 and looked_up.shape == expected.shape
    assert bool(((looked_up - expected).abs() <= step / 2 + 1e-6).all())
    assert bool(((looked_up - expected).abs() > step / 100).any())  # int8 indeed, not a float copy


@pytest.mark.parametrize("kind", ["wav", "webm", "mp3"])
def test_int8_agrees_with_float32_token_by_token_on_the_random_checkpoint(random_checkpoint, media, kind):
    """A random model has near-ties everywhere, so one flipped word sends free-running
    greedy decoding elsewhere. Fed the float32 transcript token by token (teacher
    forcing), int8 must pick the same next token nearly everywhere."""
    from backend.engine.features import log_mel

    made = engines(random_checkpoint)
    reference, processor = made[Precision.FLOAT32]._ready()
    quantized, _ = made[Precision.INT8]._ready()
    features = log_mel(audio.decode(media[kind]), processor.feature_extractor)
    prompt = processor.tokenizer.convert_tokens_to_ids(
        ["<|startoftranscript|>", "<|en|>", "<|transcribe|>", "<|notimestamps|>"]
    )
    with torch.inference_mode():
        tokens = reference.generate(features, language="en", task="transcribe")  # the new tokens only
        forced = torch.cat([torch.tensor([prompt]), tokens[:, :-1]], dim=-1)
        picks = {
            name: model(input_features=features, decoder_input_ids=forced).logits.argmax(-1)[:, len(prompt) - 1 :]
            for name, model in (("float32", reference), ("int8", quantized))
        }
    agreement = (picks["float32"] == picks["int8"]).float().mean().item()
    assert tokens.shape[-1] > 5 and agreement >= 0.9, agreement


def test_int8_gives_the_float32_words_on_the_trained_checkpoint(words_checkpoint, speak):
    made = engines(words_checkpoint)
    for text in ("three seven stop go", "yes no up down left right", "zero one two eight nine off on"):
        samples = audio.decode(speak(text, pad_seconds=0.5))
        results = {p: e.transcribe(samples, Options(language="en", temperature=0)).text for p, e in made.items()}
        assert results[Precision.INT8] == results[Precision.FLOAT32]


def resident_kb(path) -> int:
    """How much of ``path``'s memory maps is resident in this process, from /proc/self/smaps."""
    total, inside = 0, False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            head = line.split(maxsplit=5)
            if len(head) >= 5 and "-" in head[0]:
                inside = line.rstrip().endswith(str(path))
            elif inside and line.startswith("Rss:"):
                total += int(line.split()[1])
    return total


def test_released_checkpoint_pages_leave_resident_memory(tmp_path):
    """What keeps int8 loading of whisper-small under 1 GB: pages of the memory-mapped
    float32 checkpoint that quantizing read are handed back to the OS."""
    import mmap
    import sys

    from backend.engine.precision import release_pages

    if sys.platform != "linux":
        pytest.skip("reads /proc/self/smaps")
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(bytes(range(256)) * 40_000)  # ~10 MB
    with weights.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_COPY) as mapped:
        assert sum(mapped[i] for i in range(0, len(mapped), 4096)) >= 0  # read every page
        assert resident_kb(weights) > 8_000
        release_pages([weights])
        assert resident_kb(weights) < 1_000


class Layers(torch.nn.Module):
    """One Linear in a ModuleList (as Whisper's layers are) and one outside it, and a token embedding."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.layers = torch.nn.ModuleList([torch.nn.Linear(64, 64)])
        self.head = torch.nn.Linear(64, 64)
        self.embed = torch.nn.Embedding(10, 64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.layers[0](x))

    def get_input_embeddings(self) -> torch.nn.Module:
        return self.embed

    def set_input_embeddings(self, embedding: torch.nn.Module) -> None:
        self.embed = embedding


@pytest.mark.parametrize("vnni", [True, False])
def test_int8_scales_each_token_and_keeps_all_eight_bits_where_the_cpu_sums_in_32_bits(monkeypatch, vnni):
    """Under torch's dynamic quantization a few loud tokens (Whisper's encoder has some) set the
    scale of a whole activation and leave the other rows a handful of levels; per token each row
    gets its own. Without VNNI 8 bits could overflow, so 7 it stays."""
    monkeypatch.setattr(precision, "has_vnni", lambda: vnni)
    x = torch.randn(500, 64)
    x[::50] *= 40
    with torch.no_grad():
        exact = Layers()(x)
        quantized = precision.quantize_int8(Layers(), [])
        assert all(isinstance(m, precision.Int8Linear) for m in (quantized.layers[0], quantized.head))
        assert all(m.reduce_range is not vnni for m in (quantized.layers[0], quantized.head))
        per_tensor = torch.ao.quantization.quantize_dynamic(Layers(), {torch.nn.Linear}, dtype=torch.qint8)
        quiet = torch.ones(len(x), dtype=torch.bool)
        quiet[::50] = False
        error = float((quantized(x) - exact)[quiet].abs().mean() / (per_tensor(x) - exact)[quiet].abs().mean())
        one_row = torch.cat([quantized(row[None]) for row in x])  # a decoder step
    assert error < 0.25
    for output in (quantized(x), one_row):
        assert float(((output - exact).norm(dim=-1) / exact.norm(dim=-1)).max()) < 0.05


def test_int8_moves_real_whisper_base_no_more_than_ctranslate2_int8(base_ct2, base_converted, hear):
    """The encoder's output on speech, int8 against float32: torch's dynamic quantization moved
    it 14 % (relative norm), CTranslate2's int8 (faster-whisper) 5.6 %, Hush's must not be further."""
    import copy

    import ctranslate2
    import numpy as np
    from transformers import WhisperFeatureExtractor, WhisperForConditionalGeneration

    from backend.engine.features import log_mel

    samples = hear("The careful librarian painted the yellow wagon at the train station after the storm.")
    features = log_mel(samples, WhisperFeatureExtractor.from_pretrained(base_converted))
    model = WhisperForConditionalGeneration.from_pretrained(base_converted, dtype=torch.float32).eval()
    with torch.inference_mode():
        exact = model.get_encoder()(features).last_hidden_state[0]
        hush = precision.quantize_int8(copy.deepcopy(model), []).get_encoder()(features).last_hidden_state[0]
    reference = ctranslate2.models.Whisper(str(base_ct2), device="cpu", compute_type="int8")
    encoded = reference.encode(ctranslate2.StorageView.from_array(features.numpy()), to_cpu=True)
    moved = {
        name: float((output - exact).norm() / exact.norm())
        for name, output in (("hush", hush), ("ctranslate2", torch.from_numpy(np.array(encoded))[0]))
    }
    print(f"int8 encoder output moved from float32: {moved}")
    assert moved["hush"] < 1.15 * moved["ctranslate2"]
