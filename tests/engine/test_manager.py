"""backend/engine/manager.py: one engine in use, switched and closed behind one lock, nothing lost on a switch."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from backend import audio
from backend.checkpoints import choice
from backend.engine.manager import ModelManager
from backend.settings import Settings
from backend.status import ModelNotReady, ModelState, ModelStatus, Unchangeable
from backend.transcript import Options
from tests.support.helpers import wait_until


@pytest.fixture
def engines(monkeypatch) -> list:
    """Every engine the manager creates, each remembering whether it was closed."""
    from backend.engine import engine as engine_module

    made: list = []

    class Recorded(engine_module.Engine):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.closed_with: list[bool] = []
            made.append(self)

        def close(self, cancel_pending: bool = True) -> None:
            self.closed_with.append(cancel_pending)
            super().close(cancel_pending)

    monkeypatch.setattr(engine_module, "Engine", Recorded)
    return made


def test_the_server_side_answers_before_the_engine_exists(random_checkpoint, tmp_path):
    manager = ModelManager(Settings(model=str(random_checkpoint), data_dir=tmp_path))
    status = manager.status
    assert status.state is ModelState.LOADING and str(random_checkpoint) in status.detail
    with pytest.raises(ModelNotReady):
        manager.engine()
    assert manager.languages == []
    manager.start()
    assert manager.wait_until_loaded(120).state is ModelState.READY
    assert manager.engine().model_id == str(random_checkpoint)
    manager.close()


def test_two_switches_at_once_leave_one_model_in_use_and_close_the_rest(
    random_checkpoint, words_checkpoint, tmp_path, engines
):
    settings = Settings(model=str(random_checkpoint), data_dir=tmp_path)
    manager = ModelManager(settings)
    manager.start()
    assert manager.wait_until_loaded(120).state is ModelState.READY
    targets = [str(words_checkpoint), str(tmp_path / "no-such-model")]
    barrier = threading.Barrier(len(targets))

    def switch(model_id: str) -> None:
        barrier.wait(10)
        manager.switch(model_id)

    threads = [threading.Thread(target=switch, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    final = manager.wait_until_loaded(120)
    assert final.id == manager.model_id in targets
    assert final.state is (ModelState.READY if manager.model_id == str(words_checkpoint) else ModelState.MISSING)
    assert (tmp_path / choice.ACTIVE_MODEL_FILE).read_text() == manager.model_id  # remembered: the one in use
    # Settled: one engine for the model in use; every other one was retired, queue first.
    wait_until(lambda: all(e.model_id == manager.model_id or e.closed_with for e in engines), 30, "retired engines")
    in_use = [e for e in engines if not e.closed_with]
    assert [e.model_id for e in in_use] == [manager.model_id]
    assert all(e.closed_with[0] is False for e in engines if e.closed_with)
    manager.close()
    assert in_use[0].closed_with == [True]  # shutting down stops the one in use (and the retired ones)
    assert all(e.closed_with for e in engines)


def test_jobs_queued_on_the_old_model_finish_on_it(start_server, random_checkpoint, words_checkpoint, media):
    live = start_server(model=random_checkpoint)
    live.wait_until_ready()
    old = live.engine
    gate = threading.Event()
    real_submit = old.submit

    def held_submit(request):
        held = lambda done: (gate.wait(30), request.on_progress(done))  # noqa: E731
        return real_submit(replace(request, on_progress=held))

    old.submit = held_submit
    webm = media["webm"].read_bytes()
    with live.client() as client:
        queue = [client.post("/api/transcriptions?wait=false", files={"file": (f"{i}.webm", webm)}) for i in range(3)]
        queued = [response.json()["id"] for response in queue]
        switched = client.post(f"/api/models/{words_checkpoint}/activate")
        assert switched.status_code == 202 and switched.json()["id"] == str(words_checkpoint)
        gate.set()
        for job_id in queued:
            done = wait_until(
                lambda job_id=job_id: (
                    (job := client.get(f"/api/transcriptions/{job_id}").json())["status"] == "done" and job
                ),
                60,
                f"job {job_id} on the old model",
            )
            assert done["model"] == str(random_checkpoint) and done["text"]
        live.wait_until_ready()
        after = client.post("/api/transcriptions", files={"file": ("new.webm", media["webm"].read_bytes())}).json()
    assert after["model"] == str(words_checkpoint) and after["text"] == "three seven stop go"


def test_a_switch_while_loading_never_serves_the_abandoned_model(
    random_checkpoint, words_checkpoint, tmp_path, engines, media
):
    manager = ModelManager(Settings(model=str(random_checkpoint), data_dir=tmp_path))
    manager.start()
    manager.switch(str(words_checkpoint))  # most likely before the first engine has even been created
    assert manager.wait_until_loaded(120).state is ModelState.READY
    engine = manager.engine()
    assert engine.model_id == str(words_checkpoint)
    assert engine.transcribe(audio.decode(media["wav"]), Options(temperature=0)).text == "three seven stop go"
    assert all(e.closed_with for e in engines if e is not engine)
    manager.close()


def test_a_fixed_engine_serves_for_the_servers_life_and_a_switch_is_refused(engines, tmp_path, random_checkpoint):
    """hush-serve's ingress: the engine given to the manager is the one in use; nothing is loaded here and
    neither the model nor the engine can be switched through it."""
    from backend.engine.remote import ChunkedEngine
    from backend.engine.servers import EngineChoice

    ready = ModelStatus("cluster-model", ModelState.READY, "cluster-model on 2 replicas")
    fixed = ChunkedEngine("cluster-model", [], ready)
    manager = ModelManager(Settings(model=str(random_checkpoint), data_dir=tmp_path), fixed)
    manager.start()
    assert manager.engine() is fixed and manager.status == ready and manager.model_id == "cluster-model"
    with pytest.raises(Unchangeable, match="hush-serve"):
        manager.switch(str(random_checkpoint))
    with pytest.raises(Unchangeable):
        manager.use(EngineChoice("local"))
    assert manager.engine() is fixed and not engines
    assert not (tmp_path / "engines.json").exists()
    manager.close()
