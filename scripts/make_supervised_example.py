#!/usr/bin/env python3
"""Joins `vigil features compute` output with `vigil labels compute` output into the
labelled CSV that `vigil classify run` reads (docs/supervised.md walks through it).

    vigil features compute --input CANDLES.csv --venue binance --set ta --out ta.csv
    vigil labels compute --kind liquidation --leverage 50 --side long \
        --input CANDLES.csv --out liq.csv
    python3 scripts/make_supervised_example.py ta.csv liq.csv liquidated_60m example.csv

Output columns: timestamp, a few scale-free features of the `ta` set (plus atr_pct =
atr_14 / close), and the label column renamed `label`. Rows whose label is undefined
(the horizon runs past the data) are left out; feature warm-up rows keep their empty
(missing) cells unless --complete is given, which leaves them out too (the logistic kind
needs complete rows). Standard library only.
"""
import argparse
import csv
import math

FEATURES = ["logret_1", "rv_20", "rsi_14", "bb_pctb_20_2", "adx_14", "stoch_fastk_14_3_3",
            "macd_hist_12_26_9"]


def number(text):
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("features")
    parser.add_argument("labels")
    parser.add_argument("label_column")
    parser.add_argument("out")
    parser.add_argument("--complete", action="store_true", help="leave out warm-up rows")
    args = parser.parse_args()

    with open(args.labels, newline="") as f:
        labels = {row["timestamp"]: row for row in csv.DictReader(f)}
    kept = 0
    with open(args.features, newline="") as f, open(args.out, "w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["timestamp"] + FEATURES + ["atr_pct", "label"])
        for row in csv.DictReader(f):
            label_row = labels.get(row["timestamp"])
            if label_row is None or label_row[args.label_column] == "":
                continue
            close = number(label_row["close"])
            atr = number(row["atr_14"])
            values = [number(row[name]) for name in FEATURES]
            values.append(atr / close if atr is not None and close else None)
            if args.complete and any(v is None for v in values):
                continue
            writer.writerow([row["timestamp"]] + ["" if v is None else repr(v) for v in values] +
                            [label_row[args.label_column]])
            kept += 1
    print(f"{kept} rows -> {args.out}")


if __name__ == "__main__":
    main()
