"""The history (backend/history): the store, the job queue, corrections, export formats."""
