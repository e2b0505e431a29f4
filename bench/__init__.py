"""Benchmarks of citywall against limits measured in the same run.

Each benchmark prints a RATIO of what the service achieves to a reference
measured moments before or after on the same machine (an ffmpeg decoder, a
plain PyAV client), so that the figures stay meaningful on a noisy or slower
machine. Run them all with ``python -m bench`` (``make bench``) or one with
``python -m bench.<name>``: ``relay_cost``, ``latency``, ``ingest_capacity``,
``first_frame``. Results are printed and written as JSON to ``bench/out/``.
"""
