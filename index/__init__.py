"""Embedder, document catalog, Chroma vector store, BM25 and hybrid retrieval with filters."""
