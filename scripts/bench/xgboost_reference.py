#!/usr/bin/python3
"""python3-xgboost and scikit-learn counterparts of bench/xgboost_benchmark.cc, for
docs/benchmarks.md.

Reads the rows Vigil's benchmark uses (`xgboost_benchmark --write_reference_inputs=DIR`
writes DIR/x.f64: 50,000 x 30 row-major doubles, DIR/labels.u8, and DIR/vigil.json with the
model parameters and Vigil's mean predicted probability) and times, as a Python user would
run them:
  - xgboost.train of the same model (hist, 200 rounds, depth 6, eta 0.1; DMatrix built from
    the same float64 array inside the timing, as Vigil's fit builds it);
  - Booster.inplace_predict on one row (the per-call median is printed too) and on
    1,000-row batches;
  - scikit-learn's RandomForestClassifier(100 trees, max_depth 6).predict_proba on one row,
    against Vigil's "random_forest" (XGBoost's forest mode) on one row.
Timing: best of 3 repeats, each the mean over `number` calls, wall clock, as
scripts/bench/sklearn_models.py.

  /usr/bin/python3 scripts/bench/xgboost_reference.py DIR

Output, one line each:
  time <case> <wall s> <cpu s> <what>   the timings (<case> names a Vigil benchmark)
  check <what> <value>                  agreement with Vigil's results
"""
import argparse
import json
import pathlib
import statistics
import sys
import time

import numpy as np
import sklearn
import xgboost as xgb
from sklearn.ensemble import RandomForestClassifier

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from sklearn_models import best_of, report_check, report_time  # noqa: E402  the same timing rules

ONE_ROW_CALLS = 2000


def train(x, y, vigil):
    params = {"tree_method": "hist", "objective": "binary:logistic", "eval_metric": "logloss",
              "eta": vigil["learning_rate"], "max_depth": vigil["max_depth"],
              "seed": vigil["seed"], "verbosity": 0,
              # Vigil's base_score "auto" (the positive rate), as the same decimal string.
              "base_score": "%.17g" % vigil["base_score"]}
    dtrain = xgb.DMatrix(x, label=y, missing=np.nan)
    return xgb.train(params, dtrain, num_boost_round=vigil["trees"])


def one_row_median(predict, x, calls=ONE_ROW_CALLS):
    """Per-call median in seconds over `calls` calls, each on a different row."""
    rows = [x[i:i + 1] for i in range(calls)]
    times = []
    for row in rows:
        start = time.perf_counter()
        predict(row)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", type=pathlib.Path)
    args = parser.parse_args()
    vigil = json.loads((args.dir / "vigil.json").read_text())
    x = np.fromfile(args.dir / "x.f64", dtype="<f8").reshape(-1, vigil["features"])
    y = np.fromfile(args.dir / "labels.u8", dtype=np.uint8).astype(np.float64)
    print(f"# xgboost {xgb.__version__}, scikit-learn {sklearn.__version__}, "
          f"numpy {np.__version__}; {x.shape[0]} rows x {x.shape[1]} features", flush=True)

    seconds, booster = best_of(lambda: train(x, y, vigil))
    report_time("xgboost_train_50k_x30", seconds,
                f"xgboost.train(hist, {vigil['trees']} rounds, depth {vigil['max_depth']}) "
                "incl. DMatrix")
    mean = float(booster.inplace_predict(x).mean())
    report_check("mean probability (python, vigil)", f"{mean:.6f},{vigil['mean_probability']:.6f}")

    row = x[:1]
    seconds, _ = best_of(lambda: booster.inplace_predict(row), number=ONE_ROW_CALLS)
    report_time("xgboost_predict_one_row", seconds, "Booster.inplace_predict, 1 row")
    report_check("xgboost inplace_predict one row median us",
                 f"{one_row_median(booster.inplace_predict, x) * 1e6:.1f}")
    batch = vigil["batch_rows"]
    batches = [x[i:i + batch] for i in range(0, x.shape[0], batch)]
    counter = iter(range(10**9))
    seconds, _ = best_of(lambda: booster.inplace_predict(batches[next(counter) % len(batches)]),
                         number=20)
    report_time("xgboost_predict_1000_rows", seconds,
                f"Booster.inplace_predict, {batch} rows ({batch / seconds[0]:,.0f} rows/s)")

    forest = RandomForestClassifier(n_estimators=vigil["forest_trees"],
                                    max_depth=vigil["max_depth"],
                                    random_state=vigil["seed"], n_jobs=-1).fit(x, y)
    forest.n_jobs = None  # one row: joblib's thread pool would only add latency
    seconds, _ = best_of(lambda: forest.predict_proba(row), number=200)
    report_time("random_forest_predict_one_row", seconds,
                f"sklearn RandomForestClassifier({vigil['forest_trees']} trees, depth "
                f"{vigil['max_depth']}).predict_proba, 1 row")
    report_check("sklearn forest predict_proba one row median us",
                 f"{one_row_median(forest.predict_proba, x, calls=200) * 1e6:.1f}")


if __name__ == "__main__":
    main()
