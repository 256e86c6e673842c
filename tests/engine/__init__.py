"""The engine (backend/engine): decoding, word timing, precision, the worker, the model manager."""
