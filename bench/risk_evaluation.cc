// risk_evaluation: the supervised risk models against two naive baselines on real candles
// from ../shared/data, under purged walk-forward validation (risk_evaluation.h has the
// protocol). Liquidation labels (20x long and short) and crash labels (3 sd) at 5, 15, 30
// and 60 minutes, for xgboost, random_forest, logistic, base_rate and vol_logistic. Prints
// the markdown (a summary table, then one table per dataset group and label) and writes it
// to --out; --json writes every number. scripts/risk-eval.sh runs it and puts the markdown
// into docs/results.md.
//
//   risk_evaluation --data ../shared/data [--out tables.md] [--json results.json]
//                   [--groups altcoin_btc_5m,unittest_btc_1m] [--models logistic,base_rate]
//                   [--tasks liquidation_long] [--folds 6] [--threads 1] [--seed 1]
//                   [--min-test-positives 20] [--class-weights balanced]
//
// --tasks keeps the tasks whose id (e.g. "liquidation_long_20x_15m", "crash_3sd_60m")
// contains one of the given texts. Exit codes: 0 done, 1 a dataset could not be read or
// evaluated or the output not written, 2 usage.
#include "vigil/pipeline/risk_evaluation.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "evaluation_flags.h"
#include "vigil/core/text_file.h"
#include "vigil/core/timestamp.h"

namespace {

using vigil::bench::SplitCommas;
using vigil::bench::Wanted;

struct SeriesFile {
  std::string name;
  std::string path;   // relative to --data
  std::string venue;  // for files that do not name theirs
};

// A dataset group: series of one timeframe and period, pooled in time.
struct DatasetGroup {
  std::string id;      // for --groups
  std::string title;   // the markdown heading
  std::string source;  // one line on where the data comes from (PROVENANCE.md)
  std::vector<SeriesFile> files;
};

std::vector<SeriesFile> AltcoinFiles() {
  std::vector<SeriesFile> files;
  for (const char* coin : {"ADA", "DASH", "ETC", "ETH", "LTC", "NXT", "TRX", "XLM", "XMR", "ZEC"}) {
    const std::string pair = std::string(coin) + "_BTC";
    files.push_back({pair, "candles/" + pair + "-5m.csv", "bittrex"});
  }
  return files;
}

// The real candle files where a 4.5 % move within an hour happens often enough to learn
// from (PROVENANCE.md ids FT, NT): the volatile 2017-2018 altcoin/BTC bars, a 2021 perpetual
// and the 1m series.
const std::vector<DatasetGroup>& Groups() {
  static const std::vector<DatasetGroup> kGroups = {
      {"altcoin_btc_5m", "altcoin/BTC 5m (10 pairs, pooled)",
       "freqtrade test data (FT), Bittrex-era ADA, DASH, ETC, ETH, LTC, NXT, TRX, XLM, XMR and "
       "ZEC against BTC, 5m bars, 2018-01-10 to 01-30",
       AltcoinFiles()},
      {"xrp_usdt_perp_5m",
       "XRP/USDT perpetual 5m",
       "freqtrade futures test data (FT), Binance (inferred) XRP/USDT:USDT perpetual, 5m bars, "
       "2021-11-15 to 11-21",
       {{"XRP_USDT_USDT", "candles/XRP_USDT_USDT-5m-futures.csv", "binance"}}},
      {"unittest_btc_1m",
       "UNITTEST/BTC 1m",
       "freqtrade test data (FT), an unnamed altcoin/BTC pair (Bittrex era), 1m bars, "
       "2017-11-04 to 11-14, minutes without trades missing",
       {{"UNITTEST_BTC", "candles/UNITTEST_BTC-1m.json", "bittrex"}}},
      {"xrp_eth_1m",
       "XRP/ETH 1m",
       "freqtrade test data (FT), Binance spot XRP/ETH, 1m bars, 2019-10-11 to 10-13, minutes "
       "without trades missing",
       {{"XRP_ETH", "candles/XRP_ETH-1m.csv", "binance"}}},
      {"kraken_xbtusdt_1m",
       "Kraken XBT/USDT 1m",
       "nautilus_trader test data (NT), Kraken spot BTC/USDT, 1m bars, 2025-11-10 12:17 to "
       "11-11 00:17",
       {{"XBTUSDT", "candles/kraken_http_ohlc_XBTUSDT_1m.json", "kraken"}}},
  };
  return kGroups;
}

struct Arguments {
  std::string data;
  std::string out;
  std::string json;
  std::vector<std::string> groups;
  std::vector<std::string> models;
  std::vector<std::string> tasks;
  vigil::RiskWalkForward walk_forward;
  // XGBoost threads per fit. One by default: on a machine whose cores other jobs share,
  // OpenMP workers spin-wait for each other and a 2-thread fit ran 17x slower than a
  // 1-thread one (4 s against 75 s on the same cell); 0 = every core, for an idle machine.
  int threads = 1;
  uint64_t seed = 1;
  bool balanced_class_weights = false;
};

bool ParseFlag(const std::string& flag, const std::string& value, Arguments& args) {
  if (flag == "--data") {
    args.data = value;
  } else if (flag == "--out") {
    args.out = value;
  } else if (flag == "--json") {
    args.json = value;
  } else if (flag == "--groups") {
    args.groups = SplitCommas(value);
  } else if (flag == "--models") {
    args.models = SplitCommas(value);
  } else if (flag == "--tasks") {
    args.tasks = SplitCommas(value);
  } else if (flag == "--folds") {
    args.walk_forward.folds = std::atoi(value.c_str());
  } else if (flag == "--min-test-positives") {
    args.walk_forward.min_test_positives = std::atoll(value.c_str());
  } else if (flag == "--threads") {
    args.threads = std::atoi(value.c_str());
  } else if (flag == "--seed") {
    args.seed = std::strtoull(value.c_str(), nullptr, 10);
  } else if (flag == "--class-weights") {
    if (value != "balanced" && value != "none") return false;
    args.balanced_class_weights = value == "balanced";
  } else {
    return false;
  }
  return true;
}

bool ParseArguments(int argc, char** argv, Arguments& args) {
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!ParseFlag(argv[i], argv[i + 1], args)) return false;
  }
  return argc % 2 == 1 && !args.data.empty() && args.walk_forward.Validate().ok();
}

bool TaskWanted(const std::vector<std::string>& filters, const std::string& id) {
  if (filters.empty()) return true;
  return std::any_of(filters.begin(), filters.end(),
                     [&](const std::string& f) { return id.find(f) != std::string::npos; });
}

std::vector<vigil::RiskModelSpec> ChosenModels(const Arguments& args) {
  std::vector<vigil::RiskModelSpec> chosen;
  for (vigil::RiskModelSpec& spec : vigil::StandardRiskModels(args.threads, args.seed)) {
    if (!Wanted(args.models, spec.name)) continue;
    // Baselines stay unweighted: they are the reference a weighted model has to beat.
    spec.balanced_class_weights = args.balanced_class_weights && !spec.is_baseline();
    chosen.push_back(std::move(spec));
  }
  return chosen;
}

vigil::Result<vigil::RiskPanel> LoadGroup(const DatasetGroup& group, const Arguments& args) {
  std::vector<vigil::RiskSeries> series;
  for (const SeriesFile& file : group.files) {
    VIGIL_ASSIGN_OR_RETURN(vigil::CandleSeries candles,
                           vigil::ReadCandleSeries(args.data + "/" + file.path, file.venue));
    series.push_back({file.name, std::move(candles)});
  }
  return vigil::BuildRiskPanel(group.title, std::move(series));
}

std::string Minute(int64_t ns) { return vigil::Timestamp(ns).ToIso().substr(0, 16); }

// "10 series, 57,503 bars of 5m, 2018-01-10T04:55 to 2018-01-30T04:50 UTC".
std::string PanelLine(const DatasetGroup& group, const vigil::RiskPanel& panel) {
  int64_t bars = 0, first = INT64_MAX, last = INT64_MIN;
  for (const vigil::RiskSeries& one : panel.series) {
    bars += one.candles.size();
    first = std::min(first, one.candles.ts.front());
    last = std::max(last, one.candles.ts.back());
  }
  return "Data: " + group.source + ". " + std::to_string(panel.series.size()) + " series, " +
         std::to_string(bars) + " bars of " + std::to_string(panel.bar_ns / 60'000'000'000LL) +
         "m, " + Minute(first) + " to " + Minute(last) + " UTC; " +
         std::to_string(panel.columns.size()) + " features.\n\n";
}

std::vector<int64_t> Horizons() {
  return {5 * vigil::kNanosPerMinute, 15 * vigil::kNanosPerMinute, 30 * vigil::kNanosPerMinute,
          60 * vigil::kNanosPerMinute};
}

// Evaluates every wanted task of one group; appends its markdown to `section`.
bool EvaluateGroup(const DatasetGroup& group, const Arguments& args,
                   std::vector<vigil::RiskCellResult>& cells, std::string& section) {
  vigil::Result<vigil::RiskPanel> panel = LoadGroup(group, args);
  if (!panel.ok()) {
    std::cerr << "risk_evaluation: " << group.id << ": " << panel.status().ToString() << "\n";
    return false;
  }
  section += "#### " + group.title + "\n\n" + PanelLine(group, *panel);
  const std::vector<vigil::RiskModelSpec> models = ChosenModels(args);
  const std::vector<int64_t> horizons = Horizons();
  for (const vigil::RiskTask& task : vigil::StandardRiskTasks(horizons)) {
    if (!TaskWanted(args.tasks, task.Id())) continue;
    const auto start = std::chrono::steady_clock::now();
    vigil::Result<vigil::RiskCellResult> cell =
        vigil::EvaluateRiskTask(*panel, task, models, args.walk_forward);
    if (!cell.ok()) {
      std::cerr << "risk_evaluation: " << group.id << ", " << task.Id() << ": "
                << cell.status().ToString() << "\n";
      return false;
    }
    std::cerr << group.id << " " << task.Id() << ": "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
              << " s" << (cell->skipped ? " (skipped)" : "") << "\n";
    section += vigil::RiskCellTable(*cell);
    cells.push_back(std::move(*cell));
  }
  return true;
}

// The settings every number below depends on.
std::string RunLine(const Arguments& args) {
  const vigil::RiskWalkForward& wf = args.walk_forward;
  char line[768];
  std::snprintf(
      line, sizeof(line),
      "Walk-forward %s, %d test windows after the first %.0f %% of each dataset's "
      "span; a fold is scored when its training rows hold both classes and its test rows a "
      "negative and %lld or more positives; cells with fewer than %lld test positives or "
      "%d scored folds are skipped; class weights: %s; "
      "XGBoost threads %d, seed %llu. Best model and best baseline per cell by mean "
      "PR-AUC over the scored folds (± the standard deviation across folds).",
      wf.mode == vigil::WindowMode::kExpanding ? "expanding" : "sliding", wf.folds,
      100.0 * wf.initial_train_fraction, static_cast<long long>(wf.min_fold_positives),
      static_cast<long long>(wf.min_test_positives), wf.min_scored_folds,
      args.balanced_class_weights ? "balanced (models only, training folds only)" : "none",
      args.threads, static_cast<unsigned long long>(args.seed));
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  Arguments args;
  if (!ParseArguments(argc, argv, args)) {
    std::cerr << "usage: risk_evaluation --data DIR [--out FILE.md] [--json FILE.json] "
                 "[--groups a,b] [--models m,n] [--tasks text,...] [--folds N] [--threads N] "
                 "[--seed S] [--min-test-positives N] [--class-weights none|balanced]\n";
    return 2;
  }
  std::vector<vigil::RiskCellResult> cells;
  std::string groups;
  for (const DatasetGroup& group : Groups()) {
    if (!Wanted(args.groups, group.id)) continue;
    if (!EvaluateGroup(group, args, cells, groups)) return 1;
  }
  const std::string markdown =
      "#### Summary\n\n" + RunLine(args) + "\n\n" + vigil::RiskSummaryTable(cells) + "\n" + groups;
  std::cout << markdown;
  if (!args.out.empty()) {
    if (vigil::Status written = vigil::WriteFileAtomically(args.out, markdown); !written.ok()) {
      std::cerr << "risk_evaluation: " << written.ToString() << "\n";
      return 1;
    }
  }
  if (!args.json.empty()) {
    nlohmann::json all = nlohmann::json::array();
    for (const vigil::RiskCellResult& cell : cells) all.push_back(vigil::RiskCellJson(cell));
    if (vigil::Status written = vigil::WriteFileAtomically(args.json, all.dump(2) + "\n");
        !written.ok()) {
      std::cerr << "risk_evaluation: " << written.ToString() << "\n";
      return 1;
    }
  }
  return 0;
}
