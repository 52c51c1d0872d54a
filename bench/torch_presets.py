"""Runs reference/tms_torch.py with the sparsity and geometry presets added (same definitions as
src/experiments/presets.ts), for `npm run bench`. Usage: python3 bench/torch_presets.py --preset sparsity --act relu
--steps 200 --threads 1. Prints the reference's JSON line."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import tms_torch  # noqa: E402

tms_torch.PRESETS.update({
    # n_features, n_hidden, importance base, feature probabilities (importance base**f)
    "sparsity": (100, 20, 100 ** (-1 / 99), [20 ** -(i / 19) for i in range(20)]),
    "geometry": (200, 20, 1.0, [20 ** -(i / 19) for i in range(20)]),
})

if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser()
    for flag, default in (("--preset", "sparsity"), ("--act", "relu"), ("--steps", 200), ("--threads", 1)):
        ap.add_argument(flag, type=type(default), default=default)
    a = ap.parse_args()
    import time
    import torch
    torch.set_num_threads(a.threads)
    c0 = time.process_time()
    r = tms_torch.run(a.preset, a.act, a.steps, 1024, 0, torch.float32)
    out = {k: r[k] for k in ("preset", "activation", "steps", "seconds", "final_train_loss")}
    out["cpu_seconds"] = time.process_time() - c0  # includes the recipe's final evaluation
    print(json.dumps(out), flush=True)
