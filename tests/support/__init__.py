"""What the tests (and the benchmarks) share, none of it a test: waiting with a deadline
(``helpers``), test audio in every format (``media``), tiny Whisper checkpoints
(``tiny_whisper``), real-weight fixtures (``real_weights``, a pytest plugin), a fake Hugging
Face hub (``fake_hub``), espeak-ng speech (``speech_corpus``, ``english_speech``) and the
word error rate (``word_error``). Importable as ``tests.support`` from the repository's root.
"""
