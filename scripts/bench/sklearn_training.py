#!/usr/bin/python3
"""The training job of bench/pipeline_benchmark.cc, written with pandas and scikit-learn.

Reads the simulated candles Vigil trained on (`pipeline_benchmark
--write_reference_inputs=DIR` writes DIR/candles.csv) and runs the same job the way a quant
would write it: the 20 `ta` columns per instrument (the functions of ta_pandas.py), the
15-minute direction label, rows with an undefined feature or a label horizon past the data
dropped, the instruments merged in time order, expanding walk-forward folds by time with
purging, make_pipeline(StandardScaler(), LogisticRegression(C=0.1)) per fold, pooled
out-of-fold metrics, a final fit on every row and joblib.dump of the model. Times the whole
job and the same steps as Vigil's cases (best of 3 repeats, wall clock, one process), then
checks every intermediate result against what Vigil wrote (DIR/vigil.json and the training
set row by row in DIR/set_*).

  /usr/bin/python3 scripts/bench/sklearn_training.py DIR

Output, one line each:
  time <case> <wall s> <cpu s> <what>   the timings (<case> names a Vigil benchmark)
  check <what> <value>                  agreement with Vigil's results
"""
import argparse
import json
import os
import pathlib
import sys
import tempfile
import time
import warnings

import joblib
import numpy as np
import pandas as pd
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (accuracy_score, average_precision_score, brier_score_loss, log_loss,
                             precision_recall_fscore_support, roc_auc_score)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from sklearn_models import best_of, report_check, report_time  # noqa: E402  the same timing rules
from ta_pandas import ta_set  # noqa: E402  the same 20 columns, computed as in the features bench

# The job, as kConfigYaml in bench/pipeline_benchmark.cc (checked against vigil.json).
INSTRUMENTS = ["sim:BTC-PERP", "sim:ETH-PERP"]
HORIZON_NS = pd.Timedelta(minutes=15).value
THRESHOLD = 0.0
TRAIN_NS = pd.Timedelta(days=20).value
TEST_NS = pd.Timedelta(days=5).value
C = 0.1
SOLVERS = ("lbfgs", "newton-cholesky")


# --- the job ---

def read_candles(csv):
    df = pd.read_csv(csv, usecols=["ts", "instrument", "open", "high", "low", "close", "volume"])
    df["ts"] = pd.to_datetime(df["ts"], utc=True)
    return df


def instrument_rows(candles):
    """One instrument's usable rows: features, label, label window end, drop counts."""
    features = ta_set(candles)
    ts = candles["ts"].values.view(np.int64)  # UTC nanoseconds
    close = candles["close"].to_numpy()
    # The horizon ends on the last bar at or before t + 15m; a row whose horizon runs past
    # the data has no label.
    end = np.searchsorted(ts, ts + HORIZON_NS, side="right") - 1
    complete = ts + HORIZON_NS <= ts[-1]
    label = (np.log(close[end] / close) > THRESHOLD).astype(np.float64)
    x = features.to_numpy()
    defined = np.isfinite(x).all(axis=1)
    keep = defined & complete
    return {"x": x[keep], "y": label[keep], "ts": ts[keep], "end_ts": ts[end][keep],
            "warmup": int((~defined).sum()), "incomplete": int((defined & ~complete).sum()),
            "columns": list(features.columns)}


def build_training_set(candles):
    parts = [instrument_rows(candles[candles["instrument"] == name].reset_index(drop=True))
             for name in INSTRUMENTS]
    ts = np.concatenate([part["ts"] for part in parts])
    # Time order; a stable sort keeps the config's instrument order within a timestamp.
    order = np.argsort(ts, kind="stable")
    return {"x": np.concatenate([part["x"] for part in parts])[order],
            "y": np.concatenate([part["y"] for part in parts])[order],
            "ts": ts[order],
            "end_ts": np.concatenate([part["end_ts"] for part in parts])[order],
            "instrument": np.concatenate([np.full(len(part["ts"]), i, dtype=np.int32)
                                          for i, part in enumerate(parts)])[order],
            "warmup": sum(part["warmup"] for part in parts),
            "incomplete": sum(part["incomplete"] for part in parts),
            "columns": parts[0]["columns"]}


def walk_forward_folds(ts, end_ts):
    """Expanding walk-forward by time: test windows [a, a + 5d) from t0 + 20d on, whole
    windows only; training = every earlier row whose label window ends before the test
    window's first row (purging)."""
    folds = []
    test_begin = ts[0] + TRAIN_NS
    while test_begin + TEST_NS <= ts[-1] + 1:
        lo, hi = np.searchsorted(ts, [test_begin, test_begin + TEST_NS])
        if hi > lo:
            kept = np.flatnonzero(end_ts[:lo] < ts[lo])
            folds.append((kept, np.arange(lo, hi), lo - len(kept)))
        test_begin += TEST_NS
    return folds


def fit(x, y, solver, tol=1e-4):
    """The default tol is scikit-learn's; the checks also fit with a tight one."""
    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, solver=solver, tol=tol))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return model.fit(x, y)


def pooled_metrics(y, proba, predicted):
    precision, recall, f1, _ = precision_recall_fscore_support(y, predicted, average="binary")
    return {"roc_auc": roc_auc_score(y, proba), "pr_auc": average_precision_score(y, proba),
            "log_loss": log_loss(y, proba), "brier": brier_score_loss(y, proba),
            "accuracy": accuracy_score(y, predicted), "precision": precision, "recall": recall,
            "f1": f1, "test_rows": len(y)}


def evaluate(data, solver, tol=1e-4):
    folds = walk_forward_folds(data["ts"], data["end_ts"])
    x, y = data["x"], data["y"]
    proba, predicted = [], []
    for train, test, _ in folds:
        model = fit(x[train], y[train], solver, tol)
        proba.append(model.predict_proba(x[test])[:, 1])
        predicted.append(model.predict(x[test]))
    y_test = np.concatenate([y[test] for _, test, _ in folds])
    metrics = pooled_metrics(y_test, np.concatenate(proba), np.concatenate(predicted))
    metrics["folds"] = len(folds)
    return folds, metrics


def evaluate_parts(data, solver):
    """evaluate() with clocks around each kind of work, summed over the folds: per part,
    [wall seconds, CPU seconds]."""
    parts = {part: [0.0, 0.0] for part in ("index", "scale", "fit", "predict", "metrics")}

    def timed(part, fn):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        parts[part][0] += time.perf_counter() - start
        parts[part][1] += time.process_time() - start_cpu
        return result

    folds = walk_forward_folds(data["ts"], data["end_ts"])
    x, y = data["x"], data["y"]
    proba, predicted = [], []
    for train, test, _ in folds:
        x_train, y_train, x_test = timed("index", lambda: (x[train], y[train], x[test]))
        scaler = StandardScaler()
        z_train = timed("scale", lambda: scaler.fit_transform(x_train))
        model = timed("fit", lambda: LogisticRegression(C=C, solver=solver).fit(z_train, y_train))
        z_test = timed("scale", lambda: scaler.transform(x_test))
        proba.append(timed("predict", lambda: model.predict_proba(z_test)[:, 1]))
        predicted.append(timed("predict", lambda: model.predict(z_test)))
    y_test = np.concatenate([y[test] for _, test, _ in folds])
    timed("metrics", lambda: pooled_metrics(y_test, np.concatenate(proba),
                                            np.concatenate(predicted)))
    return parts


def report_evaluate_parts(data, solver):
    best = None
    for _ in range(3):
        parts = evaluate_parts(data, solver)
        best = parts if best is None else {k: min(best[k], v) for k, v in parts.items()}
    for part, seconds in best.items():
        report_time(f"py/evaluate/{part}", seconds,
                    f"{solver}: part of BM_Evaluate, summed over the folds (best of 3 per part)")


def run_job(csv, solver, model_path):
    data = build_training_set(read_candles(csv))
    folds, metrics = evaluate(data, solver)
    model = fit(data["x"], data["y"], solver)
    joblib.dump(model, model_path)
    return data, folds, metrics, model


# --- checks against Vigil ---

def raw_scale_coefficients(model):
    """The pipeline's coefficients on the raw feature scale, as Vigil stores them."""
    scaler, logistic = model[0], model[-1]
    coef = logistic.coef_[0] / scaler.scale_
    return coef, logistic.intercept_[0] - np.dot(coef, scaler.mean_)


def check_config(vigil):
    config = vigil["config"]
    same = (config["instruments"] == INSTRUMENTS and config["horizon_ns"] == HORIZON_NS
            and config["threshold"] == THRESHOLD and config["train_ns"] == TRAIN_NS
            and config["test_ns"] == TEST_NS and config["expanding"]
            and config["model"] == {"C": C, "standardize": True})
    report_check("job settings equal vigil's", same)


def check_rows(data, vigil, directory):
    report_check("columns equal vigil's", data["columns"] == vigil["columns"])
    report_check("rows (pandas, vigil)", f"{len(data['y'])},{vigil['rows']}")
    report_check("dropped warm-up rows (pandas, vigil)", f"{data['warmup']},{vigil['dropped_warmup']}")
    report_check("dropped incomplete-label rows (pandas, vigil)",
                 f"{data['incomplete']},{vigil['dropped_incomplete']}")
    ts = np.fromfile(directory / "set_ts.i64", dtype="<i8")
    if len(ts) != len(data["ts"]):
        return
    instrument = np.fromfile(directory / "set_instrument.i32", dtype="<i4")
    labels = np.fromfile(directory / "set_labels.f64", dtype="<f8")
    x = np.fromfile(directory / "set_x.f64", dtype="<f8").reshape(len(ts), -1)
    report_check("row timestamps and instruments equal vigil's",
                 bool(np.array_equal(ts, data["ts"]) and np.array_equal(instrument,
                                                                        data["instrument"])))
    report_check("labels differing from vigil's", int((labels != data["y"]).sum()))
    diff = np.abs(x - data["x"]) / np.maximum(1.0, np.abs(x))
    worst = np.unravel_index(np.argmax(diff), diff.shape)
    report_check("features max |pandas - vigil| / max(1, |vigil|)",
                 f"{diff[worst]:.2e} ({data['columns'][worst[1]]})")
    report_check("features bit-identical to vigil's (share of values)",
                 f"{np.mean(x == data['x']):.4f}")
    return x


def check_folds(folds, vigil):
    ours = [{"train": len(train), "purged": int(purged), "test_first": int(test[0]),
             "test": len(test)} for train, test, purged in folds]
    report_check("folds (train, purged, test rows) equal vigil's", ours == vigil["folds"])
    report_check("folds (pandas, vigil)", f"{len(ours)},{len(vigil['folds'])}")


ALL_METRICS = ("roc_auc", "pr_auc", "log_loss", "brier", "accuracy", "precision", "recall", "f1",
               "test_rows")


def check_metrics(label, metrics, vigil, names=ALL_METRICS):
    for name in names:
        ours, theirs = metrics[name], vigil["metrics"][name]
        report_check(f"{label} {name} (sklearn, vigil, |diff|)",
                     f"{ours:.10f} {theirs:.10f} {abs(ours - theirs):.2e}")


def check_final(label, model, vigil):
    coef, intercept = raw_scale_coefficients(model)
    theirs = np.array(vigil["final"]["coefficients"] + [vigil["final"]["intercept"]])
    ours = np.append(coef, intercept)
    report_check(f"{label} final model max|coef - vigil| / max(1, |vigil|), n_iter "
                 f"{model[-1].n_iter_[0]} (vigil {vigil['final']['iterations']})",
                 f"{np.max(np.abs(ours - theirs) / np.maximum(1.0, np.abs(theirs))):.2e}")


# --- timing ---

def time_solver(csv, data, solver, model_path):
    what = f"LogisticRegression(C={C}, solver={solver})"
    seconds, (_, folds, metrics, model) = best_of(lambda: run_job(csv, solver, model_path))
    report_time("BM_TrainingJob", seconds,
                f"read_csv -> ta_pandas -> labels -> {len(folds)} folds x StandardScaler + {what} "
                f"-> metrics -> final fit -> joblib.dump")
    seconds, _ = best_of(lambda: evaluate(data, solver))
    report_time("BM_Evaluate", seconds, f"folds by time, per fold StandardScaler + {what}, "
                                        "predict_proba + predict, pooled metrics")
    report_evaluate_parts(data, solver)
    seconds, _ = best_of(lambda: fit(data["x"], data["y"], solver))
    report_time("BM_FitModel", seconds, f"StandardScaler + {what} on all rows")
    return folds, metrics, model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", type=pathlib.Path)
    args = parser.parse_args()
    vigil = json.loads((args.dir / "vigil.json").read_text())
    csv = args.dir / "candles.csv"
    print(f"# pandas {pd.__version__}, scikit-learn {sklearn.__version__}, numpy {np.__version__}; "
          f"{csv} ({os.path.getsize(csv) / 1e6:.0f} MB)", flush=True)
    check_config(vigil)

    seconds, data = best_of(lambda: build_training_set(read_candles(csv)))
    report_time("BM_BuildTrainingSet", seconds,
                "read_csv + to_datetime, ta_pandas.ta_set per instrument, labels, drops, merge")
    seconds, candles = best_of(lambda: read_candles(csv))
    report_time("py/read_candles", seconds, "read_csv + to_datetime (part of BuildTrainingSet)")
    seconds, _ = best_of(lambda: build_training_set(candles))
    report_time("py/features_labels", seconds,
                "ta_set per instrument, labels, drops, merge (part of BuildTrainingSet)")

    vigil_x = check_rows(data, vigil, args.dir)
    with tempfile.TemporaryDirectory() as tmp:
        model_path = os.path.join(tmp, "model.joblib")
        for solver in SOLVERS:
            folds, metrics, model = time_solver(csv, data, solver, model_path)
            check_folds(folds, vigil)
            check_metrics(f"{solver} pooled", metrics, vigil)
            check_final(solver, model, vigil)
        seconds, _ = best_of(lambda: joblib.dump(model, model_path), number=20)
        report_time("py/joblib_dump", seconds, "joblib.dump of the final pipeline (part of the job)")
    # Untimed: where the remaining differences come from. The solvers' default tol=1e-4
    # stops short of the optimum Vigil's Newton solver reaches (tol 1e-10 on the Newton
    # decrement); tol=1e-10 should close the gap. Vigil's own feature matrix instead of
    # pandas' separates what the features contribute.
    _, metrics = evaluate(data, "newton-cholesky", tol=1e-10)
    check_metrics("newton-cholesky tol=1e-10 pooled", metrics, vigil,
                  ("roc_auc", "pr_auc", "log_loss", "accuracy"))
    check_final("newton-cholesky tol=1e-10", fit(data["x"], data["y"], "newton-cholesky", 1e-10),
                vigil)
    if vigil_x is not None:
        _, metrics = evaluate(dict(data, x=vigil_x), "newton-cholesky", tol=1e-10)
        check_metrics("newton-cholesky tol=1e-10 on vigil's feature matrix", metrics, vigil,
                      ("roc_auc", "log_loss"))
        check_final("newton-cholesky tol=1e-10 on vigil's feature matrix",
                    fit(vigil_x, data["y"], "newton-cholesky", 1e-10), vigil)


if __name__ == "__main__":
    main()
