// vigil detect scan --model NAME[@V|@alias] [--set S] [--timeframe TF]
//
// Scores the latest row of every stored instrument with a registered detector and lists
// the instruments by descending score with their top features. The feature set is the one
// the model's manifest names (a built-in set), checked against the manifest's spec hash;
// --set replaces it, and then only the model's feature columns must be among the set's.
// An instrument with no driver data, or whose latest row has an undefined feature
// (indicator warm-up), is reported on stderr and skipped. --json prints
//   [{"instrument", "timestamp", "score", "is_anomaly", "top_features": [{"feature",
//     "contribution"}, ...]}, ...]
// Exit 0 when at least one instrument was scored, 2 otherwise.
#include <algorithm>
#include <cmath>
#include <iostream>

#include "cli.h"
#include "detect_io.h"
#include "vigil/features/feature_store.h"
#include "vigil/features/spec.h"

namespace vigil::cli {
namespace {

struct ScanArgs {
  std::string model;
  std::string set;
  std::string timeframe;
};

// One instrument's latest feature row.
struct LatestRow {
  std::string instrument;
  Timestamp time;
  std::vector<double> values;  // the model's features, in its order
};

struct ScanResult {
  std::string instrument;
  Timestamp time;
  double score = 0.0;
  bool flag = false;
  std::vector<FeatureShare> top;
};

// The feature set to compute: --set, else the manifest's (which must be a built-in set
// still computing what the model was fitted on).
Result<FeatureSetSpec> ScanFeatureSet(const Manifest& manifest, const std::string& set) {
  if (!set.empty()) return BuiltinFeatureSet(set);
  const std::string model = manifest.name + "@" + std::to_string(manifest.version);
  if (manifest.feature_set.name.empty()) {
    return InvalidArgument(model + " was fitted on a CSV file without a feature set; give --set");
  }
  Result<FeatureSetSpec> spec = BuiltinFeatureSet(manifest.feature_set.name);
  if (!spec.ok()) {
    return InvalidArgument(model + " names feature set '" + manifest.feature_set.name +
                           "', which is not a built-in set; give --set");
  }
  VIGIL_RETURN_IF_ERROR(CheckFeatures(manifest, spec->SpecHashHex(), spec->Columns()));
  return spec;
}

// The latest row of `instrument`; a status explaining why there is none.
Result<LatestRow> LatestFeatures(Store& store, const std::string& instrument,
                                 const FeatureSetSpec& spec, const std::string& timeframe,
                                 const std::vector<std::string>& features) {
  VIGIL_ASSIGN_OR_RETURN(StoredFeatures stored,
                         ComputeStoredFeatures(store, instrument, spec, timeframe, Timestamp::Min(),
                                               Timestamp::Max()));
  const Frame& table = stored.table;
  if (table.empty()) return FailedPrecondition("no feature rows");
  const int64_t last = table.rows() - 1;
  LatestRow row{instrument, table.time(last), {}};
  for (const std::string& feature : features) {
    VIGIL_ASSIGN_OR_RETURN(std::span<const double> column, table.DoubleColumn(feature));
    if (!std::isfinite(column[last])) {
      return FailedPrecondition("not enough data: feature '" + feature + "' undefined at " +
                                row.time.ToIso());
    }
    row.values.push_back(column[last]);
  }
  return row;
}

Result<std::vector<LatestRow>> CollectLatestRows(const GlobalOptions& globals,
                                                 const FeatureSetSpec& spec,
                                                 const std::string& timeframe,
                                                 const std::vector<std::string>& features) {
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenHomeStore(globals));
  VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> instruments,
                         InstrumentsWithData(*store, spec.driver));
  std::vector<LatestRow> rows;
  for (const std::string& instrument : instruments) {
    Result<LatestRow> row = LatestFeatures(*store, instrument, spec, timeframe, features);
    if (row.ok()) {
      rows.push_back(std::move(*row));
    } else {
      std::cerr << "vigil: skipped " << instrument << ": " << row.status().message() << "\n";
    }
  }
  if (rows.empty()) {
    return FailedPrecondition("no instrument could be scored (" +
                              std::to_string(instruments.size()) + " with " +
                              std::string(KindName(spec.driver)) + " data)");
  }
  return rows;
}

Result<std::vector<ScanResult>> ScoreRows(const AnomalyDetector& detector,
                                          const std::vector<LatestRow>& rows) {
  FeatureMatrix x;
  x.columns = detector.feature_names();
  x.rows = static_cast<int64_t>(rows.size());
  for (const LatestRow& row : rows)
    x.values.insert(x.values.end(), row.values.begin(), row.values.end());
  VIGIL_ASSIGN_OR_RETURN(AnomalyScores scores, detector.Score(x));
  // Every listed instrument is explained, flagged or not.
  VIGIL_ASSIGN_OR_RETURN(std::vector<double> shares, detector.Contributions(x));
  std::vector<ScanResult> results;
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::span<const double> row_shares(shares.data() + i * x.cols(), x.cols());
    results.push_back({rows[i].instrument, rows[i].time, scores.score[i], scores.flag[i],
                       TopFeatures(row_shares, x.columns)});
  }
  std::stable_sort(results.begin(), results.end(),
                   [](const ScanResult& a, const ScanResult& b) { return a.score > b.score; });
  return results;
}

void PrintResults(const GlobalOptions& globals, const std::vector<ScanResult>& results) {
  if (globals.json) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const ScanResult& r : results) {
      nlohmann::ordered_json top = nlohmann::ordered_json::array();
      for (const FeatureShare& share : r.top) {
        top.push_back({{"feature", share.feature}, {"contribution", share.contribution}});
      }
      list.push_back({{"instrument", r.instrument},
                      {"timestamp", r.time.ToIso()},
                      {"score", r.score},
                      {"is_anomaly", r.flag},
                      {"top_features", top}});
    }
    PrintJson(list);
    return;
  }
  std::printf("%-28s %-26s %7s %-7s %s\n", "INSTRUMENT", "TIMESTAMP", "SCORE", "ANOMALY",
              "TOP_FEATURES");
  for (const ScanResult& r : results) {
    std::printf("%-28s %-26s %7.2f %-7s %s\n", r.instrument.c_str(), r.time.ToIso().c_str(),
                r.score, r.flag ? "yes" : "no", TopFeaturesText(r.top).c_str());
  }
}

Result<std::vector<ScanResult>> Scan(const GlobalOptions& globals, const ScanArgs& args) {
  VIGIL_ASSIGN_OR_RETURN(ModelRegistry registry, OpenHomeRegistry(globals));
  VIGIL_ASSIGN_OR_RETURN(LoadedModel loaded, LoadStoredDetector(registry, args.model));
  VIGIL_ASSIGN_OR_RETURN(FeatureSetSpec spec, ScanFeatureSet(loaded.manifest, args.set));
  const AnomalyDetector& detector = *AsAnomalyDetector(loaded.model.get());
  const std::vector<std::string> columns = spec.Columns();
  std::string missing;
  for (const std::string& feature : detector.feature_names()) {
    if (std::find(columns.begin(), columns.end(), feature) == columns.end()) {
      missing += (missing.empty() ? "'" : ", '") + feature + "'";
    }
  }
  if (!missing.empty()) {
    return InvalidArgument("feature set '" + spec.name + "' lacks the model's feature(s) " +
                           missing);
  }
  VIGIL_ASSIGN_OR_RETURN(
      std::vector<LatestRow> rows,
      CollectLatestRows(globals, spec, args.timeframe, detector.feature_names()));
  return ScoreRows(detector, rows);
}

}  // namespace

void AddDetectScanCommand(CLI::App* detect, const GlobalOptions& globals, int* exit_code) {
  auto args = std::make_shared<ScanArgs>();
  CLI::App* scan = detect->add_subcommand(
      "scan", "Score the latest row of every stored instrument, most anomalous first");
  scan->add_option("--model", args->model, "NAME, NAME@VERSION or NAME@ALIAS")->required();
  scan->add_option("--set", args->set, "Built-in feature set (default: the model's)");
  scan->add_option("--timeframe", args->timeframe,
                   "Candle timeframe (default: each instrument's smallest stored)");
  scan->callback([&globals, args, exit_code] {
    auto results = Scan(globals, *args);
    if (!results.ok()) {
      *exit_code = Fail(results.status());
      return;
    }
    PrintResults(globals, *results);
    *exit_code = 0;
  });
}

}  // namespace vigil::cli
