// Instrument and timeframe inference from file names and timestamps.
//
// Two naming schemes carry the instrument in the name:
//   freqtrade      <BASE>_<QUOTE>[_<SETTLE>]-<tf or "trades">[-<candle type>].<ext>
//                  "ETH_BTC-5m.csv", "XRP_USDT_USDT-8h-funding_rate.csv";
//                  mark/index candles get the type as a symbol suffix:
//                  "XRP_USDT_USDT-1h-mark.csv" -> "XRP/USDT:USDT-mark"
//   Binance Vision <SYMBOL>-<tf or data type>-<YYYY-MM[-DD]>.<ext>
//                  "ADABTC-1m-2021-11-27.csv", "BTCUSDT-trades-2021-01-08.csv"
// Both write the pair in upper case, which is what tells them apart from free-form
// names such as "kraken_BCHEUR.csv" or "binance_btcusdt-trades.csv".
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <unordered_map>

#include "data/readers/format_readers.h"

namespace vigil::data_internal {
namespace {

constexpr std::string_view kKnownExtensions[] = {
    ".csv", ".json", ".jsonl", ".ndjson", ".feather", ".parquet", ".txt", ".data", ".tsv"};

// The name without directories, ".gz" and one known data extension.
std::string_view Stem(std::string_view file_name) {
  size_t slash = file_name.find_last_of("/\\");
  if (slash != std::string_view::npos) file_name.remove_prefix(slash + 1);
  if (file_name.ends_with(".gz")) file_name.remove_suffix(3);
  for (std::string_view ext : kKnownExtensions) {
    if (file_name.size() > ext.size() && file_name.ends_with(ext)) {
      file_name.remove_suffix(ext.size());
      break;
    }
  }
  return file_name;
}

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t stop = text.find(separator, start);
    parts.push_back(text.substr(start, stop - start));
    if (stop == std::string_view::npos) break;
    start = stop + 1;
  }
  return parts;
}

// Exchange pair tokens: upper-case letters and digits ("ETH", "1000SHIB", "UNITTEST").
bool IsPairToken(std::string_view token) {
  if (token.empty()) return false;
  bool has_letter = false;
  for (char c : token) {
    if (std::isupper(static_cast<unsigned char>(c))) {
      has_letter = true;
    } else if (!std::isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return has_letter;
}

// "5m", "1h", "8h", "1d", "1w", "30s": a positive count and a unit exchanges use.
bool IsTimeframe(std::string_view token) {
  size_t digits = 0;
  while (digits < token.size() && std::isdigit(static_cast<unsigned char>(token[digits]))) {
    ++digits;
  }
  if (digits == 0 || digits + 1 != token.size() || token[0] == '0') return false;
  char unit = token.back();
  return unit == 's' || unit == 'm' || unit == 'h' || unit == 'd' || unit == 'w';
}

// Data-type words that stand where a timeframe would in the two schemes.
bool IsDataTypeWord(std::string_view token) {
  return token == "trades" || token == "aggTrades" || token == "bookDepth" ||
         token == "bookTicker" || token == "metrics" || token == "fundingRate";
}

// freqtrade candle types that are not trade prices.
bool IsDerivedPriceType(std::string_view token) {
  return token == "mark" || token == "index" || token == "premiumIndex";
}

struct NameParts {
  std::string symbol;
  std::string timeframe;
};

// Parses either scheme; empty parts when the name follows neither.
NameParts ParseName(std::string_view file_name) {
  std::vector<std::string_view> dash_parts = Split(Stem(file_name), '-');
  if (dash_parts.size() < 2) return {};
  std::string_view second = dash_parts[1];
  if (!IsTimeframe(second) && !IsDataTypeWord(second)) return {};
  std::vector<std::string_view> pair = Split(dash_parts[0], '_');
  if (!std::all_of(pair.begin(), pair.end(), IsPairToken) || pair.size() > 3) return {};
  NameParts parts;
  if (IsTimeframe(second)) parts.timeframe = std::string(second);
  if (pair.size() == 1) {
    parts.symbol = std::string(pair[0]);  // Binance Vision: the symbol as listed
  } else {
    parts.symbol = std::string(pair[0]) + "/" + std::string(pair[1]);
    if (pair.size() == 3) parts.symbol += ":" + std::string(pair[2]);
  }
  // freqtrade's mark / index / premium-index candles are other price series of the same
  // contract; kept apart from its trade candles so neither overwrites the other.
  if (dash_parts.size() >= 3 && IsDerivedPriceType(dash_parts[2])) {
    parts.symbol += "-" + std::string(dash_parts[2]);
  }
  return parts;
}

// Last resort for free-form names ("kraken_ohlc_XBTUSDT_1m.json"): a token that is a
// timeframe, delimited by '_', '-' or '.'.
std::string TimeframeToken(std::string_view file_name) {
  std::string_view stem = Stem(file_name);
  std::string last;
  size_t start = 0;
  while (start <= stem.size()) {
    size_t stop = stem.find_first_of("_-.", start);
    if (stop == std::string_view::npos) stop = stem.size();
    std::string_view token = stem.substr(start, stop - start);
    if (IsTimeframe(token)) last = std::string(token);
    start = stop + 1;
  }
  return last;
}

}  // namespace

std::string SymbolFromFileName(std::string_view file_name) { return ParseName(file_name).symbol; }

std::string TimeframeFromFileName(std::string_view file_name) {
  NameParts parts = ParseName(file_name);
  if (!parts.symbol.empty()) return parts.timeframe;
  return TimeframeToken(file_name);
}

std::string TimeframeFromSpacing(std::span<const int64_t> ts) {
  std::unordered_map<int64_t, int64_t> counts;
  for (size_t row = 1; row < ts.size(); ++row) {
    int64_t step = ts[row] - ts[row - 1];
    if (step > 0) ++counts[step];
  }
  int64_t best_step = 0;
  int64_t best_count = 0;
  for (const auto& [step, count] : counts) {
    // Ties go to the shorter step: gaps only ever make spacings longer.
    if (count > best_count || (count == best_count && step < best_step)) {
      best_step = step;
      best_count = count;
    }
  }
  return best_count == 0 ? std::string() : FormatDuration(best_step);
}

Result<Instrument> ResolveInstrument(const ReadOptions& options, std::string_view file_name,
                                     std::string_view format_venue,
                                     std::string_view content_symbol) {
  std::string name = std::filesystem::path(file_name).filename().string();
  Instrument instrument;
  instrument.venue = !options.venue.empty() ? options.venue : std::string(format_venue);
  if (instrument.venue.empty()) {
    return InvalidArgument("cannot tell the venue of '" + name + "': pass --venue");
  }
  instrument.symbol = !options.symbol.empty()   ? options.symbol
                      : !content_symbol.empty() ? std::string(content_symbol)
                                                : SymbolFromFileName(name);
  if (instrument.symbol.empty()) {
    return InvalidArgument("cannot tell the symbol of '" + name + "': pass --symbol");
  }
  VIGIL_RETURN_IF_ERROR(ValidateVenue(instrument.venue).WithContext(name));
  VIGIL_RETURN_IF_ERROR(ValidateSymbol(instrument.symbol).WithContext(name));
  return instrument;
}

}  // namespace vigil::data_internal
