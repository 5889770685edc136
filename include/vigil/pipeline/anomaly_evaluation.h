// The anomaly evaluation harness: how well each anomaly detector finds labelled incidents in
// real candles. It injects anomalies of known type, place and size into a real series (or
// takes the market simulator's labelled incidents), computes causal features per bar, fits
// every detector on the first part of the series (unsupervised: the training part has
// events too) and scores the rest, then reports ranking metrics and detection delay per
// detector. bench/anomaly_evaluation.cc runs it on ../shared/data; docs/results.md holds
// the tables.
//
//   VIGIL_ASSIGN_OR_RETURN(vigil::CandleSeries candles, vigil::ReadCandleSeries(path, "bittrex"));
//   vigil::InjectionOptions injection;          // sizes and counts: see the struct
//   VIGIL_ASSIGN_OR_RETURN(vigil::InjectedSeries injected,
//                          vigil::InjectAnomalies(candles, injection));
//   VIGIL_ASSIGN_OR_RETURN(vigil::EvaluationDataset dataset,
//                          vigil::DatasetFromInjected("ETH_BTC-5m", injected, 0.5));
//   VIGIL_ASSIGN_OR_RETURN(vigil::DetectorResult zscore,
//                          vigil::EvaluateDetector(dataset, {"zscore", {}}));
//   std::cout << vigil::ResultsTable(dataset, {zscore});
//
// Injected anomaly types (InjectionOptions holds the sizes; vol = the sample sd of the
// previous `volatility_window` one-bar log returns of the original series, floored so that
// flat stretches of illiquid series still get a visible event):
//   spike             one bar's high, low and close moved by exp(+-spike_sigmas * vol); the
//                     next bar is the original one (the price comes back). Window: the spike
//                     bar and the bar that reverts.
//   level_shift       from the event bar on, every price is multiplied by
//                     exp(+-level_shift_sigmas * vol) (the event bar's open excepted).
//                     Window: level_shift_label_bars bars from the shift.
//   variance_burst    over burst_bars bars every price's log distance to the previous close
//                     is multiplied by burst_factor; later prices keep the level reached.
//                     Window: the burst.
//   oracle_deviation  the oracle answer is frozen at its last value before the event,
//                     offset by +-oracle_offset, for oracle_bars bars while the market moves.
//                     Window: those bars.
// Events never overlap (at least gap_bars bars between windows) and start after
// warmup_bars. Positions, signs and order depend only on `seed`.
//
// The oracle: no Chainlink file in ../shared/data overlaps a candle file in time, so the
// oracle of a real series is synthetic, built from the (injected) closes by Chainlink's push
// rule: a new answer (the close) is posted when the close moves more than
// oracle_deviation_threshold from the last answer or heartbeat_bars after the last post; a
// bar sees the answer posted at the end of the previous bar or earlier (one bar of latency).
//
// Features (AnomalyFeatureNames), causal: row t uses bars <= t only.
//   logret_1        log(close_t / close_{t-1})                   (features: MakeLogReturn)
//   abs_ret_vol     |logret_1| / rv_{n} at t-1 (the previous n returns' sd, MakeRealizedVol)
//   range_close     (high_t - low_t) / close_t
//   vol_ratio       volume_t / mean volume of the last n bars     (MakeVolumeRatio; 1 when
//                   the series has no volume)
//   ret5_vol        logret_5 / (rv_{n} at t-5 * sqrt(5)): the 5-bar move against the
//                   volatility before it
//   rv_ratio        rv_{short} at t / rv_{n} at t-short: recent against earlier volatility
//   oracle_dev_bps  (oracle_t / close_t - 1) * 1e4
// with n = FeatureOptions::window, short = FeatureOptions::short_window. Volatility
// denominators are floored at FeatureOptions::min_volatility. Rows whose features are not
// all defined (warm-up) are left out of a dataset.
//
// Protocol (EvaluateDetector): the features are standardized with the training rows' median
// and normal-consistent MAD (so that distance- and kernel-based detectors see comparable
// units; tree and rank detectors are unaffected by it), the detector is fitted on the
// training rows (a strided subsample when a kind's fit would be too slow, see
// DetectorSpec::max_fit_rows) and scores the test rows with Score (novelty mode). Metrics
// on the test rows: ROC-AUC and PR-AUC (average precision) of the raw score against the
// per-bar labels, precision@k with k = the number of positive bars, and per event whose
// window lies in the test part, the delay from its first bar to the first flagged bar in its
// window (flag = the detector's own threshold at its `contamination`); the median delay over
// detected events and the fraction of events detected.
// Failures of a detector (not implemented yet, bad params, a fit error) are recorded in its
// DetectorResult, never returned as errors, so one detector cannot stop a run.
//
// Thread-safety: pure functions over their arguments; the detectors they build are local.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/data/simulator.h"
#include "vigil/features/kernel.h"
#include "vigil/models/model.h"

namespace vigil {

// One candle series as parallel columns, with an optional oracle answer per bar.
struct CandleSeries {
  std::vector<int64_t> ts;  // bar open time, ns
  std::vector<double> open, high, low, close, volume;
  std::vector<double> oracle;  // empty, or the answer visible at each bar (NaN: none yet)

  int64_t size() const { return static_cast<int64_t>(close.size()); }
  // Equal column lengths, positive finite prices with low <= open, close <= high,
  // non-negative volume (NaN allowed: no volume), positive or NaN oracle; InvalidArgument naming
  // the bar otherwise.
  Status Validate() const;
};

// Reads a candle file with MarketFileReader (format auto-detected; `venue` is needed when
// the file does not name one). Fails when the file has no candles or several series.
Result<CandleSeries> ReadCandleSeries(const std::string& path, const std::string& venue);

// The series as the feature kernels' bars, one per candle. `keep_volume` false gives every
// bar volume 0 (for a series without volumes, whose column is all NaN).
std::vector<Bar> BarsOf(const CandleSeries& series, bool keep_volume = true);

enum class InjectedAnomaly { kSpike, kLevelShift, kVarianceBurst, kOracleDeviation };
std::string_view InjectedAnomalyName(InjectedAnomaly type);  // "spike", "level_shift", ...

struct InjectionOptions {
  uint64_t seed = 1;
  int spikes = 8;  // events of each type, >= 0
  int level_shifts = 8;
  int variance_bursts = 8;
  int oracle_deviations = 8;
  int warmup_bars = 100;       // no event starts before this bar (>= volatility_window + 1)
  int gap_bars = 24;           // minimum bars between two event windows, >= 0
  int volatility_window = 48;  // trailing returns behind the volatility scale, >= 2
  // Floor of the volatility scale as a fraction of the series' median trailing volatility,
  // [0, 1]: flat stretches of illiquid series would otherwise get events of size zero.
  double volatility_floor = 0.25;
  double spike_sigmas = 6.0;  // > 0
  double level_shift_sigmas = 6.0;
  int level_shift_label_bars = 3;  // >= 1
  double burst_factor = 4.0;       // > 1
  int burst_bars = 12;             // >= 2
  double oracle_offset = 0.01;     // fraction, (0, 0.5)
  int oracle_bars = 12;            // >= 1
  // The synthetic oracle's push rule (Chainlink-style): deviation threshold (fraction) and
  // heartbeat in bars.
  double oracle_deviation_threshold = 0.005;
  int oracle_heartbeat_bars = 12;

  Status Validate() const;
};

// One labelled incident; bars [start, end) of its series (or rows of a dataset's test part).
struct LabelledEvent {
  std::string type;  // InjectedAnomalyName or a simulator incident type
  int64_t start = 0;
  int64_t end = 0;
  double magnitude = 0.0;  // injected: signed size (sigmas or fraction); simulator: its own
};

struct InjectedSeries {
  CandleSeries series;                // prices with the events, and the oracle
  std::vector<int> labels;            // per bar: 1 inside an event window
  std::vector<LabelledEvent> events;  // sorted by start
};

// Injects the events into a copy of `base` (its oracle, if any, is replaced by the
// synthetic one). InvalidArgument when the options are invalid, `base` does not validate,
// or the events do not fit into the series.
Result<InjectedSeries> InjectAnomalies(const CandleSeries& base, const InjectionOptions& options);

// The synthetic Chainlink-style oracle of the header comment for `close`.
std::vector<double> SyntheticOracle(std::span<const double> close, double deviation_threshold,
                                    int heartbeat_bars);

struct FeatureOptions {
  int window = 48;               // n: trailing volatility and volume window, >= 6
  int short_window = 12;         // rv_ratio's recent window, [2, window)
  double min_volatility = 1e-5;  // floor of volatility denominators (log-return units), > 0
  Status Validate() const;
};

const std::vector<std::string>& AnomalyFeatureNames();

// Per bar of `series` (which must have an oracle), the features above; NaN in warm-up.
// rows = series.size(). InvalidArgument when the series or options are invalid.
Result<FeatureMatrix> ComputeAnomalyFeatures(const CandleSeries& series,
                                             const FeatureOptions& options = {});

// Bars of `series` scored by the evaluation: a train part and a test part, with labels and
// events of the test part in test-row coordinates.
struct EvaluationDataset {
  std::string name;
  FeatureMatrix train;
  FeatureMatrix test;
  std::vector<int> test_labels;
  std::vector<LabelledEvent> test_events;  // windows inside the test part
  int64_t train_events = 0;                // events (partly) in the training part
};

// Computes the features of `injected.series`, drops the warm-up rows, and splits the rest in
// time: the first train_fraction (0, 1) of the rows train, the others test. Events are kept
// when their window lies wholly in the test part.
Result<EvaluationDataset> DatasetFromInjected(const std::string& name,
                                              const InjectedSeries& injected, double train_fraction,
                                              const FeatureOptions& features = {});

// The simulator's incidents as a dataset: per instrument the candles joined point in time
// with its oracle (an answer counts from its timestamp on, once the bar containing it
// closes), the same features, and labels for the incidents whose `type` is in `types`
// (e.g. flash_crash, oracle_deviation, volume_spike). Rows are instrument by instrument;
// the split is in time (bars opening before start + train_fraction of the period train).
Result<EvaluationDataset> DatasetFromSimulation(const std::string& name,
                                                const SimulatedMarket& market,
                                                const std::vector<std::string>& types,
                                                double train_fraction,
                                                const FeatureOptions& features = {});

// A detector to evaluate: a registered anomaly kind and its configuration.
struct DetectorSpec {
  std::string kind;
  nlohmann::json params = nlohmann::json::object();
  // Fit on at most this many training rows (an evenly strided subsample); 0 = all.
  int64_t max_fit_rows = 0;
};

struct DetectorResult {
  std::string kind;
  nlohmann::json params;
  bool ok = false;
  // When !ok: the failure, e.g. "invalid argument: model 'lof': config key 'k': unknown".
  std::string error;
  double roc_auc = 0.0;
  double pr_auc = 0.0;
  double precision_at_k = 0.0;
  double median_delay = 0.0;       // bars, over detected events (NaN when none detected)
  double detected_fraction = 0.0;  // events with a flag inside their window / events
  std::map<std::string, std::pair<int, int>> detected_by_type;  // type -> (detected, total)
  int64_t fit_rows = 0;
  double fit_seconds = 0.0;
  double score_seconds = 0.0;
};

// Per event, the bars from its start to the first flagged bar inside [start, end), or -1
// when no bar of the window is flagged. Precondition: windows inside flags.
std::vector<int64_t> DetectionDelays(std::span<const LabelledEvent> events,
                                     const std::vector<bool>& flags);

// Runs the protocol of the header comment for one detector. Never fails: errors go into the
// result.
DetectorResult EvaluateDetector(const EvaluationDataset& dataset, const DetectorSpec& spec);

// The registered anomaly kinds (vigil::ModelKinds() with Task::kAnomaly), sorted.
std::vector<std::string> AnomalyKinds();

// Markdown: a header line naming the dataset and its sizes, then
// | detector | ROC-AUC | PR-AUC | precision@k | median delay (bars) | detected | fit s |
// score s |, one row per result (a failed one says why), then a table of events detected per
// type.
std::string ResultsTable(const EvaluationDataset& dataset, std::span<const DetectorResult> results);

}  // namespace vigil
