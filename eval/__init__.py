"""Evaluation: datasets, metrics, verifier calibration, reports and benchmarks."""
