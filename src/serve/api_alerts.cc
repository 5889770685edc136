// Alerts and ingest: GET /v1/alerts?since=T&instrument=I&limit=N and POST /v1/ingest/{kind}.
//
// Ingest validates rows exactly as file ingest does: the rows become JSON-lines text (row i
// is line i + 1) read by MarketFileReader with format jsonl, and the valid rows and the
// rejects are written in one Store::Write transaction under the source "api:ingest/<kind>".
// A body with no valid row is refused (400) and writes nothing, so a 400 never changes the
// store. After a write, on_ingest hears of the instruments written and the data generation
// moves on, which drops every cached answer.
// Answers: alerts {count, alerts: [AlertJson]} (ascending by ts); ingest {rows_read,
// rows_stored, rows_inserted, rows_rejected, rejects: [{line, field, reason}], instruments}.
#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "serve/api_internal.h"
#include "vigil/data/market_data.h"
#include "vigil/data/reader.h"
#include "vigil/serve/webhook.h"

namespace vigil::serve_internal {
namespace {

// Bounds of ?limit= on /v1/alerts (the default is AlertQuery's).
constexpr int64_t kMaxAlertLimit = 100000;
// Characters of a bad path segment echoed back in an error message.
constexpr size_t kMaxEchoedName = 64;

// --- GET /v1/alerts ---

Result<AlertQuery> ParseAlertQuery(const httplib::Request& request) {
  VIGIL_RETURN_IF_ERROR(CheckQueryParams(request, {"since", "instrument", "limit"}));
  AlertQuery query;
  VIGIL_ASSIGN_OR_RETURN(std::optional<Timestamp> since, TimeQuery(request, "since"));
  if (since) query.since = *since;
  if (request.has_param("instrument")) {
    VIGIL_ASSIGN_OR_RETURN(query.instrument,
                           InstrumentText(request.get_param_value("instrument"), "instrument"));
  }
  VIGIL_ASSIGN_OR_RETURN(std::optional<double> limit, NumberQuery(request, "limit"));
  if (limit) {
    if (!(*limit >= 1 && *limit <= kMaxAlertLimit) || std::floor(*limit) != *limit) {
      return InvalidArgument("limit: must be a whole number from 1 to " +
                             std::to_string(kMaxAlertLimit));
    }
    query.limit = static_cast<int64_t>(*limit);
  }
  return query;
}

ApiResponse HandleAlerts(const httplib::Request& request, ApiContext& context) {
  Result<AlertQuery> query = ParseAlertQuery(request);
  if (!query.ok()) return StatusResponse(query.status(), "alerts");
  Result<StorePool::Lease> store = context.store().Acquire();
  if (!store.ok()) return StatusResponse(store.status(), "alerts");
  Result<std::vector<AlertRow>> alerts = (*store)->QueryAlerts(*query);
  if (!alerts.ok()) return StatusResponse(alerts.status(), "alerts");
  nlohmann::json list = nlohmann::json::array();
  for (const AlertRow& alert : *alerts) list.push_back(AlertJson(alert));
  return JsonResponse({{"count", alerts->size()}, {"alerts", std::move(list)}});
}

// --- POST /v1/ingest/{kind} ---

struct IngestRequest {
  DataKind kind = DataKind::kCandles;
  ReadOptions options;
  std::string jsonl;  // one row per line
};

Result<std::string> OptionalText(const nlohmann::json& body, const char* key) {
  const auto value = body.find(key);
  if (value == body.end() || value->is_null()) return std::string();
  if (!value->is_string()) return InvalidArgument(std::string(key) + ": must be a string");
  return value->get<std::string>();
}

// The rows as JSON lines; InvalidArgument naming the row that is not an object.
Result<std::string> RowsAsJsonLines(const nlohmann::json& body) {
  const auto rows = body.find("rows");
  if (rows == body.end()) return InvalidArgument("rows: required");
  if (!rows->is_array()) return InvalidArgument("rows: must be an array of objects");
  if (rows->empty()) return InvalidArgument("rows: empty");
  std::string text;
  for (size_t index = 0; index < rows->size(); ++index) {
    const nlohmann::json& row = (*rows)[index];
    if (!row.is_object()) {
      return InvalidArgument("rows[" + std::to_string(index) + "]: must be an object");
    }
    // A compact dump has no newline (newlines in strings are escaped), so row i is line i + 1.
    text += row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    text += '\n';
  }
  return text;
}

// The body's venue, symbol and timeframe checked under their API names (ReadOptions'
// own checks name the CLI flags).
Status ValidateIngestFields(const ReadOptions& options) {
  if (!options.venue.empty())
    VIGIL_RETURN_IF_ERROR(ValidateVenue(options.venue).WithContext("venue"));
  if (!options.symbol.empty()) {
    VIGIL_RETURN_IF_ERROR(ValidateSymbol(options.symbol).WithContext("symbol"));
  }
  if (!options.timeframe.empty()) {
    VIGIL_RETURN_IF_ERROR(ParseDuration(options.timeframe).status().WithContext("timeframe"));
  }
  return ValidateReadOptions(options);
}

Result<IngestRequest> ParseIngestRequest(const httplib::Request& request) {
  IngestRequest ingest;
  if (request.matches.size() < 2) return InvalidArgument("kind: missing");
  const std::string name = request.matches[1].str().substr(0, kMaxEchoedName);
  Result<DataKind> kind = ParseDataKind(name);
  if (!kind.ok()) return InvalidArgument("kind: unknown data kind '" + name + "'");
  ingest.kind = *kind;
  VIGIL_ASSIGN_OR_RETURN(nlohmann::json body, ParseJsonObject(request));
  VIGIL_RETURN_IF_ERROR(CheckFields(body, {"rows", "venue", "symbol", "timeframe"}, "body"));
  ingest.options.kind = ingest.kind;
  ingest.options.format = FileFormat::kJsonl;
  VIGIL_ASSIGN_OR_RETURN(ingest.options.venue, OptionalText(body, "venue"));
  VIGIL_ASSIGN_OR_RETURN(ingest.options.symbol, OptionalText(body, "symbol"));
  VIGIL_ASSIGN_OR_RETURN(ingest.options.timeframe, OptionalText(body, "timeframe"));
  VIGIL_RETURN_IF_ERROR(ValidateIngestFields(ingest.options));
  VIGIL_ASSIGN_OR_RETURN(ingest.jsonl, RowsAsJsonLines(body));
  return ingest;
}

std::vector<std::string> InstrumentsOf(const ParsedFile& parsed) {
  std::set<std::string> instruments;
  for (const RecordBatch& batch : parsed.batches) {
    if (batch.frame.rows() > 0) instruments.insert(batch.series.instrument.ToString());
  }
  return {instruments.begin(), instruments.end()};
}

nlohmann::json IngestJson(const ParsedFile& parsed, const WriteStats& stats,
                          const std::vector<std::string>& instruments) {
  nlohmann::json rejects = nlohmann::json::array();
  for (const RejectedRow& reject : parsed.rejects) {
    rejects.push_back({{"line", reject.line}, {"field", reject.field}, {"reason", reject.reason}});
  }
  return {{"rows_read", parsed.rows_read},
          {"rows_stored", stats.rows_inserted + stats.rows_existing},
          {"rows_inserted", stats.rows_inserted},
          {"rows_rejected", parsed.rejects.size()},
          {"rejects", std::move(rejects)},
          {"instruments", instruments}};
}

// Why nothing could be stored, naming the first reject.
Status NothingValid(const ParsedFile& parsed) {
  std::string message = "no valid row was given";
  if (!parsed.rejects.empty()) {
    const RejectedRow& first = parsed.rejects.front();
    message += " (" + std::to_string(parsed.rejects.size()) + " rejected; line " +
               std::to_string(first.line) +
               (first.field.empty() ? "" : ": field '" + first.field + "'") + ": " + first.reason +
               ")";
  }
  return InvalidArgument(message);
}

Result<nlohmann::json> Ingest(ApiContext& context, const IngestRequest& ingest) {
  const std::string source = "api:ingest/" + std::string(KindName(ingest.kind));
  MarketFileReader reader(ingest.options);
  VIGIL_ASSIGN_OR_RETURN(ParsedFile parsed, reader.Parse(ingest.jsonl, source));
  if (parsed.rows_valid() == 0) return NothingValid(parsed);
  WriteUnit unit{source, parsed.batches, parsed.rejects};
  VIGIL_ASSIGN_OR_RETURN(StorePool::Lease store, context.store().Acquire());
  VIGIL_ASSIGN_OR_RETURN(WriteStats stats, store->Write(unit));
  const std::vector<std::string> instruments = InstrumentsOf(parsed);
  context.data_generation.fetch_add(1);
  if (context.deps.on_ingest) context.deps.on_ingest(instruments);
  return IngestJson(parsed, stats, instruments);
}

ApiResponse HandleIngest(const httplib::Request& request, ApiContext& context) {
  Result<IngestRequest> ingest = ParseIngestRequest(request);
  if (!ingest.ok()) return StatusResponse(ingest.status(), "ingest");
  Result<nlohmann::json> body = Ingest(context, *ingest);
  return AnswerResponse(body, "ingest");
}

}  // namespace

std::vector<Route> AlertRoutes() {
  return {
      {"GET", R"(/v1/alerts)", "/v1/alerts", false, HandleAlerts},
      {"POST", R"(/v1/ingest/([^/]+))", "/v1/ingest/{kind}", true, HandleIngest},
  };
}

}  // namespace vigil::serve_internal
