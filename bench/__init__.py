"""Benchmarks (scripts, not tests); shared pieces such as the calibration live here."""
