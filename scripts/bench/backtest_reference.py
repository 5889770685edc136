#!/usr/bin/python3
"""sma_cross written the two ways Python users write backtests, for docs/benchmarks.md.

Reads a candle CSV (date,open,high,low,close,volume, as `vigil backtest --input` does) and
runs the issue's sma_cross (docs/backtesting.md, "Strategies") on it:

  vectorised   pandas rolling means, then the per-bar equity factors in numpy (the vectorbt
               way: whole columns at a time);
  event loop   a strategy object called once per bar by a plain Python loop that fills the
               pending order at the open, marks equity at the close and asks for the next
               decision (the backtrader way, without backtrader's line buffers and layers).

The definition, exactly: SMA_fast and SMA_slow of close; at bar t's close the target is fully
long if SMA_fast > SMA_slow, else flat; the order fills at bar t+1's open moved against it by
the fixed slippage (buy at open x (1 + bps/1e4), sell at open x (1 - bps/1e4)); a buy spends
all cash, quantity = cash / (fill x (1 + fee rate)); a sell closes the position for quantity
x fill x (1 - fee rate); no position before both averages exist; the last bar's signal is not
executed; equity = cash + quantity x close at every close; total_return = final equity /
initial capital - 1.

Times only the backtest (the CSV is read, and turned into numpy arrays and Python lists,
before the clock starts): best of --repeats, wall clock, one process.

  /usr/bin/python3 scripts/bench/backtest_reference.py CANDLES.csv [--fast 10] [--slow 30]
      [--fee-bps 10] [--slippage-bps 5] [--initial-capital 10000] [--repeats 3]
      [--case NAME] [--vigil VIGIL.json ...]

Output, one line each:
  {"approach": ..., "total_return": ..., "events_per_second": ...}   per approach (JSON)
  time <case> <wall s> <cpu s> <what>     the timings (<case> names a Vigil benchmark)
  check <what> <value>                    agreement with Vigil's total_return (each --vigil
                                          file: `vigil backtest --json` output or the
                                          benchmark's vigil.json)
"""
import argparse
import json
import sys
import time

import numpy as np
import pandas as pd

TOLERANCE = 1e-9  # relative, on total_return


def best_of(fn, repeats):
    """((wall s, CPU s) of the fastest of `repeats` calls, the last result)."""
    best, result = (float("inf"), float("inf")), None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        best = min(best, (time.perf_counter() - start, time.process_time() - start_cpu))
    return best, result


class Costs:
    def __init__(self, fee_bps, slippage_bps):
        self.fee = fee_bps / 1e4
        self.buy_slip = 1.0 + slippage_bps / 1e4
        self.sell_slip = 1.0 - slippage_bps / 1e4


# --- vectorised (pandas / numpy) ---

def sma_cross_vectorised(open_, close, fast, slow, costs, initial):
    """Equity at every close, from per-bar growth factors.

    held[k]: the position during bar k, i.e. the target decided at bar k-1's close (flat
    while an average is missing). Equity over bar k grows by
      close_k / close_{k-1}                     holding through bar k,
      close_k / (fill_k (1 + fee))              bought at bar k's open (all the cash),
      fill_k (1 - fee) / close_{k-1}            sold at bar k's open (the whole position),
      1                                         flat,
    so equity = initial x cumprod(factors).
    """
    c = pd.Series(close)
    target = (c.rolling(fast).mean() > c.rolling(slow).mean()).to_numpy()
    target[: max(fast, slow) - 1] = False  # rolling gives NaN there (NaN > x is False anyway)
    held = np.empty_like(target)
    held[0] = False
    held[1:] = target[:-1]  # the last bar's target is never executed
    before = np.empty_like(held)
    before[0] = False
    before[1:] = held[:-1]
    prev_close = np.empty_like(close)
    prev_close[0] = close[0]
    prev_close[1:] = close[:-1]
    factor = np.ones_like(close)
    hold = held & before
    buy = held & ~before
    sell = ~held & before
    factor[hold] = close[hold] / prev_close[hold]
    factor[buy] = close[buy] / (open_[buy] * costs.buy_slip * (1.0 + costs.fee))
    factor[sell] = open_[sell] * costs.sell_slip * (1.0 - costs.fee) / prev_close[sell]
    equity = initial * np.cumprod(factor)
    return equity, int(buy.sum() + sell.sum())


# --- event loop (backtrader-style) ---

class SmaCrossStrategy:
    """Running sums of the last `fast` and `slow` closes; next() returns the target."""

    def __init__(self, fast, slow):
        self.fast, self.slow = fast, slow
        self.closes = []
        self.fast_sum = self.slow_sum = 0.0

    def next(self, close):
        closes = self.closes
        closes.append(close)
        n = len(closes)
        self.fast_sum += close
        self.slow_sum += close
        if n > self.fast:
            self.fast_sum -= closes[n - 1 - self.fast]
        if n > self.slow:
            self.slow_sum -= closes[n - 1 - self.slow]
        if n < max(self.fast, self.slow):
            return None  # an average is missing: no decision
        return self.fast_sum / self.fast > self.slow_sum / self.slow


def sma_cross_event_loop(opens, closes, fast, slow, costs, initial):
    strategy = SmaCrossStrategy(fast, slow)
    cash, quantity, order, fills = initial, 0.0, None, 0
    equity = []
    for open_, close in zip(opens, closes):
        if order == "buy":  # the order decided at the previous close fills at this open
            quantity = cash / (open_ * costs.buy_slip * (1.0 + costs.fee))
            cash, fills = 0.0, fills + 1
        elif order == "sell":
            cash += quantity * open_ * costs.sell_slip * (1.0 - costs.fee)
            quantity, fills = 0.0, fills + 1
        order = None
        equity.append(cash + quantity * close)
        target = strategy.next(close)
        if target is True and quantity == 0.0:
            order = "buy"
        elif target is False and quantity > 0.0:
            order = "sell"
    return equity, fills  # an order left after the last bar is never executed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("csv")
    parser.add_argument("--fast", type=int, default=10)
    parser.add_argument("--slow", type=int, default=30)
    parser.add_argument("--fee-bps", type=float, default=10.0)
    parser.add_argument("--slippage-bps", type=float, default=5.0)
    parser.add_argument("--initial-capital", type=float, default=10_000.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--case", default="sma_cross", help="case name of the time lines")
    parser.add_argument("--vigil", action="append", default=[],
                        help="a JSON file with Vigil's total_return to check against")
    args = parser.parse_args()

    df = pd.read_csv(args.csv, usecols=["open", "close"], dtype="float64")
    open_, close = df["open"].to_numpy(), df["close"].to_numpy()
    opens, closes = open_.tolist(), close.tolist()
    costs = Costs(args.fee_bps, args.slippage_bps)
    bars = len(close)
    print(f"# pandas {pd.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}; "
          f"{args.csv}: {bars} bars; sma_cross fast {args.fast} slow {args.slow}, fee "
          f"{args.fee_bps} bps, slippage fixed {args.slippage_bps} bps, capital "
          f"{args.initial_capital}; best of {args.repeats}", flush=True)

    runs = (
        ("pandas_vectorised", "pandas rolling means + numpy equity factors (vectorbt-style)",
         lambda: sma_cross_vectorised(open_, close, args.fast, args.slow, costs,
                                      args.initial_capital)),
        ("python_event_loop", "plain Python per-bar event loop (backtrader-style)",
         lambda: sma_cross_event_loop(opens, closes, args.fast, args.slow, costs,
                                      args.initial_capital)),
    )
    answers, fill_counts = {}, {}
    for approach, what, run in runs:
        (wall, cpu), (equity, fills) = best_of(run, args.repeats)
        total_return = equity[-1] / args.initial_capital - 1.0
        answers[approach], fill_counts[approach] = total_return, fills
        print(json.dumps({"approach": approach, "csv": args.csv, "bars": bars, "fills": fills,
                          "total_return": total_return, "seconds": wall, "cpu_seconds": cpu,
                          "events_per_second": bars / wall}), flush=True)
        print(f"time {args.case} {wall:.6f} {cpu:.6f} {what}", flush=True)

    def check(what, ours, theirs):
        rel = abs(ours - theirs) / max(abs(theirs), 1e-300)
        verdict = "agree" if rel <= TOLERANCE else "DISAGREE"
        print(f"check total_return {what} {ours!r} vs {theirs!r} rel {rel:.1e} {verdict} "
              f"(tolerance {TOLERANCE:.0e})", flush=True)
        return rel <= TOLERANCE

    ok = check("pandas_vectorised vs python_event_loop", answers["pandas_vectorised"],
               answers["python_event_loop"])
    for path in args.vigil:
        vigil = json.load(open(path))
        for approach, total_return in answers.items():
            ok &= check(f"{approach} vs vigil({path})", total_return, vigil["total_return"])
            if "fills" in vigil:  # the benchmark's vigil.json; `vigil backtest --json` has none
                same = fill_counts[approach] == vigil["fills"]
                print(f"check fills {approach} vs vigil({path}) {fill_counts[approach]} vs "
                      f"{vigil['fills']} {'agree' if same else 'DISAGREE'}", flush=True)
                ok &= same
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
