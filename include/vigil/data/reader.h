// Reading market-data files into validated RecordBatches.
//
// A MarketFileReader turns one file at a time into a ParsedFile: the valid rows grouped
// by series, and every rejected row with its file, line, field and reason. It keeps
// state across the files of one ingest (an order-book snapshot file followed by its
// diff file rebuilds one book), so read the files of one command in order with one
// reader.
//
//   vigil::ReadOptions options;
//   options.kind = vigil::DataKind::kCandles;
//   options.venue = "binance";
//   vigil::MarketFileReader reader(options);
//   VIGIL_ASSIGN_OR_RETURN(vigil::ParsedFile parsed, reader.Read("ETH_BTC-5m.csv"));
//
// Formats (FileFormat):
//   csv         delimited text with a header; columns found by name (aliases built in,
//               overrides in ReadOptions::column_map); headerless numeric files too
//               (Kraken trades "time,price,volume")
//   jsonl       one JSON object per line, keys found like CSV headers
//   freqtrade   freqtrade JSON: candles [[ts_ms,o,h,l,c,v],...] or trades
//               [[ts_ms,id,type,side,price,amount,cost],...]
//   binance     Binance public-data kline CSV (headerless, 12 columns, ms or us times)
//   kraken      Kraken REST JSON: /0/public/OHLC and /0/public/Trades responses
//   chainlink   Chainlink getRoundData CSV (",round,answer,start,update,answeredInRound")
//   defillama   DeFiLlama /protocol JSON ("tvl": [{"date","totalLiquidityUSD"}])
//   binance-depth  Binance historical order-book CSV (snap + set rows), rebuilt into
//               top-N snapshots
//   bybit-orderbook  Bybit order-book JSON lines (snapshot + delta), rebuilt into top-N
//   hftbacktest  hftbacktest captures "<local ns> <raw JSON>": Binance depth diffs + REST
//               snapshot rebuilt into top-N books (U/u/pu sequencing), Binance trades,
//               Hyperliquid l2Book snapshots and trades
//   tardis-l2   Tardis incremental_book_L2 CSV (is_snapshot,side,price,amount), rebuilt
//               into top-N per timestamp
//   hyperliquid-ws  Hyperliquid websocket messages (l2Book, trades, user fills; fills
//               with a liquidation -> liquidations); allDexsAssetCtxs is refused
// kAuto sniffs the content (and the file name) and picks one; ambiguous input fails
// with a message asking for --format. Read() opens a zip archive with a single member
// (stored or deflated) and reads the member as if it were the file: it is detected and
// named by the member's name, and its source is "ARCHIVE.zip!/MEMBER". Arrow/Feather
// and Parquet files are refused with a ParseError naming the .csv copy beside them.
//
// Failure: Read() returns a non-OK Status only when nothing in the file can be used
// (unreadable, not the format, no recognisable header, unknown venue): the caller must
// then store nothing. Bad rows never fail the read; they become RejectedRows.
// Thread-safety: a reader is used by one thread at a time.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "vigil/core/status.h"
#include "vigil/core/timestamp.h"
#include "vigil/data/records.h"
#include "vigil/data/validation.h"

namespace vigil {

enum class FileFormat {
  kAuto,
  kCsv,
  kJsonl,
  kFreqtrade,
  kBinance,
  kKraken,
  kChainlink,
  kDefiLlama,
  kBinanceDepth,
  kBybitOrderBook,
  kHftbacktest,
  kTardisL2,
  kHyperliquidWs,
};

Result<FileFormat> ParseFileFormat(std::string_view text);
std::string_view FileFormatName(FileFormat format);

struct ReadOptions {
  DataKind kind = DataKind::kCandles;
  FileFormat format = FileFormat::kAuto;
  // Override or supply the instrument. When empty they are taken from the file's
  // content (a venue/symbol/instrument column) or name (freqtrade "ETH_BTC-5m.csv",
  // Binance "ADABTC-1m-2021-11-27.csv"); a file whose venue cannot be told fails.
  std::string venue;
  std::string symbol;
  // Candle timeframe ("1m", "5m", "1h", "1d"). Empty = from the file name, else from the
  // most common spacing of the timestamps.
  std::string timeframe;
  // Canonical field name -> column name in the file (e.g. {"ts", "open_time"}).
  std::map<std::string, std::string> column_map;
  // Unit of numeric timestamps; kAuto picks it from the magnitude.
  TimeUnit time_unit = TimeUnit::kAuto;
  // Decimal places of integer oracle answers (Chainlink: 8 for USD feeds, 18 for ETH).
  int price_decimals = 8;
  // Order-book depth kept per side when rebuilding books.
  int book_depth = 10;
  ValidationOptions validation;
  // Called now and then with (bytes parsed, total bytes) while a file is parsed.
  std::function<void(size_t, size_t)> progress;
};

// Checks option values (depth, decimals, venue/symbol syntax, timeframe syntax).
Status ValidateReadOptions(const ReadOptions& options);

class MarketFileReader {
 public:
  explicit MarketFileReader(ReadOptions options);
  ~MarketFileReader();
  MarketFileReader(const MarketFileReader&) = delete;
  MarketFileReader& operator=(const MarketFileReader&) = delete;

  // Reads, parses and validates one file (see the header comment for failure rules).
  // Gzip files are inflated; a single-member zip is read as its member.
  Result<ParsedFile> Read(const std::string& path);
  // The same for text already in memory; `source_name` stands in for the path.
  Result<ParsedFile> Parse(std::string_view text, const std::string& source_name);

  // The format kAuto would choose for this content and file name.
  static Result<FileFormat> DetectFormat(std::string_view text, std::string_view file_name,
                                         DataKind kind);

 private:
  struct State;
  ReadOptions options_;
  std::unique_ptr<State> state_;
};

}  // namespace vigil
