// DeFiLlama /protocol/<slug> responses (https://defillama.com/docs/api): the top-level
// "tvl": [{"date": unix_s, "totalLiquidityUSD": x}, ...] series. Per-chain series
// ("chainTvls.<chain>.tvl") and the token breakdowns are not read: the top-level series
// is the protocol total. Kind protocol stores it as `tvl`; kind vault as `equity`, for
// vault "protocols" such as the Hyperliquid HLP vault whose TVL is its equity.
#include <cctype>
#include <limits>
#include <string>

#include "data/readers/format_readers.h"
#include "data/readers/record_values.h"

namespace vigil::data_internal {
namespace {

using nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// DeFiLlama's own slug when the response has one, else the one it would derive from
// the name: "Hyperliquid HLP" -> "hyperliquid-hlp".
std::string ProtocolSymbol(const json& doc) {
  auto slug = doc.find("slug");
  if (slug != doc.end() && slug->is_string() && !slug->get_ref<const std::string&>().empty()) {
    return slug->get<std::string>();
  }
  auto name = doc.find("name");
  if (name == doc.end() || !name->is_string()) return "";
  std::string symbol;
  for (char c : name->get_ref<const std::string&>()) {
    symbol += std::isspace(static_cast<unsigned char>(c))
                  ? '-'
                  : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return symbol;
}

void AddPoint(const json& point, int64_t number, BatchSink* sink, RecordBatch& batch,
              const std::string& instrument) {
  auto reject = [&](std::string field, std::string reason) {
    sink->Reject(number, instrument, std::move(field), std::move(reason), JsonSnippet(point));
  };
  if (!point.is_object()) return reject("", "expected {\"date\": ..., \"totalLiquidityUSD\": ...}");
  auto date = point.find("date");
  auto value = point.find("totalLiquidityUSD");
  int64_t ts = 0;
  const TimeUnit unit = UnitOrDefault(sink->options().time_unit, TimeUnit::kSeconds);
  if (date == point.end() || !JsonEpochToNanos(*date, unit, &ts)) {
    return reject("date", "missing or not a unix time");
  }
  double usd = 0;
  if (value == point.end() || !JsonToDouble(*value, &usd)) {
    return reject("totalLiquidityUSD", "missing or not a number");
  }
  // The first value column is tvl (protocol) or equity (vault); the rest are unknown.
  const double protocol_values[] = {usd, kNaN, kNaN, kNaN};
  const double vault_values[] = {usd, kNaN, kNaN};
  if (sink->options().kind == DataKind::kProtocol) {
    sink->AddRow(batch, number, ts, protocol_values);
  } else {
    sink->AddRow(batch, number, ts, vault_values);
  }
}

}  // namespace

Status ReadDefiLlamaJson(std::string_view text, BatchSink* sink) {
  const ReadOptions& options = sink->options();
  if (options.kind != DataKind::kProtocol && options.kind != DataKind::kVault) {
    return InvalidArgument("DeFiLlama TVL is read as kind protocol (tvl) or vault (equity), not " +
                           std::string(KindName(options.kind)));
  }
  VIGIL_ASSIGN_OR_RETURN(json doc, ParseJsonDocument(text));
  if (!doc.is_object()) return ParseError("DeFiLlama response must be an object");
  auto tvl = doc.find("tvl");
  if (tvl == doc.end() || !tvl->is_array()) {
    return ParseError("DeFiLlama response has no \"tvl\" array");
  }
  VIGIL_ASSIGN_OR_RETURN(
      Instrument instrument,
      ResolveInstrument(options, sink->file_name(), "defillama", ProtocolSymbol(doc)));
  RecordBatch& batch = sink->BatchFor(instrument);
  const std::string instrument_name = instrument.ToString();
  for (size_t index = 0; index < tvl->size(); ++index) {
    ReportRecordProgress(*sink, index, tvl->size(), text.size());
    sink->CountRead();
    AddPoint((*tvl)[index], RecordNumber(index), sink, batch, instrument_name);
  }
  return Status::Ok();
}

}  // namespace vigil::data_internal
