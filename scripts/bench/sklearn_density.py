#!/usr/bin/python3
"""scikit-learn counterparts of bench/density_benchmark.cc, for docs/benchmarks.md.

Reads the rows Vigil's benchmark uses and Vigil's scores on them
(`density_benchmark --write_reference_inputs=DIR` writes x.f64, lof_raw.f64,
ocsvm_decision.f64 and density.json), times scikit-learn on the same rows with n_jobs=1
and its native thread pools (OpenMP / BLAS) limited to one thread, as Vigil's one-thread
cases, and checks that the answers agree. Timing: best of 3 (sklearn_models.best_of).

  /usr/bin/python3 scripts/bench/sklearn_density.py DIR

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
from sklearn.neighbors import LocalOutlierFactor
from sklearn.svm import OneClassSVM
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from sklearn_models import best_of, report_check, report_time  # noqa: E402


def lof(x, vigil_raw):
    def fit_score():
        return LocalOutlierFactor(n_jobs=1).fit(x).negative_outlier_factor_

    seconds, nof = best_of(fit_score)
    report_time("lof_fit_score_20k_x20", seconds,
                "LocalOutlierFactor(n_jobs=1).fit(X).negative_outlier_factor_")
    report_check("lof max|raw - vigil|", f"{np.max(np.abs(-nof - vigil_raw)):.2e}")

    one = x[123:124].copy()
    one[0, 3] += 0.25
    model = LocalOutlierFactor(novelty=True, n_jobs=1).fit(x)
    seconds, _ = best_of(lambda: model.score_samples(one), number=200)
    report_time("lof_score_one_row", seconds, "LocalOutlierFactor(novelty=True).score_samples")


def ocsvm(x, vigil_decision):
    def fit_score():
        model = OneClassSVM().fit(x)
        return model, model.decision_function(x)

    seconds, (model, decision) = best_of(fit_score)
    report_time("ocsvm_fit_score_20k_x20", seconds,
                f"OneClassSVM().fit(X).decision_function(X), {len(model.support_)} SVs")
    report_check("ocsvm max|decision - vigil|",
                 f"{np.max(np.abs(decision - vigil_decision)):.2e}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", type=pathlib.Path)
    args = parser.parse_args()
    meta = json.loads((args.dir / "density.json").read_text())
    x = np.fromfile(args.dir / "x.f64", dtype="<f8").reshape(-1, meta["features"])
    print(f"# scikit-learn {sklearn.__version__}, numpy {np.__version__}; "
          f"{len(x)} rows x {x.shape[1]} features; one thread", flush=True)
    with threadpool_limits(limits=1):
        lof(x, np.fromfile(args.dir / "lof_raw.f64", dtype="<f8"))
        ocsvm(x, np.fromfile(args.dir / "ocsvm_decision.f64", dtype="<f8"))


if __name__ == "__main__":
    main()
