"""A cold ``quotedesk ask`` against importing sentence-transformers and loading the model, in one run.

    python bench/startup.py [--repeat 5] [--json FILE]

Each row is a fresh process, median of ``--repeat`` runs, on the bundled corpus (its index is built
once first, untimed). The floor is what any tool using this model must pay; the target is a cold
ask within 1.3 times it, and a BM25-only ask far under it because that path never imports torch.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

from _results import write_json
from _timing import median_seconds  # bench/ is on sys.path when a script in it runs

from config import load_settings
from index import model_dir

QUESTION = "How long did the talks last?"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    quotedesk = shutil.which("quotedesk") or str(Path(sys.executable).parent / "quotedesk")
    model = model_dir(load_settings().model)
    load_model = (
        "import sentence_transformers; "
        f"sentence_transformers.SentenceTransformer({str(model)!r}, device='cpu', local_files_only=True)"
    )
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "QUOTEDESK_INDEX_DIR": str(Path(scratch) / "index"), "HF_HUB_OFFLINE": "1"}
        subprocess.run([quotedesk, "index", "build"], env=env, check=True, capture_output=True)
        commands = {
            "import sentence-transformers + load model": [sys.executable, "-c", load_model],
            "quotedesk ask (hybrid)": [quotedesk, "ask", QUESTION],
            "quotedesk ask --mode bm25": [quotedesk, "ask", "--mode", "bm25", QUESTION],
            "python -c pass": [sys.executable, "-c", "pass"],
        }
        rows = {}
        for name, command in commands.items():
            run = partial(subprocess.run, command, env=env, check=True, capture_output=True)
            rows[name] = median_seconds(run, args.repeat)
    floor = rows["import sentence-transformers + load model"]
    print(f"{'process':42} {'median s':>9} {'x floor':>8}")
    for name, seconds in rows.items():
        print(f"{name:42} {seconds:9.2f} {seconds / floor:8.2f}")
    data = {name: {"seconds": round(s, 3), "x_floor": round(s / floor, 3)} for name, s in rows.items()}
    write_json(args.json, data)


if __name__ == "__main__":
    main()
