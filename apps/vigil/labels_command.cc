// vigil labels compute --kind K [params] (--input FILE | --instrument I) --out FILE.csv
//
// Computes training labels (vigil/pipeline/labels.h, docs/labels.md) over a candle file or
// stored candles (a TVL series for protocol_risk) and writes one CSV row per input row:
//   liquidation  timestamp,close,liquidation_price,liquidated_<h>...,time_to_liquidation_min
//   crash        timestamp,label,forward_return,threshold
//   protocol_risk timestamp,label,drawdown,volatility
//   opportunity  timestamp,label,spread_bps,cost_bps
//   direction, forward_return  timestamp,label
// A label whose horizon runs past the data (or that reads an unusable price) is written
// empty, so the file stays aligned with the input; the summary counts them. Labels are
// computed over the whole series; --from/--to only select the rows written (labels near
// --to still read the data after it, as their horizon says). Exit 0 on success, 2 on bad
// options or input (a rejected input row fails with its file:line: field message); nothing
// is written then.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <optional>

#include "cli.h"
#include "vigil/core/text_file.h"
#include "vigil/data/reader.h"
#include "vigil/pipeline/labels.h"

namespace vigil::cli {
namespace {

struct ComputeArgs {
  std::string kind;
  std::string input;
  std::string instrument;
  std::string out;
  std::string timeframe;
  std::string from;
  std::string to;
  std::string field;
  std::string horizon;
  std::string horizons = "5m,15m,30m,60m";
  std::string side = "long";
  std::string pair;
  LabelOptions options;
};

// One series to label: its rows and the spacing of its bars (0 when it has no timeframe).
struct Series {
  std::string name;
  Frame frame;
  int64_t step_ns = 0;
};

// A horizon as the user wrote it and in nanoseconds.
struct Horizon {
  std::string text;
  int64_t ns = 0;
};

Status Option(const std::string& option, const Status& status) {
  return status.ok() ? status : InvalidArgument(option + ": " + std::string(status.message()));
}

Result<Series> ReadSeriesFile(const std::string& path, DataKind kind,
                              const std::string& timeframe) {
  ReadOptions options;
  options.kind = kind;
  options.timeframe = timeframe;
  VIGIL_RETURN_IF_ERROR(ValidateReadOptions(options));
  Result<ParsedFile> read = MarketFileReader(options).Read(path);
  // Labels do not need the instrument: a plain CSV that does not name it is labelled as
  // file:<name>.
  auto asks_for = [&read](std::string_view option) {
    return !read.ok() && read.status().message().find(option) != std::string_view::npos;
  };
  if (asks_for("pass --venue")) {
    options.venue = "file";
    read = MarketFileReader(options).Read(path);
  }
  if (asks_for("pass --symbol")) {
    options.symbol = std::filesystem::path(path).stem().string();
    read = MarketFileReader(options).Read(path);
  }
  VIGIL_ASSIGN_OR_RETURN(ParsedFile parsed, std::move(read));
  // A dropped row would shift every horizon across it: labels need the file whole.
  if (!parsed.rejects.empty()) {
    return DataError(parsed.rejects.front().ToString() + " (" +
                     std::to_string(parsed.rejects.size()) +
                     " rejected rows; labels are computed only over a file without them)");
  }
  std::vector<const RecordBatch*> batches;
  for (const RecordBatch& batch : parsed.batches) {
    if (batch.series.kind == kind && batch.frame.rows() > 0) batches.push_back(&batch);
  }
  if (batches.size() != 1) {
    return DataError(path + ": " + (batches.empty() ? "no valid " : "several series of ") +
                     std::string(KindName(kind)) + " rows");
  }
  Series series{batches[0]->series.instrument.ToString(), batches[0]->frame, 0};
  series.frame.SortByTime();
  if (!batches[0]->series.timeframe.empty()) {
    VIGIL_ASSIGN_OR_RETURN(series.step_ns, ParseDuration(batches[0]->series.timeframe));
  }
  return series;
}

// The timeframe asked for, else the smallest one stored for the instrument.
Result<std::string> StoredTimeframe(Store& store, const Instrument& instrument,
                                    const std::string& wanted) {
  if (!wanted.empty()) return wanted;
  VIGIL_ASSIGN_OR_RETURN(std::vector<SeriesKey> all, store.ListSeries());
  std::string best;
  int64_t best_ns = 0;
  for (const SeriesKey& key : all) {
    if (key.instrument != instrument || key.kind != DataKind::kCandles) continue;
    Result<int64_t> step = ParseDuration(key.timeframe);
    if (step.ok() && (best.empty() || *step < best_ns)) {
      best = key.timeframe;
      best_ns = *step;
    }
  }
  return best;
}

Result<Series> ReadStoredSeries(Store& store, const std::string& text, DataKind kind,
                                const std::string& timeframe) {
  VIGIL_ASSIGN_OR_RETURN(Instrument instrument, Instrument::Parse(text));
  SeriesKey key{instrument, kind, ""};
  if (kind == DataKind::kCandles) {
    VIGIL_ASSIGN_OR_RETURN(key.timeframe, StoredTimeframe(store, instrument, timeframe));
  }
  VIGIL_ASSIGN_OR_RETURN(Frame frame, store.Query(key, Timestamp::Min(), Timestamp::Max()));
  if (frame.rows() == 0) return NotFound("no stored " + key.ToString() + " rows");
  Series series{text, std::move(frame), 0};
  if (!key.timeframe.empty()) {
    VIGIL_ASSIGN_OR_RETURN(series.step_ns, ParseDuration(key.timeframe));
  }
  return series;
}

// --pair: a candle file or stored candles, else an oracle price series (Chainlink).
Result<Series> ReadPair(const std::string& pair, const std::string& timeframe,
                        std::unique_ptr<Store>& store, const GlobalOptions& globals) {
  std::error_code ec;
  const bool is_file = std::filesystem::exists(pair, ec);
  if (!is_file && !store) {
    VIGIL_ASSIGN_OR_RETURN(store, OpenHomeStore(globals));
  }
  auto read = [&](DataKind kind, const std::string& tf) {
    return is_file ? ReadSeriesFile(pair, kind, tf) : ReadStoredSeries(*store, pair, kind, tf);
  };
  Result<Series> candles = read(DataKind::kCandles, timeframe);
  if (candles.ok()) return candles;
  Result<Series> oracle = read(DataKind::kOracle, "");
  if (!oracle.ok()) return candles.status();
  // Oracle rows carry the answer as "price"; label code reads "close".
  Frame frame({{"close", ColumnType::kDouble}});
  const std::span<const double> price = oracle->frame.Doubles("price");
  for (int64_t row = 0; row < oracle->frame.rows(); ++row) {
    frame.AppendRow(oracle->frame.timestamps()[row], std::span(&price[row], 1));
  }
  oracle->frame = std::move(frame);
  return oracle;
}

// The pair's close as of each row: the last pair bar that had closed (ts + its step) by the
// time the row's bar closed; NaN before the pair's first bar closes.
std::vector<double> AlignAsOf(const Series& main, const Series& pair) {
  const std::span<const int64_t> ts = main.frame.timestamps();
  const std::span<const int64_t> pair_ts = pair.frame.timestamps();
  const std::span<const double> pair_close = pair.frame.Doubles("close");
  std::vector<double> aligned(ts.size(), std::numeric_limits<double>::quiet_NaN());
  size_t next = 0;
  for (size_t row = 0; row < ts.size(); ++row) {
    const int64_t known_at = ts[row] + main.step_ns;
    while (next < pair_ts.size() && pair_ts[next] + pair.step_ns <= known_at) ++next;
    if (next > 0) aligned[row] = pair_close[next - 1];
  }
  return aligned;
}

// Validation messages name LabelOptions fields; the user typed options.
Status NameOption(const Status& status) {
  static const std::pair<std::string_view, std::string_view> kOptions[] = {
      {"maintenance_margin", "--maintenance-margin"},
      {"leverage", "--leverage"},
      {"crash_k", "--k"},
      {"vol_window", "--vol-window"},
      {"drawdown_medium", "--drawdown-medium"},
      {"drawdown_high", "--drawdown-high"},
      {"volatility_medium", "--volatility-medium"},
      {"volatility_high", "--volatility-high"},
      {"fee_bps", "--fee-bps"},
      {"slippage_bps", "--slippage-bps"},
      {"gas_usd", "--gas-usd"},
      {"notional_usd", "--notional-usd"},
      {"persist_rows", "--persist-rows"},
      {"threshold", "--threshold"},
  };
  if (status.ok()) return status;
  std::string message(status.message());
  for (const auto& [field, option] : kOptions) {
    if (message.starts_with(std::string(field) + ":")) {
      return InvalidArgument(std::string(option) + message.substr(field.size()));
    }
  }
  return status;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// The horizons of the kind, each a whole number of the data's bars.
Result<std::vector<Horizon>> ResolveHorizons(const ComputeArgs& args, const Series& series) {
  const bool many = args.options.kind == LabelKind::kLiquidation && args.horizon.empty();
  const std::string option = many ? "--horizons" : "--horizon";
  const std::string text = many ? args.horizons : args.horizon;
  if (text.empty()) {
    return InvalidArgument("--horizon: required for --kind " + args.kind + " (e.g. 15m)");
  }
  int64_t bar_ns = series.step_ns;
  if (bar_ns == 0) {
    Result<int64_t> spacing = InferBarSpacing(series.frame.timestamps());
    if (!spacing.ok()) {
      return InvalidArgument(series.name + ": " + std::string(spacing.status().message()));
    }
    bar_ns = *spacing;
  }
  std::vector<Horizon> horizons;
  for (const std::string& part : SplitList(text)) {
    Result<int64_t> ns = ParseDuration(part);
    if (!ns.ok()) return Option(option, ns.status());
    VIGIL_RETURN_IF_ERROR(Option(option, HorizonBars(*ns, bar_ns).status()));
    horizons.push_back({part, *ns});
  }
  if (horizons.empty()) return InvalidArgument(option + ": give at least one duration");
  if (!many && horizons.size() > 1) return InvalidArgument("--horizon: give one duration");
  return horizons;
}

void AppendNumber(std::string& out, double value) {
  if (std::isnan(value)) return;  // empty cell
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, end);
}

// Counts behind the summary line, per label column.
struct ColumnSummary {
  std::string name;
  int64_t labelled = 0;
  int64_t incomplete = 0;  // horizon past the data
  int64_t undefined = 0;   // horizon inside the data, but an input was unusable
  std::vector<int64_t> classes = std::vector<int64_t>(3, 0);
  double sum = 0;  // forward_return
};

ColumnSummary Summarize(const std::string& name, const Labels& labels, size_t begin, size_t end) {
  ColumnSummary summary{name};
  for (size_t row = begin; row < end; ++row) {
    const double value = labels.values[row];
    if (!labels.windows.label_complete(static_cast<int64_t>(row))) {
      ++summary.incomplete;
    } else if (std::isnan(value)) {
      ++summary.undefined;
    } else {
      ++summary.labelled;
      summary.sum += value;
      if (value >= 0 && value <= 2 && value == std::floor(value)) ++summary.classes[int(value)];
    }
  }
  return summary;
}

nlohmann::ordered_json SummaryJson(LabelKind kind, const ColumnSummary& column) {
  nlohmann::ordered_json json = {{"labelled", column.labelled}};
  if (kind == LabelKind::kProtocolRisk) {
    json["low"] = column.classes[0];
    json["medium"] = column.classes[1];
    json["high"] = column.classes[2];
  } else if (kind == LabelKind::kForwardReturn) {
    json["mean"] = column.labelled > 0 ? nlohmann::ordered_json(column.sum / column.labelled)
                                       : nlohmann::ordered_json(nullptr);
  } else {
    json["positives"] = column.classes[1];
  }
  json["incomplete"] = column.incomplete;
  json["undefined"] = column.undefined;
  return json;
}

std::string SummaryText(LabelKind kind, const ColumnSummary& column) {
  std::string text = column.name + ": ";
  if (kind == LabelKind::kProtocolRisk) {
    text += std::to_string(column.classes[0]) + " low, " + std::to_string(column.classes[1]) +
            " medium, " + std::to_string(column.classes[2]) + " high";
  } else if (kind == LabelKind::kForwardReturn) {
    text += std::to_string(column.labelled) + " labelled";
  } else {
    text += std::to_string(column.classes[1]) + " positive of " + std::to_string(column.labelled);
  }
  return text + " (" + std::to_string(column.incomplete) + " incomplete, " +
         std::to_string(column.undefined) + " undefined)";
}

// Rows [begin, end) of the output.
struct RowRange {
  size_t begin = 0;
  size_t end = 0;
};

RowRange SelectRows(std::span<const int64_t> ts, Timestamp from, Timestamp to) {
  const auto first = std::lower_bound(ts.begin(), ts.end(), from.nanos());
  const auto last = std::lower_bound(ts.begin(), ts.end(), to.nanos());
  return {static_cast<size_t>(first - ts.begin()), static_cast<size_t>(last - ts.begin())};
}

std::string LiquidationCsv(const std::vector<Horizon>& horizons, const std::vector<Labels>& all,
                           std::span<const int64_t> ts, std::span<const double> close,
                           RowRange rows) {
  std::string csv = "timestamp,close,liquidation_price";
  for (const Horizon& h : horizons) csv += ",liquidated_" + h.text;
  csv += ",time_to_liquidation_min\n";
  const size_t longest = static_cast<size_t>(
      std::max_element(horizons.begin(), horizons.end(),
                       [](const Horizon& a, const Horizon& b) { return a.ns < b.ns; }) -
      horizons.begin());
  for (size_t row = rows.begin; row < rows.end; ++row) {
    csv += Timestamp(ts[row]).ToIso() + ",";
    AppendNumber(csv, close[row]);
    csv += ',';
    AppendNumber(csv, all[0].liquidation_price[row]);
    for (const Labels& labels : all) {
      csv += ',';
      AppendNumber(csv, labels.values[row]);
    }
    csv += ',';
    AppendNumber(csv, all[longest].time_to_event_ns[row] / kNanosPerMinute);
    csv += '\n';
  }
  return csv;
}

std::string LabelCsv(const Labels& labels, std::span<const int64_t> ts, RowRange rows) {
  std::string csv = "timestamp,label";
  for (const LabelDetail& detail : labels.details) csv += "," + detail.name;
  csv += '\n';
  for (size_t row = rows.begin; row < rows.end; ++row) {
    csv += Timestamp(ts[row]).ToIso() + ",";
    AppendNumber(csv, labels.values[row]);
    for (const LabelDetail& detail : labels.details) {
      csv += ',';
      AppendNumber(csv, detail.values[row]);
    }
    csv += '\n';
  }
  return csv;
}

Result<std::span<const double>> Column(const Series& series, const std::string& name,
                                       const std::string& option) {
  Result<std::span<const double>> column = series.frame.DoubleColumn(name);
  if (!column.ok()) {
    return InvalidArgument(option + ": " + series.name + " has no numeric column '" + name + "'");
  }
  return column;
}

// What one run computed, ready to write and summarize.
struct Computed {
  std::string csv;
  std::vector<ColumnSummary> columns;
  int64_t rows = 0;
};

Result<Computed> ComputeAndFormat(ComputeArgs& args, const Series& series,
                                  std::unique_ptr<Store>& store, const GlobalOptions& globals) {
  LabelOptions& options = args.options;
  Result<PositionSide> side = ParsePositionSide(args.side);
  if (!side.ok()) return Option("--side", side.status());
  options.side = *side;
  const std::string field = !args.field.empty()                        ? args.field
                            : options.kind == LabelKind::kProtocolRisk ? "tvl"
                                                                       : "close";
  VIGIL_ASSIGN_OR_RETURN(std::vector<Horizon> horizons, ResolveHorizons(args, series));
  options.horizon_ns = horizons[0].ns;
  VIGIL_RETURN_IF_ERROR(NameOption(options.Validate()));
  LabelInputs inputs;
  inputs.ts = series.frame.timestamps();
  VIGIL_ASSIGN_OR_RETURN(std::span<const double> price, Column(series, field, "--field"));
  (options.kind == LabelKind::kProtocolRisk ? inputs.tvl : inputs.close) = price;
  if (options.kind == LabelKind::kLiquidation) {
    VIGIL_ASSIGN_OR_RETURN(inputs.high, Column(series, "high", "--input"));
    VIGIL_ASSIGN_OR_RETURN(inputs.low, Column(series, "low", "--input"));
  }
  std::vector<double> pair;
  if (options.kind == LabelKind::kOpportunity) {
    if (args.pair.empty()) return InvalidArgument("--pair: required for --kind opportunity");
    Result<Series> other = ReadPair(args.pair, args.timeframe, store, globals);
    if (!other.ok()) return other.status().WithContext("--pair");
    pair = AlignAsOf(series, *other);
    inputs.pair_price = pair;
  }
  Result<Timestamp> from = ParseTimeBound(args.from, Timestamp::Min());
  if (!from.ok()) return Option("--from", from.status());
  Result<Timestamp> to = ParseTimeBound(args.to, Timestamp::Max());
  if (!to.ok()) return Option("--to", to.status());
  const RowRange rows = SelectRows(inputs.ts, *from, *to);
  Computed computed;
  computed.rows = static_cast<int64_t>(rows.end - rows.begin);
  if (options.kind == LabelKind::kLiquidation) {
    std::vector<int64_t> horizon_ns;
    for (const Horizon& h : horizons) horizon_ns.push_back(h.ns);
    VIGIL_ASSIGN_OR_RETURN(std::vector<Labels> all,
                           ComputeMultiHorizonLabels(options, inputs, horizon_ns));
    computed.csv = LiquidationCsv(horizons, all, inputs.ts, price, rows);
    for (size_t h = 0; h < horizons.size(); ++h) {
      computed.columns.push_back(
          Summarize("liquidated_" + horizons[h].text, all[h], rows.begin, rows.end));
    }
    return computed;
  }
  VIGIL_ASSIGN_OR_RETURN(Labels labels, ComputeLabels(options, inputs));
  computed.csv = LabelCsv(labels, inputs.ts, rows);
  computed.columns.push_back(Summarize("label", labels, rows.begin, rows.end));
  return computed;
}

int RunCompute(const GlobalOptions& globals, ComputeArgs& args) {
  Result<LabelKind> kind = ParseLabelKind(args.kind);
  if (!kind.ok() || *kind == LabelKind::kNone) {
    return Fail(InvalidArgument("--kind: " + (kind.ok() ? std::string("none has no labels")
                                                        : std::string(kind.status().message()))));
  }
  args.options.kind = *kind;
  if (args.input.empty() == args.instrument.empty()) {
    return Fail(InvalidArgument("give exactly one of --input FILE or --instrument venue:symbol"));
  }
  const DataKind data_kind =
      *kind == LabelKind::kProtocolRisk ? DataKind::kProtocol : DataKind::kCandles;
  std::unique_ptr<Store> store;
  Result<Series> series = InvalidArgument("no input");
  if (!args.input.empty()) {
    series = ReadSeriesFile(args.input, data_kind, args.timeframe);
  } else {
    auto opened = OpenHomeStore(globals);
    if (!opened.ok()) return Fail(opened.status());
    store = std::move(*opened);
    series = ReadStoredSeries(*store, args.instrument, data_kind, args.timeframe);
  }
  if (!series.ok()) return Fail(series.status());
  Result<Computed> computed = ComputeAndFormat(args, *series, store, globals);
  if (!computed.ok()) return Fail(computed.status());
  if (args.out == "-") {
    std::cout << computed->csv << std::flush;
    return 0;
  }
  if (Status written = WriteFileAtomically(args.out, computed->csv); !written.ok()) {
    return Fail(written);
  }
  if (globals.json) {
    nlohmann::ordered_json columns = nlohmann::ordered_json::object();
    for (const ColumnSummary& column : computed->columns) {
      columns[column.name] = SummaryJson(*kind, column);
    }
    PrintJson({{"kind", args.kind},
               {"instrument", series->name},
               {"rows", computed->rows},
               {"columns", columns},
               {"out", args.out}});
    return 0;
  }
  std::cout << "labels " << args.kind << " over " << computed->rows << " rows of " << series->name
            << " -> " << args.out << "\n";
  for (const ColumnSummary& column : computed->columns) {
    std::cout << "  " << SummaryText(*kind, column) << "\n";
  }
  return 0;
}

void AddComputeOptions(CLI::App* compute, ComputeArgs& args) {
  LabelOptions& o = args.options;
  compute
      ->add_option("--kind", args.kind,
                   "direction|forward_return|liquidation|crash|protocol_risk|opportunity")
      ->required();
  auto* input =
      compute->add_option("--input", args.input, "Candle file (a TVL file for protocol_risk)");
  auto* instrument =
      compute->add_option("--instrument", args.instrument, "Stored instrument venue:symbol");
  input->excludes(instrument);
  compute->add_option("--out", args.out, "Output CSV (- for stdout)")->required();
  compute->add_option("--horizon", args.horizon, "Horizon, e.g. 15m (every kind but liquidation)");
  compute->add_option("--horizons", args.horizons, "Liquidation horizons")->capture_default_str();
  compute->add_option("--leverage", o.leverage, "Liquidation: leverage (> 1)")
      ->capture_default_str();
  compute->add_option("--side", args.side, "Liquidation: long|short")->capture_default_str();
  compute
      ->add_option("--maintenance-margin", o.maintenance_margin,
                   "Liquidation: maintenance margin in [0, 1/leverage)")
      ->capture_default_str();
  compute->add_option("--k", o.crash_k, "Crash: volatility multiple")->capture_default_str();
  compute->add_option("--vol-window", o.vol_window, "Crash: trailing one-row returns")
      ->capture_default_str();
  compute->add_option("--threshold", o.threshold, "Direction: log-return to exceed")
      ->capture_default_str();
  compute->add_option("--drawdown-medium", o.drawdown_medium, "Protocol risk")
      ->capture_default_str();
  compute->add_option("--drawdown-high", o.drawdown_high, "Protocol risk")->capture_default_str();
  compute->add_option("--volatility-medium", o.volatility_medium, "Protocol risk")
      ->capture_default_str();
  compute->add_option("--volatility-high", o.volatility_high, "Protocol risk")
      ->capture_default_str();
  compute->add_option("--pair", args.pair, "Opportunity: the other price (file or venue:symbol)");
  compute->add_option("--fee-bps", o.fee_bps, "Opportunity: fee per leg")->capture_default_str();
  compute->add_option("--slippage-bps", o.slippage_bps, "Opportunity: slippage per leg")
      ->capture_default_str();
  compute->add_option("--gas-usd", o.gas_usd, "Opportunity: gas per leg")->capture_default_str();
  compute->add_option("--notional-usd", o.notional_usd, "Opportunity: trade size")
      ->capture_default_str();
  compute->add_option("--persist-rows", o.persist_rows, "Opportunity: rows the spread must last")
      ->capture_default_str();
  compute->add_option("--field", args.field, "Price column (default close; tvl for protocol_risk)");
  compute->add_option("--timeframe", args.timeframe,
                      "Candle timeframe (default: the file's, or the smallest stored)");
  compute->add_option("--from", args.from, "First row written (inclusive)");
  compute->add_option("--to", args.to, "End of the rows written (exclusive)");
}

}  // namespace

void AddLabelsCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code) {
  CLI::App* labels = app.add_subcommand("labels", "Training labels");
  labels->require_subcommand(1);
  // Global flags such as --json may also follow the subcommand.
  labels->fallthrough();
  auto args = std::make_shared<ComputeArgs>();
  CLI::App* compute = labels->add_subcommand(
      "compute", "Label every row of a candle file or stored instrument into a CSV");
  compute->fallthrough();
  AddComputeOptions(compute, *args);
  compute->callback([&globals, args, exit_code] { *exit_code = RunCompute(globals, *args); });
}

}  // namespace vigil::cli
