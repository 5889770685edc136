#!/usr/bin/python3
"""scikit-learn counterpart of bench/iforest_benchmark.cc, for docs/benchmarks.md.

Reads the rows Vigil's benchmark uses (`iforest_benchmark --write_reference_inputs=DIR`
writes DIR/x.f64: 1,000,000 x 40 standard normal values; the 100,000-row cases use the first
rows) and Vigil's mean raw scores (DIR/vigil.json), and times IsolationForest with its
defaults (100 trees, max_samples="auto" = 256, contamination="auto") as a scikit-learn user
would run it: fit + score_samples on 100,000 x 40, and score_samples on 1,000,000 x 40 with
the forest fitted on the 100,000 rows; with n_jobs=1 and with n_jobs=-1. Timing: best of 3,
wall clock, as scripts/bench/sklearn_models.py.

  /usr/bin/python3 scripts/bench/sklearn_iforest.py DIR

Output, one line each:
  time <case> <wall s> <cpu s> <what>   the timings (<case> names a Vigil benchmark)
  check <what> <value>                  agreement with Vigil's results
"""
import argparse
import json
import pathlib
import sys

import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from sklearn_models import best_of, report_check, report_time  # noqa: E402  the same timing rules

FEATURES = 40
TRAINING_ROWS = 100_000
SEED = 0


def fit_score(x, n_jobs):
    model = IsolationForest(n_jobs=n_jobs, random_state=SEED).fit(x)
    return model, -model.score_samples(x)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", type=pathlib.Path)
    args = parser.parse_args()
    vigil = json.loads((args.dir / "vigil.json").read_text())
    x = np.fromfile(args.dir / "x.f64", dtype="<f8").reshape(-1, FEATURES)
    train = x[:TRAINING_ROWS]
    print(f"# scikit-learn {sklearn.__version__}, numpy {np.__version__}; "
          f"{len(x)} rows x {x.shape[1]} features", flush=True)
    for n_jobs, suffix in ((1, ""), (-1, "_allcores")):
        seconds, (model, raw) = best_of(lambda: fit_score(train, n_jobs))
        report_time(f"iforest_fit_score_100k_x40{suffix}", seconds,
                    f"IsolationForest(n_jobs={n_jobs}).fit + score_samples, 100k x 40")
        if n_jobs == 1:
            report_check("fit_score mean raw (sklearn, vigil)",
                         f"{raw.mean():.4f},{vigil['fit_score_mean_raw']:.4f}")
        seconds, raw = best_of(lambda: -model.score_samples(x))
        report_time(f"iforest_score_1m_x40{suffix}", seconds,
                    f"IsolationForest(n_jobs={n_jobs}).score_samples, 1M x 40")
        if n_jobs == 1:
            report_check("score_1m mean raw (sklearn, vigil)",
                         f"{raw.mean():.4f},{vigil['score_1m_mean_raw']:.4f}")
    one = x[TRAINING_ROWS:TRAINING_ROWS + 1]
    seconds, _ = best_of(lambda: model.score_samples(one), number=200)
    report_time("iforest_score_one_row", seconds, "IsolationForest.score_samples, 1 row")


if __name__ == "__main__":
    main()
