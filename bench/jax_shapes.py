"""Runs reference/tms_jax.py on a model shape of the bench's scaling report (`npm run bench -- --scaling`):
F features, H hidden, the given feature probabilities, importance 1, one activation. Usage:
  .venv-jax/bin/python bench/jax_shapes.py --features 100 --hidden 20 --probs 1,0.1,0.01 --act relu \
      --steps 200 --batch 1024 --threads 1
Prints tms_jax.py's JSON line (seconds excludes compilation, as there)."""
import argparse
import json
import os
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--features", type=int, required=True)
ap.add_argument("--hidden", type=int, required=True)
ap.add_argument("--probs", required=True, help="comma-separated feature probabilities, one instance each")
ap.add_argument("--act", default="relu")
ap.add_argument("--steps", type=int, default=200)
ap.add_argument("--batch", type=int, default=1024)
ap.add_argument("--threads", type=int, default=1)
a = ap.parse_args()

# tms_jax.py reads its own flags at import (and pins threads before jax loads): hand it the ones it knows
sys.argv = [sys.argv[0], "--threads", str(a.threads), "--quiet"]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import tms_jax  # noqa: E402

probs = [float(p) for p in a.probs.split(",")]
tms_jax.PRESETS["shape"] = (a.features, a.hidden, 1.0, probs)
rec = tms_jax.run_group("shape", [a.act], a.steps, a.batch, 0, "gram", 1, 27)[0]
out = {k: rec[k] for k in ("activation", "steps", "seconds", "seconds_incl_compile", "final_train_loss")}
out.update(features=a.features, hidden=a.hidden, batch=a.batch)
print(json.dumps(out), flush=True)
