"""The dictation shortcut through the GlobalShortcuts portal (``desktop/portal.py``), over a real
D-Bus: a private ``dbus-daemon`` and, on it, a portal written here that implements the documented
interface (CreateSession, BindShortcuts, each answered by a Request's Response signal) and emits
Activated and Deactivated when the test presses and releases the shortcut."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
from jeepney import DBusAddress, HeaderFields, MessageType, message_bus, new_method_return, new_signal
from jeepney.io.blocking import open_dbus_connection

from desktop import portal
from desktop.shortcut import HOLD_SECONDS, Shortcut
from tests.support.helpers import require_tool, wait_until


@pytest.fixture
def bus() -> Iterator[str]:
    """A session bus of the test's own; its address."""
    daemon = subprocess.Popen(
        [require_tool("dbus-daemon"), "--session", "--nofork", "--nopidfile", "--print-address=1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield daemon.stdout.readline().strip()
    finally:
        daemon.terminate()
        daemon.wait(10)


class Portal:
    """The desktop's side: owns org.freedesktop.portal.Desktop and serves GlobalShortcuts on it."""

    def __init__(self, address: str, allow: bool = True) -> None:
        self.connection = open_dbus_connection(address)
        self.connection.send_and_get_reply(message_bus.RequestName(portal.BUS_NAME), timeout=10)
        self.allow = allow  # False: the user said no in the desktop's dialog
        self.bound: list[tuple[str, dict]] = []
        self.session = ""
        self._lock = threading.Lock()  # the serving thread answers while the test emits signals
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def press(self) -> None:
        self._emit("Activated")

    def release(self) -> None:
        self._emit("Deactivated")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.connection.close()

    def _emit(self, member: str, session: str | None = None) -> None:
        emitter = DBusAddress(portal.PATH, interface=portal.INTERFACE)
        body = (session or self.session, portal.SHORTCUT_ID, int(time.time() * 1000), {})
        with self._lock:
            self.connection.send(new_signal(emitter, member, "osta{sv}", body))

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                call = self.connection.receive(timeout=0.1)
            except TimeoutError:
                continue
            fields = call.header.fields
            if call.header.message_type != MessageType.method_call or fields.get(HeaderFields.path) != portal.PATH:
                continue
            options = call.body[-1]
            sender = fields[HeaderFields.sender].lstrip(":").replace(".", "_")
            request = f"{portal.PATH}/request/{sender}/{options['handle_token'][1]}"
            if fields[HeaderFields.member] == "CreateSession":
                self.session = f"{portal.PATH}/session/{sender}/{options['session_handle_token'][1]}"
                results = {"session_handle": ("s", self.session)}
            else:  # BindShortcuts
                session, shortcuts = call.body[:2]
                assert session == self.session
                self.bound.extend(shortcuts)
                described = [(name, {"trigger_description": ("s", "Ctrl+Shift+Space")}) for name, _ in shortcuts]
                results = {"shortcuts": ("a(sa{sv})", described)}
            answer = new_signal(DBusAddress(request, interface="org.freedesktop.portal.Request"), "Response", "ua{sv}")
            answer.body = (0, results) if self.allow else (1, {})
            with self._lock:
                self.connection.send(new_method_return(call, "o", (request,)))
                self.connection.send(answer)


@pytest.fixture
def desktop(bus) -> Iterator[Portal]:
    served = Portal(bus)
    yield served
    served.close()


def shortcut_heard_through(bus: str) -> tuple[Shortcut, list[str], portal.GlobalShortcuts]:
    """The dictation shortcut, bound through the portal; what it did, in order."""
    actions: list[str] = []
    dictating = {"now": False}

    def act(name: str, now: bool) -> None:
        actions.append(name)
        dictating["now"] = now

    keys = Shortcut(
        "ctrl+shift+space",
        start=lambda: act("start", True),
        stop=lambda: act("stop", False),
        cancel=lambda: act("cancel", False),
        dictating=lambda: dictating["now"],
    )
    return keys, actions, portal.bind(keys.modifiers, keys.key, keys.down, keys.up, bus=bus)


def test_the_shortcut_is_bound_with_the_users_combination_as_the_preferred_trigger(bus, desktop):
    _, _, bound = shortcut_heard_through(bus)
    try:
        [(name, properties)] = desktop.bound
        assert name == portal.SHORTCUT_ID
        assert properties["preferred_trigger"] == ("s", "CTRL+SHIFT+space")
        assert properties["description"][1].endswith("(Hush)")
        assert bound.session == desktop.session
    finally:
        bound.close()


def test_hold_and_tap_work_through_the_portals_signals(bus, desktop):
    _, actions, bound = shortcut_heard_through(bus)
    try:
        # Hold: down while speaking, up to finish.
        desktop.press()
        wait_until(lambda: actions == ["start"], 10, "the dictation started on Activated")
        time.sleep(HOLD_SECONDS + 0.1)  # held this long: its release finishes the dictation
        desktop.release()
        wait_until(lambda: actions == ["start", "stop"], 10, "the dictation finished on Deactivated")

        # Tap: a short press starts, the next one finishes.
        desktop.press()
        desktop.release()
        wait_until(lambda: actions == ["start", "stop", "start"], 10, "a tap started one")
        desktop.press()
        desktop.release()
        wait_until(lambda: actions == ["start", "stop", "start", "stop"], 10, "the next tap finished it")

        # Another session's shortcut (another app's) is not ours.
        desktop._emit("Activated", session=f"{portal.PATH}/session/other/app")
        desktop.press()
        wait_until(lambda: actions[4:] == ["start"], 10, "only our own session's press")
    finally:
        bound.close()


def test_a_shortcut_the_user_refused_or_a_desktop_without_the_portal_is_a_sentence(bus):
    refusing = Portal(bus, allow=False)
    try:
        with pytest.raises(portal.PortalUnavailable, match="not allowed in the desktop's dialog"):
            shortcut_heard_through(bus)
    finally:
        refusing.close()
    with pytest.raises(portal.PortalUnavailable, match="has no GlobalShortcuts portal"):
        shortcut_heard_through(bus)  # nobody owns the portal's name now


def test_on_wayland_the_shortcut_is_heard_through_the_portal_once_it_answers(bus, desktop, monkeypatch):
    from desktop import shortcut

    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus)
    notes: list[str | None] = []
    started: list[str] = []
    keys = Shortcut("ctrl+shift+space", lambda: started.append("start"), lambda: None, lambda: None, lambda: False)
    shortcut.listen(keys, notes.append)
    assert "hush dictate toggle" in notes[0]  # at once: what to do while the desktop has not answered
    wait_until(lambda: notes[1:] == [None], 10, "the portal's binding: the shortcut is heard")
    desktop.press()
    wait_until(lambda: started == ["start"], 10, "a dictation started by the desktop's shortcut")
    keys.portal.close()
