"""The `dossier` console script: the app's commands plus the `eval` and `bench` groups, registered here,
above every layer (the app never imports eval)."""
from __future__ import annotations


def groups() -> dict:
    from dossier.eval.bench.cli import bench_app
    from dossier.eval.cli import eval_app

    return {"eval": eval_app, "bench": bench_app}


def main() -> None:
    from dossier.app.cli import main as run

    run(groups())


if __name__ == "__main__":
    main()
