"""backend/checkpoints/convert.py on real OpenAI weights: a converted model computes what faster-whisper computes.

The reference is CTranslate2 itself, reading the very model.bin Hush converted. Both sides run
float32 on the same float16 weights, so they differ only by the order of float32 sums: the
tolerances below are about ten times the largest differences seen (encoder 6e-4, logits 2e-4,
on values up to ~30).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from backend.checkpoints import convert, locate, model_bin, tokenizers
from backend.engine.features import log_mel
from backend.status import ModelMissing
from scripts.fetch_weights import MODELS, sha256
from tests.support.real_weights import overlap, start_engine, write_int8_ctranslate2, write_openai_checkpoint

ctranslate2 = pytest.importorskip("ctranslate2")
faster_whisper = pytest.importorskip("faster_whisper")

ENCODER_TOLERANCE = 5e-3
LOGITS_TOLERANCE = 2e-3

SENTENCES = [
    "My sister plays the piano every evening after dinner.",
    "The meeting has been moved to Thursday afternoon at three o'clock.",
    "We planted tomatoes, carrots and potatoes in the garden this spring.",
]
GERMAN = "Der Zug nach Berlin fährt heute Abend um acht Uhr vom dritten Gleis ab."


def state(folder: Path) -> dict[str, torch.Tensor]:
    tensors: dict[str, torch.Tensor] = {}
    for file in sorted(folder.glob("*.safetensors")):
        tensors.update(load_file(file))
    return tensors


def features(folder: Path, audio: np.ndarray) -> np.ndarray:
    """Hush's log-mel features of one window, as both sides get them."""
    from transformers import WhisperFeatureExtractor

    return log_mel(audio, WhisperFeatureExtractor.from_pretrained(folder)).numpy()


def reference(ct2: Path, window: np.ndarray, prompt: list[int], steps: int) -> tuple[np.ndarray, list[int], np.ndarray]:
    """CTranslate2 on ``window``: its encoder output, its greedy tokens after ``prompt`` and the
    logits it computed for each (``return_logits_vocab``), nothing suppressed."""
    model = ctranslate2.models.Whisper(str(ct2), compute_type="float32", intra_threads=2)
    encoded = np.asarray(model.encode(ctranslate2.StorageView.from_array(window), to_cpu=True))
    result = model.generate(
        ctranslate2.StorageView.from_array(window), [prompt], beam_size=1, max_length=steps,
        return_logits_vocab=True, suppress_blank=False, suppress_tokens=[],
    )[0]  # fmt: skip
    return encoded, result.sequences_ids[0], np.stack([np.asarray(step) for step in result.logits[0]])


def prompt_ids(folder: Path, multilingual: bool) -> list[int]:
    from transformers import WhisperTokenizer

    tokens = ["<|startoftranscript|>", *(["<|en|>", "<|transcribe|>"] if multilingual else []), "<|notimestamps|>"]
    return WhisperTokenizer.from_pretrained(folder).convert_tokens_to_ids(tokens)


def hush_logits(folder: Path, window: np.ndarray, tokens: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """transformers' float32 encoder output and decoder logits on the converted folder, teacher-forced."""
    from transformers import WhisperForConditionalGeneration

    model = WhisperForConditionalGeneration.from_pretrained(folder, dtype=torch.float32, local_files_only=True)
    with torch.inference_mode():
        encoded = model.model.encoder(torch.from_numpy(window)).last_hidden_state
        logits = model(encoder_outputs=(encoded,), decoder_input_ids=torch.tensor([tokens])).logits[0]
    return encoded.numpy(), logits.numpy()


@pytest.mark.parametrize("name", ["base", "tiny_en"])
def test_the_converted_model_computes_what_ctranslate2_computes(name, request, hear):
    ct2 = request.getfixturevalue(f"{name}_ct2")
    folder = request.getfixturevalue(f"{name}_converted")
    window = features(folder, hear(SENTENCES[0]))
    prompt = prompt_ids(folder, multilingual=name == "base")
    reference_encoded, tokens, expected = reference(ct2, window, prompt, steps=24)
    encoded, logits = hush_logits(folder, window, prompt + tokens)
    encoder_diff = float(np.abs(encoded - reference_encoded).max())
    logits = logits[len(prompt) - 1 : len(prompt) - 1 + len(expected)]
    logits_diff = float(np.abs(logits - expected).max())
    print(f"{name}: encoder max diff {encoder_diff:.2e}, logits max diff {logits_diff:.2e} over {len(expected)} steps")
    assert encoder_diff < ENCODER_TOLERANCE
    assert logits_diff < LOGITS_TOLERANCE
    assert (logits.argmax(-1) == expected.argmax(-1)).all()


class SameFeatures:
    """faster-whisper's feature extractor, answering with Hush's features.

    faster-whisper pads a short clip in the log-mel domain with zeros; Hush, transformers and
    openai-whisper pad the audio, so the padding is the log-mel of silence. That alone turns
    near-ties in espeak-ng speech into other words ("brown" → "round"), so both decoders get
    the same features here: what is compared is the model and the decoding. The extra last
    frame is the one faster-whisper drops (it counts ``frames - 1`` as content)."""

    def __init__(self, inner, folder: Path) -> None:
        from transformers import WhisperFeatureExtractor

        self.inner, self.extractor = inner, WhisperFeatureExtractor.from_pretrained(folder)

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def __call__(self, audio: np.ndarray, **_) -> np.ndarray:
        window = log_mel(audio, self.extractor)[0].numpy()
        return np.concatenate([window, window[:, -1:]], axis=1)


@pytest.fixture(scope="module")
def base_float32(base_converted):
    engine = start_engine(base_converted, "float32")
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def heard_by_base(base_float32, hear):
    """``heard_by_base(sentence)``: converted whisper-base's float32 greedy transcript of the
    English sentence, computed once for the tests that compare against it."""
    from backend.engine.engine import Options

    heard: dict[str, str] = {}

    def transcript(sentence: str) -> str:
        if sentence not in heard:
            heard[sentence] = base_float32.transcribe(hear(sentence), Options(language="en", temperature=0)).text
        return heard[sentence]

    return transcript


@pytest.mark.parametrize("name", ["base", "tiny_en"])
def test_greedy_transcripts_are_identical_to_faster_whisper(name, request, hear):
    from backend.engine.engine import Options

    ct2 = request.getfixturevalue(f"{name}_ct2")
    folder = request.getfixturevalue(f"{name}_converted")
    engine = start_engine(folder, "float32") if name != "base" else None
    heard_by_base = request.getfixturevalue("heard_by_base") if name == "base" else None
    reference = faster_whisper.WhisperModel(str(ct2), device="cpu", compute_type="float32", cpu_threads=2)
    reference.feature_extractor = SameFeatures(reference.feature_extractor, folder)
    clips = [(sentence, "en") for sentence in SENTENCES]
    if name == "base":
        clips.append((GERMAN, None))  # language detection too
    for sentence, language in clips:
        audio = hear(sentence, voice="en-us" if language else "de")
        if heard_by_base and language:
            ours = heard_by_base(sentence), language
        else:
            transcript = (engine or request.getfixturevalue("base_float32")).transcribe(
                audio, Options(language=language, temperature=0)
            )
            ours = transcript.text, transcript.language
        segments, info = reference.transcribe(
            audio, language=language, beam_size=1, temperature=0, condition_on_previous_text=False,
            vad_filter=False, no_speech_threshold=None,
        )  # fmt: skip
        theirs = "".join(segment.text for segment in segments).strip()
        assert ours == (theirs, info.language), f"{sentence!r}: Hush heard {ours}, faster-whisper {theirs!r}"
    if engine is not None:
        engine.close()


def test_an_openai_checkpoint_converts_to_the_same_model(base_ct2, base_converted, tmp_path, monkeypatch):
    """A ``.pt`` written in openai-whisper's layout from the same weights converts to the very
    same tensors, configs and tokens, so its transcripts and logits are those of the test above."""
    monkeypatch.setenv("HUSH_CACHE_DIR", str(tmp_path / "cache"))
    checkpoint = write_openai_checkpoint(base_ct2, tmp_path / "base.pt")
    folder = locate.locate(str(checkpoint))
    ours, theirs = state(folder), state(base_converted)
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[name], theirs[name]) for name in ours)

    def config(path: Path) -> dict:
        values = json.loads(path.read_text())
        values.pop("transformers_version", None)
        return values

    for name in ("config.json", "generation_config.json", "preprocessor_config.json"):
        assert config(folder / name) == config(base_converted / name), name
    from tokenizers import Tokenizer

    bundled, shipped = (Tokenizer.from_file(str(f / "tokenizer.json")) for f in (folder, base_converted))
    assert bundled.get_vocab(with_added_tokens=True) == shipped.get_vocab(with_added_tokens=True)
    text = "Grüße aus München! 3 o'clock, ♪ [music]"
    assert bundled.encode(text).ids == shipped.encode(text).ids


def test_int8_weights_are_dequantized_as_ctranslate2_does(base_ct2, heard_by_base, tmp_path, monkeypatch, hear):
    from backend.engine.engine import Options

    monkeypatch.setenv("HUSH_CACHE_DIR", str(tmp_path / "cache"))
    quantized = write_int8_ctranslate2(base_ct2, tmp_path / "whisper-base-int8")
    index = model_bin.ModelFile(quantized / "model.bin").index
    assert index.variable("encoder/layer_0/ffn/linear_0/weight").dtype == "int8"
    folder = locate.locate(str(quantized))
    window = features(folder, hear(SENTENCES[0]))
    prompt = prompt_ids(folder, multilingual=True)
    _, tokens, expected = reference(quantized, window, prompt, steps=16)  # CTranslate2 dequantizes too
    _, logits = hush_logits(folder, window, prompt + tokens)
    logits_diff = float(np.abs(logits[len(prompt) - 1 : len(prompt) - 1 + len(expected)] - expected).max())
    print(f"int8 whisper-base: logits max diff {logits_diff:.2e}")
    assert logits_diff < LOGITS_TOLERANCE
    engine = start_engine(folder, "float32")
    try:
        for sentence in SENTENCES:
            original = heard_by_base(sentence)
            dequantized = engine.transcribe(hear(sentence), Options(language="en", temperature=0)).text
            print(f"int8 whisper-base: {dequantized!r} (float16 original: {original!r})")
            assert overlap(original, dequantized) >= 0.8, (original, dequantized)
    finally:
        engine.close()


def test_a_second_locate_reuses_the_conversion_and_the_originals_stay_as_they_were(tiny_en_ct2, tiny_en_converted):
    said: list[str] = []
    started = time.perf_counter()
    assert locate.locate(str(tiny_en_ct2), on_status=said.append) == tiny_en_converted
    assert locate.locate(str(tiny_en_ct2 / "model.bin")) == tiny_en_converted
    assert time.perf_counter() - started < 0.5 and said == []
    weights = next(w for w in MODELS if w.name == "whisper-tiny.en")
    assert sha256(tiny_en_ct2 / "model.bin") == weights.sha256
    assert json.loads((tiny_en_converted / convert.CONVERSION_RECORD).read_text())["converter"] == 1


def test_progress_is_reported_and_large_models_are_written_in_shards(tiny_en_ct2, tiny_en_converted, tmp_path):
    said: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(convert, "SHARD_BYTES", 10_000_000)
        folder = convert.converted(tiny_en_ct2, said.append, root=tmp_path)
    progress = [s for s in said if s.startswith("Converting model.bin (")]
    assert len(progress) >= 3 and progress[-1] == "Converting model.bin (100 %)…", said
    assert len(list(folder.glob("*.safetensors"))) == len(progress)
    assert (folder / "model.safetensors.index.json").is_file()
    ours, single = state(folder), state(tiny_en_converted)
    assert ours.keys() == single.keys() and all(torch.equal(ours[k], single[k]) for k in ours)
    from transformers import WhisperForConditionalGeneration

    _, loading = WhisperForConditionalGeneration.from_pretrained(folder, output_loading_info=True)
    assert not any(loading.values()), loading  # nothing missing, unexpected or mismatched


def test_the_configs_are_those_of_the_published_checkpoints(base_ct2, base_converted, tiny_en_ct2, tiny_en_converted):
    from transformers import GenerationConfig, WhisperConfig, WhisperFeatureExtractor

    for ct2, folder, multilingual in ((base_ct2, base_converted, True), (tiny_en_ct2, tiny_en_converted, False)):
        source = json.loads((ct2 / "config.json").read_text())
        generation = GenerationConfig.from_pretrained(folder)
        config = WhisperConfig.from_pretrained(folder)
        end = 50257 if multilingual else 50256
        assert generation.is_multilingual is multilingual
        assert generation.alignment_heads == source["alignment_heads"]
        assert generation.suppress_tokens == source["suppress_ids"] == config.suppress_tokens
        assert generation.begin_suppress_tokens == source["suppress_ids_begin"] == [220, end]
        assert (generation.eos_token_id, generation.decoder_start_token_id) == (end, end + 1)
        assert generation.no_timestamps_token_id == end + 106 and generation.prev_sot_token_id == end + 104
        assert generation.max_initial_timestamp_index == 50
        assert WhisperFeatureExtractor.from_pretrained(folder).feature_size == config.num_mel_bins == 80
        if multilingual:
            assert len(generation.lang_to_id) == 99 and generation.lang_to_id["<|de|>"] == 50261
            assert generation.task_to_id == {"transcribe": 50359, "translate": 50358}
        else:
            assert not getattr(generation, "lang_to_id", None)


def test_the_shipped_tokenizers_are_whispers(base_ct2, tiny_en_ct2):
    """The BPE files Hush ships for ``.pt`` checkpoints are those of the real tokenizer.json files,
    and openai-whisper's rule for the symbols it suppresses gives the configs' lists."""
    for ct2, multilingual in ((base_ct2, True), (tiny_en_ct2, False)):
        vocabulary = tokenizers.read_vocabulary(ct2)
        text, merges = tokenizers.bundled(multilingual)
        assert tuple(vocabulary[: len(text)]) == text
        assert tuple(tokenizers.read_merges(ct2 / "tokenizer.json")) == merges
        tokenizer = tokenizers.standard(len(vocabulary))
        ids = tokenizer.convert_tokens_to_ids
        specials = ["<|transcribe|>", "<|translate|>", "<|startoftranscript|>", "<|startofprev|>", "<|startoflm|>"]
        expected = json.loads((ct2 / "config.json").read_text())["suppress_ids"]
        computed = {*tokenizers.non_speech_tokens(tokenizer), *ids(specials), ids("<|notimestamps|>") - 1}
        assert sorted(computed) == expected


def test_a_faster_whisper_model_in_the_hub_cache_loads_by_its_id(tiny_en_ct2, tiny_en_converted, tmp_path, monkeypatch):
    """Systran/faster-whisper-* as huggingface_hub stores them (blobs behind a snapshot of links);
    without tokenizer.json, whose merges Hush then takes from its own copy."""
    import huggingface_hub.constants

    from backend.checkpoints import catalog

    repo = tmp_path / "hub" / "models--Systran--faster-whisper-tiny.en"
    snapshot = repo / "snapshots" / "5a1b2c3d"
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("5a1b2c3d")
    for name in ("model.bin", "config.json", "vocabulary.txt"):
        (snapshot / name).symlink_to(tiny_en_ct2 / name)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HUSH_CACHE_DIR", str(tmp_path / "cache"))
    folder = locate.locate("Systran/faster-whisper-tiny.en")
    assert folder.name.startswith("faster-whisper-tiny.en-") and folder.parent == tmp_path / "cache" / "converted"
    ours, theirs = state(folder), state(tiny_en_converted)
    assert all(torch.equal(ours[name], theirs[name]) for name in theirs)
    assert (folder / "tokenizer.json").read_text() == (tiny_en_converted / "tokenizer.json").read_text()
    [found] = catalog.found_on_this_computer(tmp_path / "hub", tmp_path / "no-whisper")
    assert (found.name, found.multilingual) == ("Systran/faster-whisper-tiny.en", False)
    assert locate.locate(found.id) == folder


# -- files Hush cannot use ---------------------------------------------------------------------------
def faster_whisper_folder_with(model_bin: bytes, like: Path, folder: Path) -> Path:
    folder.mkdir()
    for name in ("config.json", "tokenizer.json", "vocabulary.txt", "vocabulary.json"):
        if (like / name).is_file():
            shutil.copy(like / name, folder / name)
    (folder / "model.bin").write_bytes(model_bin)
    return folder


def header(spec: str) -> bytes:
    name = spec.encode() + b"\0"
    return (6).to_bytes(4, "little") + len(name).to_bytes(2, "little") + name + (1).to_bytes(4, "little")


@pytest.fixture
def empty_cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("HUSH_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "converted"


def assert_nothing_cached(cache: Path) -> None:
    assert not cache.exists() or list(cache.iterdir()) == []


def test_a_truncated_model_bin_names_the_problem_and_leaves_nothing(tiny_en_ct2, tmp_path, empty_cache):
    whole = (tiny_en_ct2 / "model.bin").read_bytes()
    folder = faster_whisper_folder_with(whole[: len(whole) * 2 // 3], tiny_en_ct2, tmp_path / "cut")
    with pytest.raises(convert.ModelUnreadable) as error:
        locate.locate(str(folder))
    message = str(error.value)
    assert str(folder / "model.bin") in message and "ends early" in message and "incomplete" in message
    assert "Download or copy the model again" in message
    assert_nothing_cached(empty_cache)


def test_files_that_are_not_whisper_get_a_reason(tiny_en_ct2, tmp_path, empty_cache):
    noise = faster_whisper_folder_with(os.urandom(100_000), tiny_en_ct2, tmp_path / "noise")
    translator = faster_whisper_folder_with(header("TransformerSpec") + bytes(4), tiny_en_ct2, tmp_path / "mt")
    not_whisper = tmp_path / "classifier.pt"
    torch.save({"state_dict": {"fc.weight": torch.zeros(2, 2)}}, not_whisper)
    text = tmp_path / "notes.pt"
    text.write_text("not a checkpoint")
    expectations = {
        noise: "it is not a CTranslate2 model",
        translator: "it is a CTranslate2 TransformerSpec, not Whisper",
        not_whisper: "it is a PyTorch file but not an openai-whisper checkpoint",
        text: "it is not a PyTorch checkpoint, or not a complete one",
    }
    for path, reason in expectations.items():
        with pytest.raises(convert.ModelUnreadable, match=reason):
            locate.locate(str(path))
    with pytest.raises(ModelMissing, match="is a file but not a Whisper model"):
        locate.locate(str(tiny_en_ct2 / "config.json"))
    assert_nothing_cached(empty_cache)


def test_a_conversion_that_fails_midway_leaves_nothing(tiny_en_ct2, tmp_path, monkeypatch, empty_cache):
    written: list[Path] = []

    def full_disk(tensors, path, metadata=None):
        if written:
            raise OSError(28, "No space left on device")
        written.append(path)
        Path(path).write_bytes(b"partial")

    monkeypatch.setattr(convert, "SHARD_BYTES", 20_000_000)
    monkeypatch.setattr(convert, "save_file", full_disk)
    with pytest.raises(OSError, match="No space left"):
        locate.locate(str(tiny_en_ct2))
    assert written and not written[0].exists()
    assert_nothing_cached(empty_cache)
