// Internal to vigil_data: the per-format parsers behind MarketFileReader, and the
// BatchSink they all write into. Not part of the public API.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/data/reader.h"

namespace vigil::data_internal {

// Collects parsed rows per series (with their source lines) and rejected rows for one
// file. Parsers call Add* / Reject; MarketFileReader calls Finish, which resolves candle
// timeframes, validates every batch and returns the ParsedFile.
class BatchSink {
 public:
  BatchSink(const ReadOptions& options, std::string source);

  const ReadOptions& options() const { return options_; }
  const std::string& source() const { return source_; }
  // The file name without directories (for instrument / timeframe inference).
  std::string file_name() const;

  // The batch for an instrument (created on first use). `timeframe` may be empty for
  // candles; Finish() then resolves it. Frame columns follow SchemaOf(options.kind).
  RecordBatch& BatchFor(const Instrument& instrument, std::string_view timeframe = "");
  // Appends one row: `doubles` / `ints` hold the kind's double / int64 fields in schema
  // order (use NaN / kMissingInt for absent optional values).
  void AddRow(RecordBatch& batch, int64_t line, int64_t ts, std::span<const double> doubles,
              std::span<const int64_t> ints = {});
  void Reject(int64_t line, std::string_view instrument, std::string field, std::string reason,
              std::string_view raw);
  void CountRead(int64_t rows = 1) { rows_read_ += rows; }
  void ReportProgress(size_t done, size_t total) const;

  // Resolves timeframes, validates, and hands over everything collected.
  ParsedFile Finish(std::string format);

 private:
  ReadOptions options_;
  std::string source_;
  int64_t rows_read_ = 0;
  std::map<std::pair<Instrument, std::string>, RecordBatch> batches_;
  std::vector<RejectedRow> rejects_;
};

// The instrument for a file: options.venue / options.symbol win; else `content_symbol`
// (from a column or a JSON field), else the file name; the venue falls back to
// `format_venue` (e.g. "binance" for Binance kline files). Fails with a message telling
// the user which flag to pass.
Result<Instrument> ResolveInstrument(const ReadOptions& options, std::string_view file_name,
                                     std::string_view format_venue,
                                     std::string_view content_symbol = "");
// "ETH_BTC-5m.csv" -> "ETH/BTC"; "XRP_USDT_USDT-5m-futures.csv" -> "XRP/USDT:USDT";
// "ADABTC-1m-2021-11-27.csv" -> "ADABTC"; "" when the name has no such pattern.
std::string SymbolFromFileName(std::string_view file_name);
// "ETH_BTC-5m.csv" -> "5m"; "ADABTC-1m-2021-11-27.csv" -> "1m"; "" when none.
std::string TimeframeFromFileName(std::string_view file_name);
// The most common positive spacing between consecutive sorted timestamps, as a
// duration name ("5m"), or "" when fewer than two rows.
std::string TimeframeFromSpacing(std::span<const int64_t> ts);

// Fast field parsing shared by the parsers. They return false on malformed text.
bool ParseDouble(std::string_view text, double* out);
bool ParseInt64(std::string_view text, int64_t* out);
// Splits a delimited line in place (no quoting rules beyond stripping surrounding
// double quotes). `fields` is reused between calls.
void SplitFields(std::string_view line, char delimiter, std::vector<std::string_view>* fields);
// Side words: buy/b/bid/B/long/true(buyer) ... -> +1/-1; returns false if unknown.
bool ParseSide(std::string_view text, int64_t* side);

// Order-book state carried across the files of one MarketFileReader.
class OrderBookBuilder;
struct ReaderState {
  std::map<std::string, std::unique_ptr<OrderBookBuilder>> books;  // by instrument
  ~ReaderState();
};

// Parsers. Each returns non-OK only when the whole input is unusable.
Status ReadCsv(std::string_view text, BatchSink* sink);
Status ReadJsonl(std::string_view text, BatchSink* sink);
Status ReadFreqtradeJson(std::string_view text, BatchSink* sink);
Status ReadBinanceKlines(std::string_view text, BatchSink* sink);
Status ReadKrakenJson(std::string_view text, BatchSink* sink);
Status ReadChainlinkCsv(std::string_view text, BatchSink* sink);
Status ReadDefiLlamaJson(std::string_view text, BatchSink* sink);
Status ReadBinanceDepth(std::string_view text, BatchSink* sink, ReaderState* state);
Status ReadBybitOrderBook(std::string_view text, BatchSink* sink, ReaderState* state);
// The formats below keep no state between files: each file carries its own snapshot.
Status ReadHftbacktest(std::string_view text, BatchSink* sink);
Status ReadTardisL2(std::string_view text, BatchSink* sink);
Status ReadHyperliquidWs(std::string_view text, BatchSink* sink);

// Hyperliquid websocket messages ({"channel": ..., "data": ...}) turned into rows of
// options.kind: l2Book -> orderbook, trades -> trades, user / userFills fills -> trades
// or (fills with a `liquidation` object) liquidations. Messages of other kinds are
// skipped without being counted. Shared by the hyperliquid-ws reader and hftbacktest's
// Hyperliquid captures, which wrap the same messages.
class HyperliquidMessages {
 public:
  explicit HyperliquidMessages(BatchSink* sink);
  ~HyperliquidMessages();
  HyperliquidMessages(const HyperliquidMessages&) = delete;
  HyperliquidMessages& operator=(const HyperliquidMessages&) = delete;

  // Turns one message from source record `line` into rows or RejectedRows (`raw` is
  // the record's text for them).
  void Add(const nlohmann::json& message, int64_t line, std::string_view raw);
  // Stores the last deferred book snapshot; call once after the last message.
  void Finish();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Why a Hyperliquid allDexsAssetCtxs message cannot be ingested (the whole reason).
extern const char kHyperliquidAssetCtxsRefusal[];

}  // namespace vigil::data_internal
