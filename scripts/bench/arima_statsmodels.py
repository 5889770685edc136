#!/usr/bin/python3
"""statsmodels counterparts of bench/forecast_benchmark.cc's ARIMA cases, for docs/benchmarks.md.

Reads the series and the case table Vigil's benchmark uses (`Rscript
scripts/bench/forecast_r.R export DIR` writes R's classic series to DIR/series,
`forecast_benchmark --write_reference_inputs=DIR` adds the crypto returns, arima_cases.csv,
arima_loglik_case.csv and Vigil's answers) and times statsmodels' ARIMA on the same series:
`sm.tsa.arima.model.ARIMA(y, order=(p, d, q), trend=...).fit()` at its defaults (exact
Gaussian likelihood by the Kalman filter, L-BFGS), a constant as `trend="c"` for d = 0 and
a drift as `trend="t"` for d = 1 when the case has one. Native thread pools are limited to
one thread, as Vigil's cases. Timing: best of 3 (sklearn_models.best_of), enough calls per
repeat to last 0.2 s.

  /usr/bin/python3 scripts/bench/arima_statsmodels.py DIR

Output, one line each:
  time <case> <wall s> <cpu s> <what>   the timings (<case> names a Vigil benchmark)
  check <what> <value>                  log-likelihoods and agreement with Vigil
"""
import argparse
import csv
import pathlib
import sys
import time
import warnings

import numpy as np
import statsmodels
from statsmodels.tsa.arima.model import ARIMA
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from sklearn_models import best_of, report_check, report_time  # noqa: E402


def read_series(directory, name):
    return np.loadtxt(directory / "series" / f"{name}.csv", skiprows=1, ndmin=1)


def read_rows(path):
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def calls_for(fn, seconds=0.2):
    """Calls per repeat so that one repeat lasts about `seconds` (timeit's autorange)."""
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-6)
    return max(1, min(1000, int(seconds / once)))


def model_for(y, p, d, q, constant):
    trend = "n"
    if constant and d == 0:
        trend = "c"
    elif constant and d == 1:
        trend = "t"
    return ARIMA(y, order=(p, d, q), trend=trend)


def fit_quietly(y, p, d, q, constant):
    # statsmodels warns about non-invertible starting MA parameters and convergence on some
    # series; the fit still finishes, and the check lines show where it landed.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model_for(y, p, d, q, constant).fit()


def time_fits(directory):
    vigil = {row["case"]: row for row in read_rows(directory / "vigil_arima.csv")}
    for case in read_rows(directory / "arima_cases.csv"):
        y = read_series(directory, case["series"])
        p, d, q, constant = (int(case[k]) for k in ("p", "d", "q", "constant"))

        def fit():
            return fit_quietly(y, p, d, q, constant)

        seconds, result = best_of(fit, number=calls_for(fit))
        report_time(case["case"], seconds,
                    f"ARIMA(order=({p},{d},{q}), trend={model_for(y, p, d, q, constant).trend!r})"
                    f".fit(), n={len(y)}")
        report_check(f"{case['case']} statsmodels-loglik", f"{result.llf:.10g}")
        if case["case"] in vigil:
            ours = float(vigil[case["case"]]["loglik"])
            report_check(f"{case['case']} |loglik-vigil|/|loglik|",
                         f"{abs(result.llf - ours) / abs(result.llf):.2e}")


def time_loglik(directory):
    """One exact likelihood evaluation at fixed coefficients: ARIMA(...).loglike(params)."""
    rows = read_rows(directory / "arima_loglik_case.csv")
    if not rows:
        return
    first = rows[0]
    y = read_series(directory, first["series"])
    p, d, q = (int(first[k]) for k in ("p", "d", "q"))
    values = {row["name"]: float(row["value"]) for row in rows}
    constant = "intercept" in values or "drift" in values
    model = model_for(y, p, d, q, constant)
    # statsmodels' parameter order: trend, ar.L*, ma.L*, sigma2 (not concentrated out: use
    # the CSS-free innovation variance of Vigil's own fit when written, else 1).
    params = ([values.get("intercept", values.get("drift"))] if constant else [])
    params += [values[f"ar{i}"] for i in range(1, p + 1)]
    params += [values[f"ma{i}"] for i in range(1, q + 1)]
    params.append(values.get("sigma2", 1.0))
    params = np.asarray(params)
    seconds, loglik = best_of(lambda: model.loglike(params), number=200)
    report_time(first["case"], seconds,
                f"ARIMA(order=({p},{d},{q})).loglike(params), n={len(y)}")
    report_check(f"{first['case']} statsmodels-loglike", f"{loglik:.10g}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", type=pathlib.Path)
    args = parser.parse_args()
    print(f"# statsmodels {statsmodels.__version__}, numpy {np.__version__}; one thread",
          flush=True)
    with threadpool_limits(limits=1):
        time_fits(args.dir)
        time_loglik(args.dir)


if __name__ == "__main__":
    main()
