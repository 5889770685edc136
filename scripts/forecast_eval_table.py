"""Markdown table of `vigil forecast --evaluate --json` documents (one per stdin line)."""
import json
import sys


def fmt(value):
    return "n/a" if value is None else f"{value:.4g}"


def main():
    # MAPE is meaningless on returns (actuals near zero): "--no-mape" leaves it out.
    mape = "--no-mape" not in sys.argv[2:]
    print(f"\n#### {sys.argv[1]}\n")
    print("| series | method | forecasts | MAE | RMSE |" + (" MAPE % |" if mape else "") +
          " MASE | cover 80% | cover 95% |")
    print("|---|---|---:|---:|---:|" + ("---:|" if mape else "") + "---:|---:|---:|")
    seen = set()
    for line in sys.stdin:
        doc = json.loads(line)
        series = doc["series"].split("/")[-1].split(" ")[0]
        for method in doc["evaluation"]["methods"]:
            if (series, method["name"]) in seen:
                continue  # the baselines come with every model's run
            seen.add((series, method["name"]))
            o = method["overall"]
            cov = o["coverage"]
            cells = [series, method["name"], str(o["forecasts"]), fmt(o["mae"]), fmt(o["rmse"])]
            cells += [fmt(o["mape"])] if mape else []
            cells += [fmt(o["mase"]), fmt(cov.get("0.8")), fmt(cov.get("0.95"))]
            print("| " + " | ".join(cells) + " |")


main()
