"""Answer engines, citation verifier, CLI, Gradio UI and HTTP API."""
