"""Microphone access for our own page, and for no other origin, on every pywebview backend.

Each web engine asks its embedder before a page may record; unanswered, the recorder fails.
pywebview answers differently per backend (Qt grants every origin, WebKitGTK and WebView2 use
their defaults), so we answer ourselves: grant the microphone to the server's origin, deny the
rest. ``prepare`` runs before the native window exists, ``install`` right after it is built,
both on the GUI thread (pywebview's ``initialized`` and ``before_show`` events).

Only the Qt path runs in this project's tests; the others follow each engine's documented API.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

#: ``allowed(url)``: whether the page at ``url`` may use the microphone (our server's origin only).
Allowed = Callable[[str], bool]

#: pywebview's Qt backend adds this Chromium switch, which grants every capture request without
#: asking Qt at all, so no origin check could run. A value the user set in the environment stays.
QT_BLANKET_GRANT = "--use-fake-ui-for-media-stream"


def prepare(window: Any, allowed: Allowed) -> None:
    """Before the native window exists: changes that must precede its creation."""
    renderer = window.gui.renderer
    if renderer == "qtwebengine":
        _keep_qt_asking(window.gui)
    elif renderer == "wkwebview":
        _prepare_cocoa(window.gui, allowed)


def install(window: Any, allowed: Allowed) -> None:
    """Right after the native window and its web view exist, before anything is loaded."""
    renderer = window.gui.renderer
    view = window.gui.BrowserView.instances[window.uid]
    if renderer == "qtwebengine":
        _install_qt(view.webview.page(), allowed)
    elif renderer == "gtkwebkit2":
        _install_gtk(view.webview, window.gui.webkit, allowed)
    elif renderer == "edgechromium":
        _install_webview2(view.webview, allowed)
    elif renderer != "wkwebview":  # macOS was handled in prepare()
        log.warning("no microphone permission handler for the %s renderer", renderer)


# -- Qt WebEngine --------------------------------------------------------------------------------
def _keep_qt_asking(qt: Any) -> None:
    append = qt.environ_append

    def without_blanket_grant(key: str, *values: str, **kwargs: Any) -> None:
        append(key, *[value for value in values if value != QT_BLANKET_GRANT], **kwargs)

    qt.environ_append = without_blanket_grant


def _install_qt(page: Any, allowed: Allowed) -> None:
    with contextlib.suppress(TypeError, RuntimeError):  # pywebview's own handler grants every origin
        page.featurePermissionRequested.disconnect()
    if hasattr(page, "permissionRequested"):  # Qt ≥ 6.8: QWebEnginePermission
        page.permissionRequested.connect(lambda permission: _decide_qt(permission, allowed))
        return
    feature = type(page).Feature  # Qt < 6.8

    def on_feature(url: Any, requested: Any) -> None:
        grant = requested == feature.MediaAudioCapture and allowed(url.toString())
        policy = type(page).PermissionPolicy
        page.setFeaturePermission(
            url, requested, policy.PermissionGrantedByUser if grant else policy.PermissionDeniedByUser
        )

    page.featurePermissionRequested.connect(on_feature)


def _decide_qt(permission: Any, allowed: Allowed) -> None:
    kinds = type(permission).PermissionType
    ours = {kinds.MediaAudioCapture, getattr(kinds, "ClipboardReadWrite", None)}  # record, and "Copy text"
    if permission.permissionType() in ours and allowed(permission.origin().toString()):
        permission.grant()
    else:
        log.info("denied %s to %s", permission.permissionType(), permission.origin().toString())
        permission.deny()


# -- WebKitGTK -----------------------------------------------------------------------------------
def _install_gtk(web_view: Any, webkit: Any, allowed: Allowed) -> None:
    web_view.get_settings().set_property("enable-media-stream", True)  # getUserMedia is off by default

    def on_request(view: Any, request: Any) -> bool:
        if not isinstance(request, webkit.UserMediaPermissionRequest):
            return False  # WebKit's default: deny
        audio_only = request.get_property("is-for-audio-device") and not request.get_property("is-for-video-device")
        if audio_only and allowed(view.get_uri() or ""):
            request.allow()
        else:
            request.deny()
        return True

    web_view.connect("permission-request", on_request)


# -- Windows WebView2 ----------------------------------------------------------------------------
def _install_webview2(control: Any, allowed: Allowed) -> None:
    def on_permission(_sender: Any, args: Any) -> None:
        from Microsoft.Web.WebView2.Core import (  # type: ignore[import-not-found]  # pythonnet
            CoreWebView2PermissionKind,
            CoreWebView2PermissionState,
        )

        if args.PermissionKind == CoreWebView2PermissionKind.Microphone:
            granted = allowed(str(args.Uri))
            args.State = CoreWebView2PermissionState.Allow if granted else CoreWebView2PermissionState.Deny

    def on_ready(sender: Any, args: Any) -> None:
        if args.IsSuccess:
            sender.CoreWebView2.PermissionRequested += on_permission

    if control.CoreWebView2 is not None:
        control.CoreWebView2.PermissionRequested += on_permission
    else:  # the core is created asynchronously, after the form is shown
        control.CoreWebView2InitializationCompleted += on_ready


# -- macOS WKWebView -----------------------------------------------------------------------------
def _prepare_cocoa(cocoa: Any, allowed: Allowed) -> None:
    """WKWebView asks its UI delegate (macOS 12+). pywebview instantiates ``BrowserView.BrowserDelegate``
    when it builds the window, so a subclass put in its place answers for us; the system's own
    microphone prompt (NSMicrophoneUsageDescription in Info.plist) still gates the hardware."""
    import WebKit  # type: ignore[import-not-found]  # pyobjc: loads the block signature of the handler

    base = cocoa.BrowserView.BrowserDelegate
    grant = getattr(WebKit, "WKPermissionDecisionGrant", 1)
    deny = getattr(WebKit, "WKPermissionDecisionDeny", 2)
    microphone = getattr(WebKit, "WKMediaCaptureTypeMicrophone", 1)

    class HushDelegate(base):  # type: ignore[misc, valid-type]
        def webView_requestMediaCapturePermissionForOrigin_initiatedByFrame_type_decisionHandler_(
            self, _web_view: Any, origin: Any, _frame: Any, capture_type: int, decision_handler: Any
        ) -> None:
            url = f"{origin.protocol()}://{origin.host()}:{origin.port()}/" if origin.port() else ""
            decision_handler(grant if capture_type == microphone and allowed(url) else deny)

    cocoa.BrowserView.BrowserDelegate = HushDelegate
