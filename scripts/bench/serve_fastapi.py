#!/usr/bin/python3
"""The Python counterpart of `vigil serve` for docs/benchmarks.md: a FastAPI service (Debian's
python3-fastapi + python3-uvicorn) serving the same XGBoost model from Vigil's registry, as
a Python team would write it: a pydantic request model, the booster loaded once per worker,
Booster.inplace_predict per request (no batching across requests).

  /usr/bin/python3 scripts/bench/serve_fastapi.py --model-dir HOME/models/NAME/VERSION \
      --port 8090 --workers 2

POST /v1/predict/{model} takes Vigil's body {"rows":[{"feature":value,...},...]} and answers
like Vigil: {"model":..,"version":..,"rows":[{"probability":p,"score":100p,"risk_level":..}]}
(risk levels from the manifest's details.risk_levels.cutpoints, else Vigil's defaults); a
missing feature is a 400 naming it, as in Vigil.
"""
import argparse
import json
import os
import pathlib
import socket

import numpy as np
import uvicorn
import xgboost as xgb
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

MODEL_DIR = pathlib.Path(os.environ.get("VIGIL_BENCH_MODEL_DIR", "."))
DEFAULT_CUTPOINTS = {"medium": 0.25, "high": 0.5, "critical": 0.75}  # Vigil's RiskCutpoints


class PredictRequest(BaseModel):
    rows: list[dict[str, float]]


def load_model(model_dir: pathlib.Path):
    manifest = json.loads((model_dir / "manifest.json").read_text())
    booster = xgb.Booster()
    booster.load_model(str(model_dir / "xgboost.json"))
    booster.set_param({"nthread": 1})
    features = manifest["feature_set"]["features"]
    levels = manifest.get("details", {}).get("risk_levels", {})
    cutpoints = dict(DEFAULT_CUTPOINTS, **levels.get("cutpoints", {}))
    return manifest, booster, features, cutpoints


def risk_level(p, cutpoints):
    for name in ("critical", "high", "medium"):
        if p >= cutpoints[name]:
            return name
    return "low"


app = FastAPI()
if (MODEL_DIR / "manifest.json").exists():
    MANIFEST, BOOSTER, FEATURES, CUTPOINTS = load_model(MODEL_DIR)
else:
    MANIFEST = BOOSTER = FEATURES = CUTPOINTS = None


@app.post("/v1/predict/{model}")
def predict(model: str, request: PredictRequest):
    if MANIFEST is None or model != MANIFEST["name"]:
        raise HTTPException(status_code=404, detail=f"model '{model}' is not served")
    x = np.empty((len(request.rows), len(FEATURES)), dtype=np.float64)
    for i, row in enumerate(request.rows):
        for j, name in enumerate(FEATURES):
            if name not in row:
                raise HTTPException(status_code=400, detail=f"rows[{i}]: missing feature '{name}'")
            x[i, j] = row[name]
    probabilities = BOOSTER.inplace_predict(x)
    return {"model": MANIFEST["name"], "version": MANIFEST["version"],
            "rows": [{"probability": float(p), "score": 100.0 * float(p),
                      "risk_level": risk_level(float(p), CUTPOINTS)} for p in probabilities]}


def bind_tcp_socket(bind_socket):
    """uvicorn --workers N binds the listener with proto 0, so the connections it accepts
    never get TCP_NODELAY from asyncio and each keep-alive answer after the first waits on
    the client's delayed ACK (about 44 ms here; uvicorn issue #3149, open). The fix of its
    pull request #3155: the same listener, marked as TCP."""
    def bind(self):
        sock = bind_socket(self)
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
            sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        return sock
    return bind


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    # uvicorn's workers import this module by name in new processes: they find the model
    # through the environment and the module through the working directory.
    os.environ["VIGIL_BENCH_MODEL_DIR"] = str(pathlib.Path(args.model_dir).resolve())
    os.chdir(pathlib.Path(__file__).resolve().parent)
    uvicorn.Config.bind_socket = bind_tcp_socket(uvicorn.Config.bind_socket)
    uvicorn.run("serve_fastapi:app", host="127.0.0.1", port=args.port, workers=args.workers,
                log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
