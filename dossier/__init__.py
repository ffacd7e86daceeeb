"""dossier: cited answers over the sources of an investigation.

One import package; the repository's top-level folders are its subpackages (pyproject's package-dir):
`dossier.ingest` -> `dossier.index` -> `dossier.app`, and `dossier.eval` above them. This module and
`dossier.cli` sit on top: nothing below imports them.
"""
__version__ = "0.1.0"
