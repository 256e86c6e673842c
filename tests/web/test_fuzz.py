"""Property-based fuzzing: the decoder (hypothesis) and the HTTP API from its OpenAPI schema (schemathesis).

The default run tries a few hundred inputs; ``--slow`` (or ``HUSH_SLOW_TESTS=1``) over
10,000. Every count, and every 5xx seen, is printed in the run's "reliability figures".
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend import audio
from tests.support.helpers import wait_until

#: (arbitrary bytes, mutated recordings, API requests per operation): quick run, slow run.
COUNTS = {False: (150, 150, 15), True: (3_500, 3_500, 500)}
#: The API this issue owns; ``/api/models`` downloads from the internet and is fuzzed elsewhere.
FUZZED_PATHS = re.compile(r"^/(api/(health|transcriptions|exports)|v1/audio|v1/models$)")
FUZZ_SETTINGS = {"deadline": None, "database": None, "suppress_health_check": list(HealthCheck), "derandomize": True}


def decodes_or_refuses(data: bytes) -> None:
    """The property: float32 mono samples, or ``AudioError`` — never another exception."""
    import io

    try:
        samples = audio.decode(io.BytesIO(data), "fuzz")
    except audio.AudioError as error:
        assert str(error)
        return
    assert samples.dtype == np.float32 and samples.ndim == 1 and samples.size > 0


def test_the_decoder_on_arbitrary_bytes(slow, figures):
    count = COUNTS[slow][0]
    tried = 0

    @settings(max_examples=count, **FUZZ_SETTINGS)
    @given(
        st.one_of(
            st.binary(max_size=4096),
            st.sampled_from([b"RIFF", b"OggS", b"\x1aE\xdf\xa3", b"ID3"]).flatmap(
                lambda magic: st.binary(max_size=2048).map(lambda rest: magic + rest)
            ),
        )
    )
    def run(data: bytes) -> None:
        nonlocal tried
        tried += 1
        decodes_or_refuses(data)

    run()
    figures["decoder inputs tried (arbitrary bytes)"] = tried
    assert tried >= count * 0.9


@st.composite
def mutated(draw, recordings: list[bytes]) -> bytes:
    """A real recording, truncated, with bytes flipped, deleted, or garbage spliced in."""
    data = bytearray(draw(st.sampled_from(recordings)))
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["flip", "delete", "splice", "truncate"]))
        if kind == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "splice":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        else:
            del data[at:]
        if len(data) < 2:
            break
    return bytes(data)


def test_the_decoder_on_mutated_real_recordings(slow, figures, media):
    count = COUNTS[slow][1]
    recordings = [media[kind].read_bytes() for kind in ("webm", "ogg", "wav", "mp3", "m4a", "flac", "mp4", "mkv")]
    tried = 0

    @settings(max_examples=count, **FUZZ_SETTINGS)
    @given(mutated(recordings))
    def run(data: bytes) -> None:
        nonlocal tried
        tried += 1
        decodes_or_refuses(data)

    run()
    figures["decoder inputs tried (mutated recordings)"] = tried
    assert tried >= count * 0.9


def test_the_api_from_its_openapi_schema(slow, figures, random_server):
    """Every operation with generated (valid and invalid) parameters, bodies and files: never a 5xx."""
    schema = schemathesis.openapi.from_dict(random_server.server.app.openapi())
    per_operation = COUNTS[slow][2]
    auth = {"Authorization": f"Bearer {random_server.token}"}
    tried, server_errors, operations = 0, [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not FUZZED_PATHS.match(operation.path):
            continue
        operations += 1

        @settings(max_examples=per_operation, **FUZZ_SETTINGS)
        @given(operation.as_strategy())
        def run(case) -> None:
            nonlocal tried
            tried += 1
            response = case.call(base_url=random_server.url, headers=auth, timeout=60)
            if response.status_code >= 500:
                server_errors.append(f"{case.method} {case.path}: {response.status_code} {response.text[:200]}")

        run()
    figures["API requests generated from the OpenAPI schema"] = tried
    figures["API operations fuzzed"] = operations
    figures["server errors (5xx) while fuzzing"] = len(server_errors)
    assert operations >= 10
    assert server_errors == []
    with random_server.client() as client:
        assert client.get("/api/health").status_code == 200
    jobs = random_server.jobs

    def idle() -> bool:
        return not any(jobs.is_active(item.id) for item in jobs.store.list(limit=200)[0])

    wait_until(idle, 60, "the queue the fuzzer left to drain")


@pytest.fixture(scope="module", autouse=True)
def total(figures):
    yield
    figures["fuzzed inputs in total"] = sum(
        value for name, value in figures.items() if name.startswith(("decoder inputs", "API requests"))
    )
