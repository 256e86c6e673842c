"""The history: the SQLite store of jobs and their recordings, the job queue that feeds the
engine, a person's corrections and the export formats. It may import ``backend.engine``,
``backend.checkpoints`` and the shared modules, never ``backend.web``; torch-free (the engine is
reached through the model manager, which imports it only when a model loads).
"""
