"""`dossier bench`: measured, repeatable benchmarks of ingest, retrieval, answering, cold start and memory.

Every figure is measured on this machine in the run that reports it; ratios are taken between
figures measured side by side in the same process and run (the machine is shared and noisy, so
absolute times drift between runs while ratios hold).
"""
