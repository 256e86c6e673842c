"""CTranslate2's ``model.bin`` (what faster-whisper loads), read without CTranslate2.

The layout is the one ``ctranslate2/specs/model_spec.py`` writes (binary version 6; 4 and 5
read the same way, and every CTranslate2 Whisper model is at least 4). Little-endian:
``u32`` version, string spec name, ``u32`` spec revision, ``u32`` variable count; per
variable a string name, ``u8`` rank, ``u32`` per dimension, ``u8`` dtype id, ``u32`` byte
count and the data; then ``u32`` alias count and (alias, target) string pairs. A string is a
``u16`` length and that many bytes, the last a NUL.

The file is memory-mapped copy-on-write: tensors are views of it, nothing is read until a
tensor is used (a 3 GB large-v3 costs no copy up front) and nothing is ever written back.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

#: CTranslate2's DataType enum, in its order (include/ctranslate2/types.h).
DTYPE_NAMES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
DTYPE_SIZES = (4, 1, 2, 4, 2, 2)
VERSIONS = range(4, 7)
WHISPER_SPEC = "WhisperSpec"


class FormatError(ValueError):
    """The file is not a CTranslate2 model, or not a whole one; the message says which."""


@dataclass(frozen=True)
class Variable:
    name: str
    shape: tuple[int, ...]
    dtype: str
    offset: int  # of the data, from the start of the file
    size: int  # in bytes


@dataclass
class Index:
    """What the file holds, without its data: enough to recognise a model and size it."""

    spec: str
    revision: int
    variables: dict[str, Variable]
    aliases: dict[str, str] = field(default_factory=dict)

    def variable(self, name: str) -> Variable:
        """``name``'s entry, following an alias (the tied output projection is one)."""
        name = self.aliases.get(name, name)
        if name not in self.variables:
            raise FormatError(f"it has no variable '{name}', which a {self.spec} model needs")
        return self.variables[name]


class Reader:
    """Sequential reads over a buffer that name what was being read when the bytes ran out."""

    def __init__(self, data: bytes | mmap.mmap) -> None:
        self.data, self.pos = data, 0

    def take(self, size: int, what: str) -> bytes:
        if self.pos + size > len(self.data):
            raise FormatError(f"it ends early, inside {what}: the file is incomplete")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def skip(self, size: int, what: str) -> None:
        if self.pos + size > len(self.data):
            raise FormatError(f"it ends early, inside {what}: the file is incomplete")
        self.pos += size

    def number(self, fmt: str, what: str) -> int:
        return struct.unpack("<" + fmt, self.take(struct.calcsize(fmt), what))[0]

    def string(self, what: str) -> str:
        raw = self.take(self.number("H", what), what)
        try:
            return raw.rstrip(b"\0").decode("utf-8")
        except UnicodeDecodeError as error:
            raise FormatError(f"{what} is not text: this is not a CTranslate2 model") from error


def spec_of(path: Path) -> str | None:
    """The model kind a file declares (``WhisperSpec`` for Whisper), or None for anything that
    is not a CTranslate2 model. Reads a few bytes: cheap enough to scan a cache with."""
    try:
        with open(path, "rb") as file:
            head = Reader(file.read(512))
        if head.number("I", "the version") not in VERSIONS:
            return None
        return head.string("the spec name")
    except (OSError, FormatError):
        return None


def index(data: bytes | mmap.mmap) -> Index:
    """Parse the header of every variable, checking that the whole file is there."""
    reader = Reader(data)
    version = reader.number("I", "the version number")
    if version not in VERSIONS:
        raise FormatError("it is not a CTranslate2 model (its first bytes are not a known format version)")
    spec = reader.string("the spec name")
    revision = reader.number("I", "the spec revision")
    count = reader.number("I", "the variable count")
    variables: dict[str, Variable] = {}
    for number in range(1, count + 1):
        where = f"variable {number} of {count}"
        name = reader.string(where)
        where = f"variable {number} of {count} ({name})"
        rank = reader.number("B", where)
        shape = tuple(reader.number("I", where) for _ in range(rank))
        dtype_id = reader.number("B", where)
        if dtype_id >= len(DTYPE_NAMES):
            raise FormatError(f"{where} has an unknown data type ({dtype_id}): this is not a CTranslate2 model")
        size = reader.number("I", where)
        expected = DTYPE_SIZES[dtype_id]
        for dim in shape:
            expected *= dim
        if size != expected:
            raise FormatError(f"{where} declares {size} bytes for its shape {list(shape)}: the file is damaged")
        variables[name] = Variable(name, shape, DTYPE_NAMES[dtype_id], reader.pos, size)
        reader.skip(size, where)
    aliases = {}
    for _ in range(reader.number("I", "the alias count")):
        alias = reader.string("the aliases")
        aliases[alias] = reader.string("the aliases")
    if reader.pos != len(data):
        raise FormatError(f"it has {len(data) - reader.pos} bytes after its last entry: the file is damaged")
    return Index(spec, revision, variables, aliases)


class ModelFile:
    """An open ``model.bin``: its index and its variables as tensors (views of the mapping)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with open(path, "rb") as file:
            if path.stat().st_size == 0:
                raise FormatError("it is empty")
            self._map = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_COPY)
        self.index = index(self._map)

    def tensor(self, name: str) -> torch.Tensor:
        """The variable as stored (int8 stays int8; see ``dequantized``)."""
        import torch

        entry = self.index.variable(name)
        dtype = getattr(torch, entry.dtype)
        count = entry.size // DTYPE_SIZES[DTYPE_NAMES.index(entry.dtype)]
        flat = torch.frombuffer(self._map, dtype=dtype, count=count, offset=entry.offset) if count else None
        return flat.view(entry.shape) if flat is not None else torch.empty(entry.shape, dtype=dtype)

    def has(self, name: str) -> bool:
        return self.index.aliases.get(name, name) in self.index.variables

    def dequantized(self, name: str, dtype: torch.dtype) -> torch.Tensor:
        """The variable in ``dtype``; quantized weights are divided by their ``<name>_scale``
        (int8: one scale per output row, as CTranslate2 quantizes; int16: one for the tensor)."""
        value = self.tensor(name)
        if value.is_floating_point():
            return value.to(dtype)
        scale_name = self.index.aliases.get(name, name) + "_scale"
        if not self.has(scale_name):
            raise FormatError(f"the quantized variable '{name}' has no '{scale_name}'")
        scale = self.tensor(scale_name).float()
        if scale.dim() == 1:
            scale = scale.view(-1, *([1] * (value.dim() - 1)))
        return (value.float() / scale).to(dtype)

    def scalar(self, name: str) -> int:
        return int(self.tensor(name).item())
