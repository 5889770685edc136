"""Writes the CSV inputs of tests/apps/cli_forecast_test.cc (deterministic; numpy's PCG64).

ar1.csv:       hourly timestamps, an AR(1) series y_t = 10 + 0.6 (y_{t-1} - 10) + e_t, 150 rows.
returns.csv:   a GARCH(1,1) return series (omega 0.05, alpha 0.1, beta 0.85), 400 rows, no
               timestamps.
two_columns.csv: timestamp, close, volume (30 rows): needs --column.
bad_cell.csv:  ar1.csv's first rows with line 5 holding a non-numeric value.
"""
import numpy as np

rng = np.random.default_rng(8)
start = np.datetime64("2024-01-01T00:00:00")

y = [10.0]
for _ in range(149):
    y.append(10 + 0.6 * (y[-1] - 10) + rng.normal())
with open("ar1.csv", "w") as f:
    f.write("timestamp,value\n")
    for i, v in enumerate(y):
        f.write(f"{start + np.timedelta64(i, 'h')}Z,{v:.6f}\n")

h, r = 1.0, []
for _ in range(400):
    e = np.sqrt(h) * rng.normal()
    r.append(e)
    h = 0.05 + 0.1 * e * e + 0.85 * h
with open("returns.csv", "w") as f:
    f.write("r\n")
    for v in r:
        f.write(f"{v:.6f}\n")

with open("two_columns.csv", "w") as f:
    f.write("timestamp,close,volume\n")
    for i in range(30):
        f.write(f"{start + np.timedelta64(i, 'h')}Z,{100 + y[i]:.4f},{1000 + 10 * i}\n")

with open("bad_cell.csv", "w") as f:
    f.write("timestamp,value\n")
    for i in range(10):
        value = "n/a" if i == 3 else f"{y[i]:.6f}"
        f.write(f"{start + np.timedelta64(i, 'h')}Z,{value}\n")
