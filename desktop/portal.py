"""The dictation shortcut on Wayland through the xdg-desktop-portal's GlobalShortcuts portal: the
desktop (KDE Plasma, GNOME 48+, Hyprland…) tells Hush when the shortcut is pressed and released,
whichever app has the focus, where no app may listen to the keyboard itself.

Hush opens a session (``CreateSession``), binds one shortcut with the user's combination as the
preferred trigger (``BindShortcuts``: the desktop may ask the user to confirm it or to choose
another), then hears ``Activated`` (pressed) and ``Deactivated`` (released). Each call answers with
a Request object whose ``Response`` signal carries the result; Hush listens on that path before it
calls, as the portal's documentation asks, so that no answer can come before it listens.
D-Bus through jeepney: pure Python, no libdbus or GLib to bind to, and the calls are four.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from queue import Empty, Queue
from typing import Any

from jeepney import DBusAddress, HeaderFields, MatchRule, Message, message_bus, new_method_call
from jeepney.io.threading import DBusRouter, open_dbus_connection
from jeepney.wrappers import DBusErrorResponse, unwrap_msg

log = logging.getLogger(__name__)

BUS_NAME = "org.freedesktop.portal.Desktop"
PATH = "/org/freedesktop/portal/desktop"
INTERFACE = "org.freedesktop.portal.GlobalShortcuts"
PORTAL = DBusAddress(PATH, bus_name=BUS_NAME, interface=INTERFACE)
SHORTCUT_ID = "dictate"
DESCRIPTION = "Dictate into the app you are typing in (Hush)"
#: How long the desktop may take to answer: binding can wait for the user in a dialog.
ANSWER_SECONDS = 120.0
#: The XDG shortcuts specification's names of the modifiers (``desktop/shortcut.py`` names them lower case).
MODIFIERS = {"ctrl": "CTRL", "shift": "SHIFT", "alt": "ALT", "super": "LOGO"}


class PortalUnavailable(RuntimeError):
    """This desktop offers no GlobalShortcuts portal, or it did not bind the shortcut; the message says which."""


def trigger(modifiers: frozenset[str], key: str) -> str:
    """``{"ctrl", "shift"}, "space"`` → ``CTRL+SHIFT+space``: the portal's preferred-trigger syntax."""
    return "+".join([*(MODIFIERS[m] for m in MODIFIERS if m in modifiers), key])


class GlobalShortcuts:
    """A bound session: ``pressed()`` and ``released()`` are called (on its own thread) as the desktop
    says the shortcut went down and up."""

    def __init__(self, router: DBusRouter, sender: str, pressed: Callable[[], None], released: Callable[[], None]):
        self.router = router
        self.sender = sender
        self.pressed, self.released = pressed, released
        self.session = ""
        self._signals: Queue[Message | None] = Queue()
        rule = MatchRule(type="signal", interface=INTERFACE, path=PATH)
        _add_match(router, rule)
        self._filter = router.filter(rule, queue=self._signals)
        threading.Thread(target=self._hear, name="hush-portal-shortcuts", daemon=True).start()

    def open(self) -> None:
        token = _token()
        results = self._request("CreateSession", "a{sv}", ({"session_handle_token": ("s", token)},))
        self.session = str(results.get("session_handle", ("s", ""))[1])
        if not self.session:
            raise PortalUnavailable("the desktop's GlobalShortcuts portal opened no session.")

    def bind(self, modifiers: frozenset[str], key: str) -> None:
        """Ask for the shortcut (again, with another preferred trigger when the user changed it in Hush)."""
        wanted = {"description": ("s", DESCRIPTION), "preferred_trigger": ("s", trigger(modifiers, key))}
        results = self._request("BindShortcuts", "oa(sa{sv})sa{sv}", (self.session, [(SHORTCUT_ID, wanted)], "", {}))
        bound = {name: properties for name, properties in results.get("shortcuts", ("", []))[1]}
        if SHORTCUT_ID not in bound:
            raise PortalUnavailable("the desktop did not bind the dictation shortcut.")
        chosen = bound[SHORTCUT_ID].get("trigger_description", ("s", "as the desktop's settings say"))[1]
        log.info("the desktop's GlobalShortcuts portal bound the dictation shortcut: %s", chosen)

    def close(self) -> None:
        self._signals.put(None)
        self._filter.close()
        self.router.close()

    def _request(self, method: str, signature: str, body: tuple[Any, ...]) -> dict[str, tuple[str, Any]]:
        """Call ``method`` with a fresh handle token (the last argument's options); the Response's results."""
        token = _token()
        body[-1]["handle_token"] = ("s", token)
        path = f"{PATH}/request/{self.sender}/{token}"
        rule = MatchRule(type="signal", interface="org.freedesktop.portal.Request", member="Response", path=path)
        _add_match(self.router, rule)
        with self.router.filter(rule) as answers:
            try:
                unwrap_msg(
                    self.router.send_and_get_reply(
                        new_method_call(PORTAL, method, signature, body), timeout=ANSWER_SECONDS
                    )
                )
                response, results = answers.get(timeout=ANSWER_SECONDS).body
            except DBusErrorResponse as error:
                raise PortalUnavailable(f"the desktop has no GlobalShortcuts portal ({error.name}).") from error
            except (Empty, TimeoutError) as error:
                raise PortalUnavailable("the desktop's GlobalShortcuts portal did not answer.") from error
        if response != 0:
            raise PortalUnavailable(
                "the shortcut was not allowed in the desktop's dialog."
                if response == 1
                else f"the desktop's GlobalShortcuts portal refused {method}."
            )
        return results

    def _hear(self) -> None:
        while (signal := self._signals.get()) is not None:
            session, shortcut = signal.body[:2]
            if session != self.session or shortcut != SHORTCUT_ID:
                continue
            member = signal.header.fields.get(HeaderFields.member)
            try:
                if member == "Activated":
                    self.pressed()
                elif member == "Deactivated":
                    self.released()
            except Exception:  # a failed dictation must not stop the shortcut
                log.exception("the dictation shortcut's %s failed", member)


def bind(
    modifiers: frozenset[str],
    key: str,
    pressed: Callable[[], None],
    released: Callable[[], None],
    bus: str = "SESSION",
) -> GlobalShortcuts:
    """Open a session on ``bus`` (the session bus, or an address) and bind the shortcut; ``PortalUnavailable``
    (a sentence) where there is no portal, it does not answer, or it binds nothing."""
    try:
        router = DBusRouter(open_dbus_connection(bus))
    except (OSError, KeyError, ValueError) as error:  # no session bus (KeyError: no address in the environment)
        raise PortalUnavailable(f"there is no D-Bus session bus ({error}).") from error
    sender = router.unique_name.lstrip(":").replace(".", "_")
    shortcuts = GlobalShortcuts(router, sender, pressed, released)
    try:
        shortcuts.open()
        shortcuts.bind(modifiers, key)
    except BaseException:
        shortcuts.close()
        raise
    return shortcuts


def _add_match(router: DBusRouter, rule: MatchRule) -> None:
    """Ask the bus to send us what ``rule`` matches (signals go only to those who asked)."""
    unwrap_msg(router.send_and_get_reply(message_bus.AddMatch(rule), timeout=10))


def _token() -> str:
    return f"hush_{secrets.token_hex(6)}"
