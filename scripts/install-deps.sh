#!/usr/bin/env bash
# Installs every Debian 12 package Vigil's build, tests, benchmarks and services need.
# Idempotent: when everything is present it only checks and exits. Run as root or with sudo.
#   scripts/install-deps.sh            # build + test + services
#   scripts/install-deps.sh --bench    # also the reference tools for docs/benchmarks.md
#   scripts/install-deps.sh --fixtures # also R + TTR, to remake reference fixtures
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git clang-format clang-tidy
  # libraries
  libspdlog-dev libfmt-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev zlib1g-dev
  libsqlite3-dev sqlite3 libpq-dev libssl-dev libeigen3-dev
  # model families: kNN, one-class SVM, neural nets
  libnanoflann-dev libsvm-dev libtorch-dev
  # likelihood fitting (ARIMA, GARCH): L-BFGS / L-BFGS-B, header-only
  liblbfgspp-dev
  # the HTTP API and webhooks
  libcpp-httplib-dev
  # gradient boosting (the C API; the CMake config also needs the xgboost package's binary)
  libxgboost-dev xgboost
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # services started by the test suite (throwaway clusters on loopback)
  postgresql postgresql-contrib
  # runuser / procps for the service scripts
  util-linux procps iproute2 bc
  # the demo shows API calls with curl
  curl
  # the HTML backtest report's render test (headless)
  chromium
)
for option in "$@"; do
  case "$option" in
    # Reference tools measured side by side in docs/benchmarks.md (never needed by make test).
    --bench) packages+=(python3 python3-pandas python3-numpy python3-sklearn python3-xgboost r-base-core r-cran-ttr
              r-cran-forecast r-cran-fgarch python3-statsmodels
              wrk python3-fastapi python3-uvicorn) ;;
    # Reference implementations that made the committed fixtures (scripts/fixtures/).
    --fixtures) packages+=(r-base-core r-cran-ttr r-cran-forecast r-cran-fgarch r-cran-jsonlite r-cran-numderiv python3-scipy python3 python3-pandas python3-numpy python3-sklearn python3-xgboost) ;;
    *) echo "install-deps: unknown option '$option' (--bench, --fixtures)" >&2; exit 2 ;;
  esac
done

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  if ! command -v sudo >/dev/null; then
    echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
    exit 1
  fi
  sudo_cmd=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian starts a default cluster on package install where an init system runs; Vigil's
# tests use their own throwaway cluster and never touch it.
echo "install-deps: done"
