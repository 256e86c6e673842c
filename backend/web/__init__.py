"""The web layer: the FastAPI app, its routers, the server and what guards it (token, origin,
upload limits, errors). It speaks HTTP and nothing else; it may import ``backend.history``,
``backend.engine``, ``backend.checkpoints`` and the shared modules (``backend.settings``,
``backend.transcript``, ``backend.audio``, ``backend.status``), and nothing imports it but
``backend.__main__`` and ``desktop``. Starting the server imports no torch: the engine loads later.
"""
