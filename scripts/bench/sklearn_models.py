#!/usr/bin/python3
"""scikit-learn / numpy counterparts of bench/models_benchmark.cc, for docs/benchmarks.md.

Reads the rows Vigil's benchmark uses (`models_benchmark --write_reference_inputs=DIR`
writes them: x.f64, labels.u8, scores.f64) and what Vigil computed on them (vigil.json),
times the same operations the way a scikit-learn / numpy user would write them, and checks
that the answers agree. Timing: best of 3 repeats, each the mean of `number` calls (as
timeit), wall clock, one process.

  /usr/bin/python3 scripts/bench/sklearn_models.py DIR

Output, one line each:
  time <case> <wall s> <cpu s> <what>   the timings (<case> names a Vigil benchmark)
  check <what> <value>                  agreement with Vigil's results
"""
import argparse
import json
import os
import pathlib
import tempfile
import time
import warnings

import joblib
import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import KFold, TimeSeriesSplit

FEATURES = 20
FOLDS = 5
LABEL_HORIZON_BARS = 12  # as kLabelHorizonBars in bench/models_benchmark.cc
# Robust z-score constants, as include/vigil/models/robust_zscore.h.
MAD_CONSISTENCY = 1.4826
CONTAMINATION = 0.01
THRESHOLD_SCORE = 80.0


def best_of(fn, repeats=3, number=1):
    """Best of `repeats` means over `number` calls of fn().

    Returns ((wall seconds, CPU seconds of that repeat), the last result). The CPU time
    (this process) shows whether other load on the machine stretched the wall time.
    """
    best = (float("inf"), float("inf"))
    result = None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(number):
            result = fn()
        wall = (time.perf_counter() - start) / number
        best = min(best, (wall, (time.process_time() - start_cpu) / number))
    return best, result


def report_time(case, seconds, what):
    wall, cpu = seconds
    print(f"time {case} {wall:.6f} {cpu:.6f} {what}", flush=True)


def report_check(what, value):
    print(f"check {what} {value}", flush=True)


def fit_logistic(x, y, solver):
    # C=1.0 is Vigil's default and scikit-learn's; tolerances tight enough that both solvers
    # reach the optimum Vigil's Newton solver reports (see the coefficient check).
    model = LogisticRegression(C=1.0, solver=solver, tol=1e-8, max_iter=10_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return model.fit(x, y)


def logistic(x, y, vigil):
    for rows in (100_000, 1_000_000):
        expected = vigil["logistic"][str(rows)]
        vigil_coef = np.array(expected["coefficients"] + [expected["intercept"]])
        for solver in ("lbfgs", "newton-cholesky"):
            seconds, model = best_of(lambda: fit_logistic(x[:rows], y[:rows], solver))
            report_time(f"BM_LogisticFit/{rows}", seconds,
                        f"LogisticRegression(solver={solver}).fit, n_iter {model.n_iter_[0]}")
            ours = np.concatenate([model.coef_[0], model.intercept_])
            report_check(f"logistic/{rows}/{solver} max|coef - vigil|",
                         f"{np.max(np.abs(ours - vigil_coef)):.2e}")
    return model


def predict(model, x):
    seconds, proba = best_of(lambda: model.predict_proba(x))
    report_time("BM_LogisticPredictProba/1000000", seconds, "LogisticRegression.predict_proba")
    return proba


def ranking(y, scores, vigil):
    seconds, auc = best_of(lambda: roc_auc_score(y, scores))
    report_time("BM_RocAuc/1000000", seconds, "sklearn.metrics.roc_auc_score")
    report_check("roc_auc |sklearn - vigil|", f"{abs(auc - vigil['roc_auc']):.2e}")
    seconds, ap = best_of(lambda: average_precision_score(y, scores))
    report_time("BM_AveragePrecision/1000000", seconds, "sklearn.metrics.average_precision_score")
    report_check("average_precision |sklearn - vigil|",
                 f"{abs(ap - vigil['average_precision']):.2e}")


def zscore_fit(x):
    """Median / MAD per column, the max |z| per row, and its training quantiles."""
    median = np.median(x, axis=0)
    scale = np.median(np.abs(x - median), axis=0) * MAD_CONSISTENCY
    raw = (np.abs(x - median) / scale).max(axis=1)
    return median, scale, np.median(raw), np.quantile(raw, 1 - CONTAMINATION)


def zscore_score(x, fitted):
    """Raw score, 0..100 score, flag and per-feature contributions of flagged rows."""
    median, scale, median_raw, threshold = fitted
    z = np.abs(x - median) / scale
    raw = z.max(axis=1)
    score = np.interp(raw, [0, median_raw, threshold, 2 * threshold],
                      [0, 50, THRESHOLD_SCORE, 100])
    flag = raw >= threshold
    contributions = np.zeros_like(z)
    contributions[flag] = z[flag] / z[flag].sum(axis=1, keepdims=True)
    return raw, score, flag, contributions


def zscore(x, vigil):
    seconds, fitted = best_of(lambda: zscore_fit(x))
    report_time("BM_RobustZscoreFit/1000000", seconds, "numpy median/MAD fit")
    seconds, (raw, score, flag, _) = best_of(lambda: zscore_score(x, fitted))
    report_time("BM_RobustZscoreScore/1000000", seconds, "numpy robust z-score")
    expected = vigil["zscore"]
    median, scale, median_raw, threshold = fitted
    report_check("zscore max|median - vigil|",
                 f"{np.max(np.abs(median - expected['medians'])):.2e}")
    report_check("zscore max|scale - vigil|", f"{np.max(np.abs(scale - expected['scales'])):.2e}")
    report_check("zscore |threshold_raw - vigil|",
                 f"{abs(threshold - expected['threshold_raw']):.2e}")
    report_check("zscore flagged (numpy, vigil)", f"{int(flag.sum())},{expected['flagged']}")
    report_check("zscore |sum(score) - vigil| / rows",
                 f"{abs(score.sum() - expected['score_sum']) / len(score):.2e}")


def splits(rows, vigil):
    index = np.zeros((rows, 1))  # split() only needs the row count

    def materialise(splitter):
        return [(train, test) for train, test in splitter.split(index)]

    seconds, folds = best_of(lambda: materialise(TimeSeriesSplit(n_splits=FOLDS,
                                                                 gap=LABEL_HORIZON_BARS)))
    report_time(f"BM_WalkForwardSplit/{rows}", seconds,
                f"TimeSeriesSplit(n_splits={FOLDS}, gap={LABEL_HORIZON_BARS}) folds")
    same = [(len(train), int(test[0]), len(test)) for train, test in folds] == [
        (fold["train"], fold["test_first"], fold["test"]) for fold in vigil["walk_forward"]]
    report_check("walk-forward folds equal TimeSeriesSplit(gap=12)'s", same)
    seconds, _ = best_of(lambda: materialise(KFold(n_splits=FOLDS)))
    report_time(f"BM_PurgedKFoldSplit/{rows}", seconds,
                f"KFold(n_splits={FOLDS}) folds (no purge, no embargo)")


def registry_round_trip(model):
    """joblib.dump then joblib.load of the fitted model: what scikit-learn's docs suggest."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.joblib")
        seconds, _ = best_of(lambda: joblib.dump(model, path), number=200)
        report_time("BM_RegistryLogistic/register", seconds,
                    "joblib.dump (no fsync, no manifest)")
        seconds, _ = best_of(lambda: joblib.load(path), number=200)
        report_time("BM_RegistryLogistic/load", seconds, "joblib.load")
        seconds, _ = best_of(lambda: (joblib.dump(model, path), joblib.load(path)), number=200)
        report_time("BM_RegistryLogistic/register_load", seconds,
                    "joblib.dump + joblib.load")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", type=pathlib.Path)
    args = parser.parse_args()
    vigil = json.loads((args.dir / "vigil.json").read_text())
    x = np.fromfile(args.dir / "x.f64", dtype="<f8").reshape(-1, FEATURES)
    y = np.fromfile(args.dir / "labels.u8", dtype=np.uint8).astype(np.int64)
    scores = np.fromfile(args.dir / "scores.f64", dtype="<f8")
    print(f"# scikit-learn {sklearn.__version__}, numpy {np.__version__}; "
          f"{len(x)} rows x {x.shape[1]} features, {y.mean():.3f} positive", flush=True)
    model = logistic(x, y, vigil)
    predict(model, x)
    ranking(y, scores, vigil)
    zscore(x, vigil)
    splits(len(x), vigil)
    registry_round_trip(model)


if __name__ == "__main__":
    main()
