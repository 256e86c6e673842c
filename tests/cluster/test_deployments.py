"""Hush on a local Ray cluster: two replicas of real whisper-tiny.en (one CPU, one thread each) behind
the ingress, driven through the OpenAI SDK, Hush's own API and a desktop Hush's remote engine.

One cluster for the module (Ray on this machine, 2 CPUs, a temporary folder, no dashboard); it is
torn down at the end and leaves no Ray process behind. The tests that kill replicas run last."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import pytest
import ray
from ray import serve
from ray.serve.context import _get_global_client
from ray.serve.schema import ReplicaState, ServeInstanceDetails
from websockets.sync.client import connect

from backend.audio import wav_bytes
from backend.cluster.deployments import APP, ENGINE, Scale, application
from backend.cluster.replica import EngineReplica
from backend.cluster.serve import deploy
from backend.settings import read_settings
from backend.transcript import Segment
from backend.web.live_relay import LIVE_ON_CLUSTER
from tests.engine.test_remote import out_of_order, spoken, unheard  # noqa: F401 (spoken: a fixture)
from tests.support.helpers import wait_until
from tests.support.peers import free_port
from tests.support.real_weights import overlap

TOKEN = "cluster-test-token-0123456789"
CLIPS = [
    "The baker opened the shop before sunrise.",
    "Seven green bottles stood on the kitchen table.",
    "The pilot checked the weather over the mountains.",
    "Our neighbour repaired the wooden fence last summer.",
    "A quiet student borrowed three books from the library.",
    "The river was cold and very clear this morning.",
    "Please close the window before the storm arrives.",
    "The gardener planted roses behind the old church.",
]


@dataclass
class Cluster:
    url: str
    temp: Path

    def client(self, token: str | None = TOKEN) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=300)

    def health(self) -> dict:
        with self.client() as client:
            return client.get("api/health").json()

    def replicas(self) -> list:
        """The engine deployment's replicas as the Serve controller lists them (with their pids)."""
        details = ServeInstanceDetails(**_get_global_client().get_serve_details())
        return details.applications[APP].deployments[ENGINE].replicas

    def running(self) -> list:
        return [r for r in self.replicas() if r.state == ReplicaState.RUNNING]


def ray_processes(temp: Path) -> list[int]:
    """Processes whose command line names this cluster's folder (raylet, GCS, workers, …)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(temp) in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture(scope="module")
def cluster(tiny_en_converted, tmp_path_factory) -> Iterator[Cluster]:
    temp = Path("/tmp") / f"hush-ray-{os.getpid()}"  # short: Ray's socket paths live under it
    data = tmp_path_factory.mktemp("cluster-data")
    settings = read_settings(token=TOKEN, model=str(tiny_en_converted), data_dir=data, port=free_port())
    ray.init(
        num_cpus=2,
        object_store_memory=200 * 2**20,
        include_dashboard=False,
        _temp_dir=str(temp),
        logging_level=logging.WARNING,
        log_to_driver=False,
    )
    try:
        url = deploy(application(settings, Scale(replicas=2)), settings)
        cluster = Cluster(url, temp)
        wait_until(lambda: len(cluster.running()) == 2, 180, "both replicas to load")
        wait_until(lambda: len([w for w in cluster.health()["workers"] if w["state"] == "ready"]) == 2, 30, "health")
        yield cluster
    finally:
        serve.shutdown()
        ray.shutdown()
    wait_until(lambda: not ray_processes(temp), 30, "every Ray process of the test cluster to exit")
    shutil.rmtree(temp, ignore_errors=True)


def served_by(response: httpx.Response) -> list[str]:
    return [name.strip() for name in response.headers.get("x-hush-served-by", "").split(",") if name.strip()]


# -- the scale -------------------------------------------------------------------------------------
def test_autoscaling_aims_at_one_ongoing_request_per_replica_with_threads_from_its_cpus():
    options = Scale(min_replicas=1, max_replicas=4, cpus_per_replica=2).options()
    assert options["autoscaling_config"] == {"min_replicas": 1, "max_replicas": 4, "target_ongoing_requests": 1}
    assert options["max_ongoing_requests"] == 1 and "num_replicas" not in options
    actor = options["ray_actor_options"]
    assert actor["num_cpus"] == 2 and actor["runtime_env"]["env_vars"]["OMP_NUM_THREADS"] == "2"
    deployment = serve.deployment(EngineReplica, name=ENGINE, **options)  # Serve checks the options here
    assert deployment.max_ongoing_requests == 1 and deployment.ray_actor_options["num_cpus"] == 2


def test_a_fixed_number_of_replicas_or_autoscaling_not_both():
    assert Scale().options()["num_replicas"] == 2 and Scale().most == 2
    assert Scale(replicas=3).options()["num_replicas"] == 3
    with pytest.raises(ValueError, match="not both"):
        Scale(replicas=2, max_replicas=4)
    with pytest.raises(ValueError, match="above"):
        Scale(min_replicas=5, max_replicas=2)


# -- serving -----------------------------------------------------------------------------------------
def test_a_request_without_the_token_is_refused(cluster):
    with cluster.client(token=None) as client:
        assert client.get("v1/models").status_code == 401
        assert client.post("v1/audio/transcriptions", files={"file": ("a.wav", b"RIFF")}).status_code == 401
    with cluster.client(token="not-the-token-at-all-0000") as client:
        assert client.get("api/health").status_code == 401


def test_health_lists_both_replicas_ready(cluster):
    health = cluster.health()
    assert health["model"]["state"] == "ready"
    assert {w["id"] for w in health["workers"]} == {r.replica_id for r in cluster.replicas()}
    assert health["engine"].startswith("Cluster:"), health["engine"]


def test_live_text_is_off_with_a_sentence(cluster):
    address = cluster.url.replace("http://", "ws://") + f"api/live?token={TOKEN}"
    with connect(address, open_timeout=30) as socket:
        message = json.loads(socket.recv(timeout=30))
    assert message["type"] == "paused" and message["detail"] == LIVE_ON_CLUSTER


def test_eight_concurrent_openai_requests_all_succeed_on_both_replicas(cluster, hear):
    sdk = openai.OpenAI(base_url=cluster.url + "v1", api_key=TOKEN, max_retries=0, timeout=300)

    def ask(sentence: str) -> tuple[str, str, str]:
        raw = sdk.audio.transcriptions.with_raw_response.create(
            model="whisper-1", file=("clip.wav", wav_bytes(hear(sentence, pad_seconds=0.3))), language="en"
        )
        return sentence, raw.parse().text, raw.headers["x-hush-served-by"]

    with ThreadPoolExecutor(len(CLIPS)) as pool:
        answers = list(pool.map(ask, CLIPS))
    # each answer is its own clip's (tiny.en mishears a word here and there, never a whole other sentence)
    assert all(max(CLIPS, key=lambda clip: overlap(clip, text)) == sentence for sentence, text, _ in answers), answers
    assert sum(overlap(sentence, text) for sentence, text, _ in answers) / len(answers) >= 0.6, answers
    assert {replica for *_, replica in answers} == {r.replica_id for r in cluster.running()}, answers


def test_three_minutes_are_split_across_both_replicas_in_order(cluster, spoken):  # noqa: F811 (a fixture)
    audio, spans = spoken
    with cluster.client() as client:
        files = {"file": ("long.wav", wav_bytes(audio))}
        response = client.post("api/transcriptions", files=files, data={"language": "en"})
    assert response.status_code == 200, response.text
    body = response.json()
    segments = [Segment(s["start"], s["end"], s["text"]) for s in body["segments"]]
    assert body["timings"]["chunks"] >= 2
    assert set(served_by(response)) == {r.replica_id for r in cluster.running()}
    assert not out_of_order(segments, body["duration"])
    assert not unheard(segments, spans)


# -- faults (last: they kill replicas) --------------------------------------------------------------
def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_a_replica_killed_mid_request_loses_nothing(cluster, spoken):  # noqa: F811 (a fixture)
    audio, spans = spoken
    replicas = cluster.running()
    before = {r.pid: cpu_ticks(r.pid) for r in replicas}
    with cluster.client() as client, ThreadPoolExecutor(1) as pool:
        pending = pool.submit(
            client.post, "api/transcriptions", files={"file": ("long.wav", wav_bytes(audio))}, data={"language": "en"}
        )
        # both replicas at work on a chunk each (their CPU time grows): one of them is killed under it
        wait_until(lambda: all(cpu_ticks(pid) > ticks + 50 for pid, ticks in before.items()), 120, "both to work")
        victim = replicas[0]
        os.kill(victim.pid, signal.SIGKILL)
        response = pending.result(600)
    assert response.status_code == 200, response.text
    body = response.json()
    segments = [Segment(s["start"], s["end"], s["text"]) for s in body["segments"]]
    assert body["timings"]["retries"] >= 1
    assert victim.replica_id not in served_by(response)
    assert not out_of_order(segments, body["duration"])
    assert not unheard(segments, spans)
    wait_until(lambda: len(cluster.running()) == 2, 180, "Ray Serve to replace the killed replica")


def test_a_request_while_no_replica_is_ready_gets_503_with_retry_after(cluster, hear):
    for replica in cluster.running():
        os.kill(replica.pid, signal.SIGKILL)
    wait_until(lambda: cluster.health()["model"]["state"] == "loading", 30, "health to say loading")
    with cluster.client() as client:
        response = client.post("api/transcriptions", files={"file": ("a.wav", wav_bytes(hear("Hello there.")))})
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    assert "Loading" in response.text
    wait_until(lambda: cluster.health()["model"]["state"] == "ready", 180, "a replica to be ready again")


def test_a_desktop_hush_with_the_cluster_as_its_engine_transcribes_a_job(
    cluster, launch_backend, tiny_en_converted, tmp_path, speak
):
    desktop = launch_backend(tiny_en_converted, tmp_path, HUSH_ENGINE=cluster.url + "v1", HUSH_ENGINE_KEY=TOKEN)
    desktop.wait_until_ready(60)
    sentence = "The farmer carried a heavy basket to the market."
    with speak(sentence, pad_seconds=0.3).open("rb") as file:
        response = desktop.client.post("api/transcriptions", files={"file": ("job.wav", file)})
    assert response.status_code == 200, response.text
    assert overlap(sentence, response.json()["text"]) >= 0.6, response.json()["text"]
    assert cluster.health()["model"]["state"] == "ready"
