#!/usr/bin/env python3
"""A second venue for the simulator's BTC perpetual: the same candles times a slowly
oscillating basis 1 + A sin(n / P), so that cross-venue examples (the `opportunity` task of
docs/training.md, the `arbitrage` strategy of docs/backtesting.md) have a spread to find.

    python3 scripts/make_alt_venue.py <home>/sim/candles.csv alt_btc.csv [A] [P]
    vigil ingest --kind candles --venue alt --symbol BTC-PERP --timeframe 1m alt_btc.csv
"""
import csv
import math
import sys


def main():
    source, target = sys.argv[1], sys.argv[2]
    amplitude = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0025
    period = float(sys.argv[4]) if len(sys.argv) > 4 else 37.0
    with open(source, newline="") as f, open(target, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["ts", "open", "high", "low", "close", "volume"])
        n = 0
        for row in csv.DictReader(f):
            if row["instrument"] != "sim:BTC-PERP":
                continue
            basis = 1.0 + amplitude * math.sin(n / period)
            prices = [float(row[k]) * basis for k in ("open", "high", "low", "close")]
            writer.writerow([row["ts"], *(repr(p) for p in prices), row["volume"]])
            n += 1


if __name__ == "__main__":
    main()
