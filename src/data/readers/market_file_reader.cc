// MarketFileReader: format choice (explicit or sniffed), dispatch to the per-format
// parser, and the "nothing usable" rules that make a file fail as a whole.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "data/readers/field_aliases.h"
#include "data/readers/format_readers.h"
#include "data/readers/order_book_builder.h"
#include "data/readers/zip_member.h"
#include "vigil/core/text_file.h"
#include "vigil/data/reader.h"

namespace vigil {

namespace data_internal {
ReaderState::~ReaderState() = default;
}  // namespace data_internal

namespace {

using data_internal::BatchSink;

// Detection reads at most this much, except where a JSON value must be parsed whole.
constexpr size_t kSniffBytes = 64 * 1024;
constexpr int kMaxBookDepth = 1000;    // Bybit publishes 500 levels; more is a typo
constexpr int kMaxPriceDecimals = 36;  // 18-decimal feeds are the largest seen

struct FormatName {
  FileFormat format;
  std::string_view name;
};
constexpr FormatName kFormatNames[] = {
    {FileFormat::kAuto, "auto"},
    {FileFormat::kCsv, "csv"},
    {FileFormat::kJsonl, "jsonl"},
    {FileFormat::kFreqtrade, "freqtrade"},
    {FileFormat::kBinance, "binance"},
    {FileFormat::kKraken, "kraken"},
    {FileFormat::kChainlink, "chainlink"},
    {FileFormat::kDefiLlama, "defillama"},
    {FileFormat::kBinanceDepth, "binance-depth"},
    {FileFormat::kBybitOrderBook, "bybit-orderbook"},
    {FileFormat::kHftbacktest, "hftbacktest"},
    {FileFormat::kTardisL2, "tardis-l2"},
    {FileFormat::kHyperliquidWs, "hyperliquid-ws"},
};

std::string FormatList() {
  std::string out;
  for (const FormatName& entry : kFormatNames) {
    if (!out.empty()) out += '|';
    out += entry.name;
  }
  return out;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Skips a UTF-8 byte-order mark and leading whitespace.
std::string_view SkipBlank(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  return text;
}

std::string_view FirstLine(std::string_view text) {
  size_t end = text.find('\n');
  std::string_view line = text.substr(0, end);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

Status UnknownFormat(std::string_view what) {
  return InvalidArgument("cannot tell the format: " + std::string(what) + "; pass --format (" +
                         FormatList() + ")");
}

// Files that are not text at all get a message saying what they are.
Status CheckNotBinary(std::string_view text) {
  if (text.starts_with("ARROW1")) {
    return ParseError("an Apache Arrow/Feather file, not text: read its CSV conversion");
  }
  if (text.starts_with("PAR1")) return ParseError("a Parquet file, not text: convert it to CSV");
  if (text.starts_with("PK\x03\x04")) {
    return ParseError(
        "a zip archive: read it from its file (single-member zips are opened) or "
        "extract it first");
  }
  std::string_view prefix = text.substr(0, kSniffBytes);
  size_t control = 0;
  for (char c : prefix) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte == 0) return ParseError("binary content (NUL bytes), not a text market-data file");
    control += byte < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f';
  }
  // Text never has more than a stray control byte; 1% means a binary file.
  if (control * 100 > prefix.size()) {
    return ParseError("binary content (control bytes), not a text market-data file");
  }
  return Status::Ok();
}

// '[' '[' number: freqtrade's array of candle or trade rows ("[]" when empty).
Result<FileFormat> DetectJsonArray(std::string_view text) {
  text.remove_prefix(1);
  text = SkipBlank(text.substr(0, kSniffBytes));
  if (text.starts_with("]")) return FileFormat::kFreqtrade;
  if (text.starts_with("[")) {
    text = SkipBlank(text.substr(1));
    if (!text.empty() &&
        (std::isdigit(static_cast<unsigned char>(text.front())) || text.front() == '-')) {
      return FileFormat::kFreqtrade;
    }
  }
  return UnknownFormat("a JSON array that is not freqtrade's [[time, ...], ...]");
}

// A whole JSON document: Kraken REST ("result") or DeFiLlama /protocol ("tvl").
std::optional<FileFormat> DocumentFormat(const nlohmann::json& document) {
  if (!document.is_object()) return std::nullopt;
  if (document.contains("result")) return FileFormat::kKraken;
  auto tvl = document.find("tvl");
  if ((tvl != document.end() && tvl->is_array()) || document.contains("chainTvls")) {
    return FileFormat::kDefiLlama;
  }
  return std::nullopt;
}

// Hyperliquid websocket messages all carry a "channel" name.
bool IsHyperliquidMessage(const nlohmann::json& record) {
  auto channel = record.find("channel");
  return channel != record.end() && channel->is_string();
}

bool IsBybitOrderBook(const nlohmann::json& record) {
  auto topic = record.find("topic");
  return topic != record.end() && topic->is_string() &&
         topic->get_ref<const std::string&>().starts_with("orderbook.");
}

Result<FileFormat> DetectJsonObject(std::string_view text, std::string_view file_name) {
  std::string_view first = FirstLine(text);
  nlohmann::json record = nlohmann::json::parse(first.begin(), first.end(), nullptr, false);
  if (!record.is_discarded() && record.is_object()) {
    if (IsBybitOrderBook(record)) return FileFormat::kBybitOrderBook;
    if (IsHyperliquidMessage(record)) return FileFormat::kHyperliquidWs;
    const bool lines_by_name = file_name.ends_with(".jsonl") || file_name.ends_with(".ndjson");
    const bool single_line = SkipBlank(text.substr(first.size())).empty();
    if (single_line && !lines_by_name) {
      if (auto format = DocumentFormat(record)) return *format;
    }
    return FileFormat::kJsonl;
  }
  // The first line is not a whole object: a pretty-printed document, parsed whole.
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    return ParseError(std::string("starts with '{' but is neither JSON lines nor valid JSON: ") +
                      e.what());
  }
  if (auto format = DocumentFormat(document)) return *format;
  if (document.is_object() && IsHyperliquidMessage(document)) return FileFormat::kHyperliquidWs;
  return UnknownFormat("a JSON document without the keys of a known format (result, tvl, channel)");
}

// hftbacktest's collector writes "<local ns timestamp> <JSON message>" lines.
bool IsHftbacktestLine(std::string_view line) {
  constexpr size_t kMinEpochDigits = 10;  // seconds since 2001 already have 10 digits
  const size_t space = line.find(' ');
  if (space == std::string_view::npos || space < kMinEpochDigits) return false;
  const std::string_view digits = line.substr(0, space);
  return std::all_of(digits.begin(), digits.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
         line.substr(space + 1).starts_with("{");
}

Result<FileFormat> DetectCsv(std::string_view text) {
  std::string_view header = FirstLine(text.substr(0, kSniffBytes));
  std::vector<std::string_view> cells;
  data_internal::SplitFields(header, data_internal::DetectDelimiter(header), &cells);
  std::vector<std::string> lower;
  bool all_numeric = true;
  for (std::string_view cell : cells) {
    std::string name;
    for (char c : cell) {
      if (!IsSpace(c))
        name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    double value = 0;
    all_numeric = all_numeric && data_internal::ParseDouble(cell, &value);
    lower.push_back(std::move(name));
  }
  using Header = std::vector<std::string>;
  if (lower == Header{"", "round", "answer", "start", "update", "answeredinround"} ||
      lower == Header{"", "0", "1", "2", "3", "4"}) {
    return FileFormat::kChainlink;
  }
  auto has = [&](std::string_view name) {
    return std::find(lower.begin(), lower.end(), name) != lower.end();
  };
  if (has("first_update_id") && has("update_type")) return FileFormat::kBinanceDepth;
  if (has("is_snapshot") && has("side") && has("price") && has("amount")) {
    return FileFormat::kTardisL2;
  }
  constexpr size_t kBinanceKlineColumns = 12;
  if (all_numeric && cells.size() == kBinanceKlineColumns) return FileFormat::kBinance;
  return FileFormat::kCsv;
}

Status RunParser(FileFormat format, std::string_view text, BatchSink* sink,
                 data_internal::ReaderState* state) {
  namespace di = data_internal;
  switch (format) {
    case FileFormat::kCsv:
      return di::ReadCsv(text, sink);
    case FileFormat::kJsonl:
      return di::ReadJsonl(text, sink);
    case FileFormat::kFreqtrade:
      return di::ReadFreqtradeJson(text, sink);
    case FileFormat::kBinance:
      return di::ReadBinanceKlines(text, sink);
    case FileFormat::kKraken:
      return di::ReadKrakenJson(text, sink);
    case FileFormat::kChainlink:
      return di::ReadChainlinkCsv(text, sink);
    case FileFormat::kDefiLlama:
      return di::ReadDefiLlamaJson(text, sink);
    case FileFormat::kBinanceDepth:
      return di::ReadBinanceDepth(text, sink, state);
    case FileFormat::kBybitOrderBook:
      return di::ReadBybitOrderBook(text, sink, state);
    case FileFormat::kHftbacktest:
      return di::ReadHftbacktest(text, sink);
    case FileFormat::kTardisL2:
      return di::ReadTardisL2(text, sink);
    case FileFormat::kHyperliquidWs:
      return di::ReadHyperliquidWs(text, sink);
    case FileFormat::kAuto:
      break;
  }
  return Internal("no parser for format '" + std::string(FileFormatName(format)) + "'");
}

// Arrow/Feather and Parquet files usually sit beside the CSV they were converted from
// (freqtrade writes both): name it, so the refusal says what to read instead.
Status RefuseColumnarCopy(std::string_view text, const std::string& path) {
  const bool arrow = text.starts_with("ARROW1");
  if (!arrow && !text.starts_with("PAR1")) return Status::Ok();
  std::filesystem::path csv(path);
  csv.replace_extension(".csv");
  std::error_code error;
  if (!std::filesystem::is_regular_file(csv, error)) return Status::Ok();  // Parse explains
  return ParseError(path + ": " + (arrow ? "an Apache Arrow/Feather" : "a Parquet") +
                    " file, not text: read the CSV copy beside it, " + csv.string());
}

}  // namespace

Result<FileFormat> ParseFileFormat(std::string_view text) {
  for (const FormatName& entry : kFormatNames) {
    if (entry.name == text) return entry.format;
  }
  return InvalidArgument("unknown format '" + std::string(text) + "' (" + FormatList() + ")");
}

std::string_view FileFormatName(FileFormat format) {
  for (const FormatName& entry : kFormatNames) {
    if (entry.format == format) return entry.name;
  }
  return "unknown";
}

Status ValidateReadOptions(const ReadOptions& options) {
  if (options.book_depth < 1 || options.book_depth > kMaxBookDepth) {
    return InvalidArgument("--depth must be between 1 and " + std::to_string(kMaxBookDepth) +
                           " (got " + std::to_string(options.book_depth) + ")");
  }
  if (options.price_decimals < 0 || options.price_decimals > kMaxPriceDecimals) {
    return InvalidArgument("--decimals must be between 0 and " + std::to_string(kMaxPriceDecimals) +
                           " (got " + std::to_string(options.price_decimals) + ")");
  }
  if (!options.venue.empty())
    VIGIL_RETURN_IF_ERROR(ValidateVenue(options.venue).WithContext("--venue"));
  if (!options.symbol.empty()) {
    VIGIL_RETURN_IF_ERROR(ValidateSymbol(options.symbol).WithContext("--symbol"));
  }
  if (!options.timeframe.empty()) {
    Result<int64_t> step = ParseDuration(options.timeframe);
    if (!step.ok()) return step.status().WithContext("--timeframe");
  }
  return data_internal::CheckColumnMap(options);
}

struct MarketFileReader::State {
  data_internal::ReaderState reader;
};

MarketFileReader::MarketFileReader(ReadOptions options)
    : options_(std::move(options)), state_(std::make_unique<State>()) {}

MarketFileReader::~MarketFileReader() = default;

Result<ParsedFile> MarketFileReader::Read(const std::string& path) {
  VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  VIGIL_RETURN_IF_ERROR(RefuseColumnarCopy(text, path));
  if (!data_internal::LooksLikeZip(text)) return Parse(text, path);
  Result<data_internal::ZipMember> member = data_internal::ExtractSingleZipMember(text);
  if (!member.ok()) return member.status().WithContext(path);
  // Named "archive.zip!/member": detection and file-name inference see the member's name,
  // and every message still leads to the archive.
  return Parse(member->data, path + "!/" + member->name);
}

Result<ParsedFile> MarketFileReader::Parse(std::string_view text, const std::string& source_name) {
  VIGIL_RETURN_IF_ERROR(ValidateReadOptions(options_));
  if (SkipBlank(text).empty()) return ParseError(source_name + ": no data rows (empty file)");
  VIGIL_RETURN_IF_ERROR(CheckNotBinary(text).WithContext(source_name));
  FileFormat format = options_.format;
  if (format == FileFormat::kAuto) {
    const std::string file_name = std::filesystem::path(source_name).filename().string();
    Result<FileFormat> detected = DetectFormat(text, file_name, options_.kind);
    if (!detected.ok()) return detected.status().WithContext(source_name);
    format = *detected;
  }
  BatchSink sink(options_, source_name);
  Status status = RunParser(format, text, &sink, &state_->reader);
  if (!status.ok()) return status.WithContext(source_name);
  ParsedFile parsed = sink.Finish(std::string(FileFormatName(format)));
  // Parsers count rows as they read them; a parser that produced rows counts as read too.
  if (parsed.rows_read == 0 && parsed.batches.empty() && parsed.rejects.empty()) {
    return ParseError(source_name + ": no data rows (" + std::string(FileFormatName(format)) +
                      " file with a header or envelope only)");
  }
  return parsed;
}

Result<FileFormat> MarketFileReader::DetectFormat(std::string_view text, std::string_view file_name,
                                                  DataKind kind) {
  // Formats are told apart by content alone; the kind is not needed to choose one.
  (void)kind;
  text = SkipBlank(text);
  if (text.empty()) return UnknownFormat("the file is empty");
  if (text.front() == '[') return DetectJsonArray(text);
  if (text.front() == '{') return DetectJsonObject(text, file_name);
  if (IsHftbacktestLine(FirstLine(text.substr(0, kSniffBytes)))) return FileFormat::kHftbacktest;
  return DetectCsv(text);
}

}  // namespace vigil
