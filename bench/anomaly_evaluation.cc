// anomaly_evaluation: every registered anomaly detector against labelled incidents on real
// data (../shared/data candles with injected anomalies) and on the market simulator's
// incidents; prints one markdown table per dataset (anomaly_evaluation.h has the protocol)
// and writes them to --out. scripts/anomaly-eval.sh runs it and puts the tables into
// docs/results.md.
//
//   anomaly_evaluation --data ../shared/data [--out tables.md] [--seed 1]
//                      [--detectors zscore,lof] [--datasets ETH_BTC-5m,simulator]
//                      [--params 'lof={"n_neighbors":35}']
//
// A detector that fails (not implemented yet, rejected params, a fit error) gets a row
// saying so; the run goes on. Exit codes: 0 done, 1 a dataset could not be built or the
// output not written, 2 usage.
#include "vigil/pipeline/anomaly_evaluation.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "evaluation_flags.h"
#include "vigil/core/text_file.h"
#include "vigil/data/simulator.h"
#ifdef VIGIL_WITH_TORCH
#include "vigil/models/neural/autoencoder.h"
#endif

namespace {

using vigil::bench::SplitCommas;
using vigil::bench::Wanted;

// Expected anomaly share handed to every detector: it sets only the flag threshold, hence
// the detection delay and detected columns; the ranking metrics do not depend on it.
constexpr double kContamination = 0.02;
constexpr double kTrainFraction = 0.5;

struct CandleDataset {
  std::string name;
  std::string path;   // relative to --data
  std::string venue;  // for files that do not name theirs
  int events_per_type;
};

// Real candle files (PROVENANCE.md ids FT): two 5m series of different markets and a 1m
// series of an illiquid pair with gaps.
const std::vector<CandleDataset> kCandleDatasets = {
    {"ETH_BTC-5m", "candles/ETH_BTC-5m.csv", "bittrex", 8},
    {"XRP_USDT_USDT-5m-futures", "candles/XRP_USDT_USDT-5m-futures.csv", "binance", 3},
    {"UNITTEST_BTC-1m", "candles/UNITTEST_BTC-1m.json", "bittrex", 16},
};
constexpr const char* kSimulatorDataset = "simulator";

struct Arguments {
  std::string data;
  std::string out;
  uint64_t seed = 1;
  std::vector<std::string> detectors;  // empty: every registered anomaly kind
  std::vector<std::string> datasets;   // empty: all
  std::map<std::string, nlohmann::json> params;
};

bool ParseArguments(int argc, char** argv, Arguments& args) {
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) return false;
    const std::string value = argv[++i];
    if (flag == "--data") {
      args.data = value;
    } else if (flag == "--out") {
      args.out = value;
    } else if (flag == "--seed") {
      args.seed = std::strtoull(value.c_str(), nullptr, 10);
    } else if (flag == "--detectors") {
      args.detectors = SplitCommas(value);
    } else if (flag == "--datasets") {
      args.datasets = SplitCommas(value);
    } else if (flag == "--params") {
      const size_t equals = value.find('=');
      if (equals == std::string::npos) return false;
      args.params[value.substr(0, equals)] =
          nlohmann::json::parse(value.substr(equals + 1), nullptr, false);
      if (args.params[value.substr(0, equals)].is_discarded()) return false;
    } else {
      return false;
    }
  }
  return !args.data.empty();
}

// Per kind: the shared contamination plus what keeps a kind within a few seconds here
// (strided subsamples for the kinds whose fit is superlinear in the rows).
vigil::DetectorSpec SpecFor(const std::string& kind, const Arguments& args) {
  vigil::DetectorSpec spec{kind, {{"contamination", kContamination}}, 0};
  if (kind == "isolation_forest" || kind == "extended_iforest" || kind == "autoencoder") {
    spec.params["seed"] = args.seed;
  }
  if (kind == "ocsvm") spec.max_fit_rows = 5000;
  if (kind == "lof" || kind == "dbscan") spec.max_fit_rows = 20000;
  auto custom = args.params.find(kind);
  if (custom != args.params.end()) spec.params.update(custom->second);
  return spec;
}

vigil::Result<vigil::EvaluationDataset> CandleEvaluation(const CandleDataset& source,
                                                         const Arguments& args) {
  VIGIL_ASSIGN_OR_RETURN(vigil::CandleSeries candles,
                         vigil::ReadCandleSeries(args.data + "/" + source.path, source.venue));
  vigil::InjectionOptions injection;
  injection.seed = args.seed;
  injection.spikes = injection.level_shifts = injection.variance_bursts =
      injection.oracle_deviations = source.events_per_type;
  VIGIL_ASSIGN_OR_RETURN(vigil::InjectedSeries injected,
                         vigil::InjectAnomalies(candles, injection));
  return vigil::DatasetFromInjected(source.name, injected, kTrainFraction);
}

// Two weeks of three 1m perpetuals with five incidents per type and week of the types that
// show in candles and oracle rounds (vault drawdowns show only in the vault's equity).
vigil::Result<vigil::EvaluationDataset> SimulatorEvaluation(const Arguments& args) {
  vigil::SimulationOptions options;
  options.instruments = 3;
  options.days = 14;
  options.seed = args.seed;
  options.flash_crashes_per_week = 5;
  options.oracle_deviations_per_week = 5;
  options.volume_spikes_per_week = 5;
  options.vault_drawdowns_per_week = 0;
  VIGIL_ASSIGN_OR_RETURN(vigil::SimulatedMarket market, vigil::Simulate(options));
  return vigil::DatasetFromSimulation(kSimulatorDataset, market,
                                      {"flash_crash", "oracle_deviation", "volume_spike"},
                                      kTrainFraction);
}

std::string EvaluateAll(const vigil::EvaluationDataset& dataset, const Arguments& args) {
  std::vector<vigil::DetectorResult> results;
  for (const std::string& kind : vigil::AnomalyKinds()) {
    if (!Wanted(args.detectors, kind)) continue;
    std::cerr << dataset.name << ": " << kind << "\n";
    results.push_back(vigil::EvaluateDetector(dataset, SpecFor(kind, args)));
  }
  return vigil::ResultsTable(dataset, results);
}

int Run(const Arguments& args) {
#ifdef VIGIL_WITH_TORCH
  if (vigil::Status registered = vigil::RegisterNeuralModelKinds(); !registered.ok()) {
    std::cerr << "registering the LibTorch model kinds: " << registered.ToString() << "\n";
    return 1;
  }
#endif
  std::string tables;
  for (const CandleDataset& source : kCandleDatasets) {
    if (!Wanted(args.datasets, source.name)) continue;
    vigil::Result<vigil::EvaluationDataset> dataset = CandleEvaluation(source, args);
    if (!dataset.ok()) {
      std::cerr << source.name << ": " << dataset.status().ToString() << "\n";
      return 1;
    }
    tables += EvaluateAll(*dataset, args);
    std::cout << tables.substr(tables.rfind("#### ")) << std::flush;
  }
  if (Wanted(args.datasets, kSimulatorDataset)) {
    vigil::Result<vigil::EvaluationDataset> dataset = SimulatorEvaluation(args);
    if (!dataset.ok()) {
      std::cerr << kSimulatorDataset << ": " << dataset.status().ToString() << "\n";
      return 1;
    }
    tables += EvaluateAll(*dataset, args);
    std::cout << tables.substr(tables.rfind("#### ")) << std::flush;
  }
  if (!args.out.empty()) {
    if (vigil::Status written = vigil::WriteFileAtomically(args.out, tables); !written.ok()) {
      std::cerr << written.ToString() << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Arguments args;
  if (!ParseArguments(argc, argv, args)) {
    std::cerr << "usage: anomaly_evaluation --data DIR [--out FILE] [--seed S] "
                 "[--detectors k1,k2] [--datasets d1,d2] [--params 'kind={json}']\n";
    return 2;
  }
  try {
    return Run(args);
  } catch (const std::exception& error) {
    std::cerr << "anomaly_evaluation: " << error.what() << "\n";
    return 1;
  }
}
