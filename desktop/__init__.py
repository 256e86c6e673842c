"""Hush on the desktop: the launcher that serves the backend on 127.0.0.1 and shows it in a native window.

The window must appear at once, while torch and transformers (seconds to import) load on a
background thread; so nothing in this package imports the backend's engine at module level.
"""
