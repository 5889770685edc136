#!/usr/bin/python3
"""The `ta` feature set computed with pandas, for the comparison in docs/benchmarks.md.

Reads a candle CSV (date,open,high,low,close,volume), computes the same 20 columns as
Vigil's `ta` set the way a pandas user would (rolling / ewm / vectorised numpy), following
R's TTR definitions where that stays simple (SMA-seeded EMAs, Wilder smoothing, population
sd for Bollinger bands), and times only the computation: best of 3.

  /usr/bin/python3 scripts/bench/ta_pandas.py CANDLES.csv [--out FEATURES.csv]
"""
import argparse
import time

import numpy as np
import pandas as pd


def seeded_ewm(x, n, alpha):
    """TTR's EMA: skips leading NaNs, seeds with the mean of the first n values."""
    first = x.first_valid_index()
    start = x.index.get_loc(first)
    seed_at = start + n - 1
    y = x.copy()
    y.iloc[:seed_at] = np.nan
    y.iloc[seed_at] = x.iloc[start:seed_at + 1].mean()
    return y.ewm(alpha=alpha, adjust=False).mean()


def ema(x, n):
    return seeded_ewm(x, n, 2.0 / (n + 1))


def wilder(x, n):
    return seeded_ewm(x, n, 1.0 / n)


def wilder_sum(x, n):
    """TTR's wilderSum: S_t = x_t + S_{t-1} (n - 1) / n, i.e. n times an ewm(1/n)."""
    start = x.index.get_loc(x.first_valid_index())
    seed_at = start + n - 2  # TTR's first sum is at start + n - 1
    y = x.copy()
    y.iloc[:seed_at] = np.nan
    y.iloc[seed_at] = x.iloc[start:seed_at + 1].sum() / n
    s = n * y.ewm(alpha=1.0 / n, adjust=False).mean()
    s.iloc[seed_at] = np.nan
    return s


def ta_set(df):
    high, low, close, volume = df["high"], df["low"], df["close"], df["volume"]
    out = pd.DataFrame(index=df.index)
    out["sma_20"] = close.rolling(20).mean()
    out["ema_20"] = ema(close, 20)
    # A rolling(20).apply(...) WMA makes a Python call per row (seconds); a pandas user who
    # cares about speed takes the vectorised window product, so we do too.
    weights = np.arange(1, 21, dtype=float)
    wma = np.full(len(close), np.nan)
    wma[19:] = np.lib.stride_tricks.sliding_window_view(close.to_numpy(), 20) @ weights
    out["wma_20"] = wma / weights.sum()

    move = close.diff()
    up = wilder(move.clip(lower=0), 14)
    down = wilder((-move).clip(lower=0), 14)
    out["rsi_14"] = 100 * up / (up + down)

    macd = ema(close, 12) - ema(close, 26)
    signal = ema(macd, 9)
    out["macd_12_26_9"] = macd
    out["macd_signal_12_26_9"] = signal
    out["macd_hist_12_26_9"] = macd - signal

    mid = close.rolling(20).mean()
    half_width = 2 * close.rolling(20).std(ddof=0)
    out["bb_lower_20_2"] = mid - half_width
    out["bb_mid_20_2"] = mid
    out["bb_upper_20_2"] = mid + half_width
    out["bb_pctb_20_2"] = (close - out["bb_lower_20_2"]) / (2 * half_width)

    prev_close = close.shift(1)
    tr = np.maximum(high, prev_close) - np.minimum(low, prev_close)
    tr.iloc[0] = np.nan
    out["tr"] = tr
    out["atr_14"] = wilder(tr, 14)

    d_high = high.diff()
    d_low = -low.diff()
    no_move = (d_high == d_low) | ((d_high < 0) & (d_low < 0))
    plus_dm = d_high.where(~no_move & (d_high > d_low), 0.0).where(d_high.notna())
    minus_dm = d_low.where(~no_move & (d_low > d_high), 0.0).where(d_low.notna())
    tr_sum = wilder_sum(tr, 14)
    di_plus = 100 * wilder_sum(plus_dm, 14) / tr_sum
    di_minus = 100 * wilder_sum(minus_dm, 14) / tr_sum
    dx = 100 * (di_plus - di_minus).abs() / (di_plus + di_minus)
    out["adx_14"] = wilder(dx, 14)

    highest = high.rolling(14).max()
    lowest = low.rolling(14).min()
    fast_k = (close - lowest) / (highest - lowest)
    fast_k = fast_k.where(np.isfinite(fast_k) | highest.isna(), 0.5)
    fast_d = fast_k.rolling(3).mean()
    out["stoch_fastk_14_3_3"] = fast_k
    out["stoch_fastd_14_3_3"] = fast_d
    out["stoch_slowd_14_3_3"] = fast_d.rolling(3).mean()

    logret = np.log(close).diff()
    signed = np.where(logret > 0, volume, -volume)
    signed[np.abs(logret) < np.sqrt(np.finfo(float).eps)] = 0
    signed[0] = volume.iloc[0]
    out["obv"] = np.cumsum(signed)
    out["logret_1"] = logret
    out["rv_20"] = logret.rolling(20).std()
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("csv")
    parser.add_argument("--out", help="also write the features here (for checking)")
    args = parser.parse_args()
    df = pd.read_csv(args.csv)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        features = ta_set(df)
        best = min(best, time.perf_counter() - start)
    if args.out:
        features.to_csv(args.out, index=False, float_format="%.17g")
    print(f"pandas {pd.__version__} ta set over {len(df)} rows: {best:.3f} s")


if __name__ == "__main__":
    main()
