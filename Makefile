# Vigil: the two set-up commands are `make demo` and `make test`; both install what they
# need first (scripts/install-deps.sh is idempotent).
BUILD_DIR ?= build
ASAN_DIR ?= build-asan
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
VIGIL := $(BUILD_DIR)/apps/vigil/vigil
UNIT_TESTS := core_test data_test data_formats_test simulator_test features_test models_test registry_test scheduler_test pipeline_test anomaly_test neural_test xgboost_test imbalance_test calibration_test risk_training_test risk_evaluation_test serve_test api_test live_test arima_test garch_test auto_arima_test forecast_eval_test forecast_r_test forecast_pipeline_test backtest_test
# ccache: share cached objects between checkouts of the tree (CI clones afresh).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
DEMO_HOME ?= vigil-demo

.PHONY: all deps build test unit-test demo bench bench-compare format format-check sanitize clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Every test: unit tests, real-data tests, CLI golden tests, and the store suite against
# SQLite and a real PostgreSQL server started on loopback for the run.
test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

unit-test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L unit

# The main job on the embedded SQLite store: simulated markets with incidents, default models
# trained and promoted, `vigil run` replaying them with alerts and the HTTP API on :8080.
# Runs until interrupted; DEMO_SECONDS=N stops by itself.
demo: build
	@bash scripts/demo.sh $(VIGIL) $(DEMO_HOME)

bench: build
	bash scripts/run-benchmarks.sh $(BUILD_DIR)

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.cc' '*.h')

# AddressSanitizer + UndefinedBehaviorSanitizer build running the unit tests.
# Debug (-O0) compiles fastest; only the unit-test binaries are built.
sanitize: deps
	cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DVIGIL_SANITIZE=ON -DVIGIL_BUILD_BENCH=OFF
	cmake --build $(ASAN_DIR) -j $(JOBS) --target $(UNIT_TESTS)
	cd $(ASAN_DIR) && ctest --output-on-failure -j $(JOBS) -L unit

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR)
