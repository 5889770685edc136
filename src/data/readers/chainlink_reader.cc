// Chainlink round data as fetched with AggregatorV3Interface.getRoundData and saved by
// pandas: ",round,answer,start,update,answeredInRound" (or ",0,1,2,3,4"), newest
// round first. `round` is the proxy's uint80 id, (phaseId << 64) | aggregatorRoundId
// (Chainlink docs, "Getting historical data"); `answer` is an integer price with
// ReadOptions::price_decimals decimals; `update` is the round's unix time in seconds.
// A round with update 0 never completed (the empty first round of a phase).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include "data/readers/format_readers.h"
#include "vigil/core/text_file.h"

namespace vigil::data_internal {
namespace {

// -Wpedantic flags the GCC/Clang 128-bit integer; __extension__ marks the use as meant.
__extension__ typedef unsigned __int128 Uint128;

constexpr int kMaxDecimals = 36;
constexpr Uint128 kUint80Limit = static_cast<Uint128>(1) << 80;

struct Columns {
  int round = -1;
  int answer = -1;
  int update = -1;
};

struct OracleRow {
  int64_t line;
  int64_t ts;
  double price;
  int64_t round_id;
};

std::string_view Trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \t\r") - begin + 1);
}

int FindColumn(const std::vector<std::string_view>& header,
               std::initializer_list<std::string_view> names) {
  for (size_t column = 0; column < header.size(); ++column) {
    if (std::find(names.begin(), names.end(), Trim(header[column])) != names.end()) {
      return static_cast<int>(column);
    }
  }
  return -1;
}

// Named headers (pandas kept the tuple field names) or ",0,1,2,3,4" (it did not).
Result<Columns> FindColumns(std::string_view header_line) {
  std::vector<std::string_view> header;
  SplitFields(header_line, ',', &header);
  Columns columns{FindColumn(header, {"round", "roundId"}), FindColumn(header, {"answer"}),
                  FindColumn(header, {"update", "updatedAt"})};
  if (columns.round >= 0 && columns.answer >= 0 && columns.update >= 0) return columns;
  if (header.size() == 6 && Trim(header[0]).empty() && Trim(header[1]) == "0" &&
      Trim(header[5]) == "4") {
    return Columns{1, 2, 4};
  }
  return ParseError(
      "line 1: not a Chainlink round CSV: expected columns round, answer, update (or "
      "',0,1,2,3,4'), got '" +
      std::string(header_line.substr(0, 200)) + "'");
}

// Unsigned decimal digits -> 128-bit integer; false on non-digits or overflow.
bool ParseUint128(std::string_view text, Uint128* out) {
  text = Trim(text);
  if (text.empty() || text.size() > 38) return false;  // 10^38 < 2^128
  Uint128 value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  *out = value;
  return true;
}

// The aggregator round: the low 64 bits of the proxy's uint80 round id (the high 16 bits
// are the phase, which changes when Chainlink swaps the aggregator behind the proxy).
bool AggregatorRound(std::string_view text, int64_t* round_id) {
  Uint128 round = 0;
  if (!ParseUint128(text, &round) || round >= kUint80Limit) return false;
  const uint64_t low = static_cast<uint64_t>(round);
  if (low > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
  *round_id = static_cast<int64_t>(low);
  return true;
}

// The integer answer scaled by 10^-decimals, correctly rounded: place the decimal point
// in the digit string and let from_chars round, instead of dividing in binary.
bool ScaleAnswer(std::string_view digits, int decimals, double* price) {
  digits = Trim(digits);
  const auto is_digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), is_digit)) return false;
  std::string text(digits);
  if (decimals > 0) {
    if (static_cast<int>(text.size()) <= decimals) {
      text.insert(0, static_cast<size_t>(decimals) - text.size() + 1, '0');
    }
    text.insert(text.size() - static_cast<size_t>(decimals), ".");
  }
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *price);
  return error == std::errc() && end == text.data() + text.size();
}

class ChainlinkRows {
 public:
  ChainlinkRows(BatchSink* sink, Columns columns, std::string instrument)
      : sink_(sink), columns_(columns), instrument_(std::move(instrument)) {}

  // Parses one data line into rows_, or rejects it.
  void Add(std::string_view line, int64_t number);
  std::vector<OracleRow>& rows() { return rows_; }

 private:
  void Reject(std::string_view line, int64_t number, std::string field, std::string reason) {
    sink_->Reject(number, instrument_, std::move(field), std::move(reason), line);
  }

  BatchSink* sink_;
  Columns columns_;
  std::string instrument_;
  std::vector<std::string_view> fields_;
  std::vector<OracleRow> rows_;
};

// The round's update time in nanoseconds; the reason is empty when it parsed.
std::string ParseUpdate(std::string_view text, int64_t* ts) {
  int64_t update = 0;
  if (!ParseInt64(text, &update)) return "not a unix time";
  if (update == 0) {
    return "round never completed (update time 0, e.g. the empty first round of a phase)";
  }
  if (update < 0 || update > std::numeric_limits<int64_t>::max() / kNanosPerSecond) {
    return "unix time out of range";
  }
  *ts = update * kNanosPerSecond;
  return "";
}

// The scaled answer; the reason is empty when it parsed.
std::string ParseAnswer(std::string_view text, int decimals, double* price) {
  text = Trim(text);
  if (!text.empty() && text.find_first_not_of('0') == std::string_view::npos) {
    return "answer is 0 (no price reported)";
  }
  if (!ScaleAnswer(text, decimals, price)) return "not a non-negative integer answer";
  return "";
}

void ChainlinkRows::Add(std::string_view line, int64_t number) {
  SplitFields(line, ',', &fields_);
  const int needed = std::max({columns_.round, columns_.answer, columns_.update}) + 1;
  if (static_cast<int>(fields_.size()) < needed) {
    return Reject(
        line, number, "",
        "expected " + std::to_string(needed) + " columns, got " + std::to_string(fields_.size()));
  }
  OracleRow row{number, 0, 0, 0};
  if (!AggregatorRound(fields_[columns_.round], &row.round_id)) {
    return Reject(line, number, "round", "not a uint80 round id with an int64 aggregator round");
  }
  std::string reason = ParseUpdate(fields_[columns_.update], &row.ts);
  if (!reason.empty()) return Reject(line, number, "update", std::move(reason));
  reason = ParseAnswer(fields_[columns_.answer], sink_->options().price_decimals, &row.price);
  if (!reason.empty()) return Reject(line, number, "answer", std::move(reason));
  rows_.push_back(row);
}

// The symbol in "chainlink_BTC-USD_0xF403...csv" -> "BTC/USD"; "" if not that pattern.
std::string SymbolFromChainlinkName(std::string_view file_name) {
  constexpr std::string_view kPrefix = "chainlink_";
  if (!file_name.starts_with(kPrefix)) return "";
  file_name.remove_prefix(kPrefix.size());
  const size_t end = file_name.find('_');
  if (end == std::string_view::npos || end == 0) return "";
  std::string symbol(file_name.substr(0, end));
  std::replace(symbol.begin(), symbol.end(), '-', '/');
  return symbol;
}

// The fetcher walks rounds newest first; store them by update time so an order=reject
// policy does not reject the file's documented direction. Rounds updated in the same
// second are both kept (the oracle key includes round_id); validation orders them by
// round id.
void AddInTimeOrder(std::vector<OracleRow>& rows, RecordBatch& batch, BatchSink* sink) {
  std::stable_sort(rows.begin(), rows.end(),
                   [](const OracleRow& a, const OracleRow& b) { return a.ts < b.ts; });
  for (const OracleRow& row : rows) {
    const double doubles[] = {row.price, std::numeric_limits<double>::quiet_NaN()};
    const int64_t ints[] = {row.round_id};
    sink->AddRow(batch, row.line, row.ts, doubles, ints);
  }
}

}  // namespace

Status ReadChainlinkCsv(std::string_view text, BatchSink* sink) {
  const ReadOptions& options = sink->options();
  if (options.kind != DataKind::kOracle) {
    return InvalidArgument("Chainlink round files hold oracle prices; pass --kind oracle (got " +
                           std::string(KindName(options.kind)) + ")");
  }
  if (options.price_decimals < 0 || options.price_decimals > kMaxDecimals) {
    return InvalidArgument("price decimals must be within 0.." + std::to_string(kMaxDecimals));
  }
  VIGIL_ASSIGN_OR_RETURN(Instrument instrument,
                         ResolveInstrument(options, sink->file_name(), "chainlink",
                                           SymbolFromChainlinkName(sink->file_name())));
  LineCursor lines(text);
  std::string_view line;
  if (!lines.Next(&line)) return ParseError("empty file");
  VIGIL_ASSIGN_OR_RETURN(Columns columns, FindColumns(line));
  ChainlinkRows parser(sink, columns, instrument.ToString());
  while (lines.Next(&line)) {
    if (Trim(line).empty()) continue;
    sink->CountRead();
    parser.Add(line, lines.line_number());
    sink->ReportProgress(lines.offset(), text.size());
  }
  AddInTimeOrder(parser.rows(), sink->BatchFor(instrument), sink);
  return Status::Ok();
}

}  // namespace vigil::data_internal
