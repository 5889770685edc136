#include "vigil/serve/source.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <queue>
#include <set>
#include <thread>
#include <utility>

#include "vigil/core/logging.h"
#include "vigil/core/timestamp.h"
#include "vigil/data/reader.h"

namespace vigil {
namespace {

// Candles sort after every other kind at equal timestamps (see the header).
int KindRank(DataKind kind) {
  return kind == DataKind::kCandles ? static_cast<int>(AllKinds().size()) : static_cast<int>(kind);
}

// One series being replayed: its events and the next one to deliver.
struct ReplaySeries {
  SeriesKey key;
  std::string instrument;  // key.instrument.ToString(), built once
  EventStream stream;
  size_t next = 0;
};

// Holds delivery back until an event's data time is due at the configured speed.
class Pacer {
 public:
  explicit Pacer(PaceOptions options) : options_(std::move(options)) {
    if (options_.clock == nullptr) options_.clock = &system_clock_;
    if (!options_.sleep) {
      options_.sleep = [](std::chrono::nanoseconds d) { std::this_thread::sleep_for(d); };
    }
  }

  // Waits (through the sleep function) until `data_ts` is due; returns the delivery time.
  Timestamp Deliver(int64_t data_ts) {
    Timestamp now = options_.clock->Now();
    if (options_.speed <= 0.0) return now;
    if (!started_) {
      started_ = true;
      data_start_ = data_ts;
      clock_start_ = now;
      return now;
    }
    // Data time elapsed since the first event, compressed by the speed; computed from the
    // first event (not the previous one) so rounding and processing time never accumulate.
    const double offset =
        (static_cast<double>(data_ts) - static_cast<double>(data_start_)) / options_.speed;
    const Timestamp due = clock_start_ + static_cast<int64_t>(std::llround(offset));
    if (due > now) {
      options_.sleep(std::chrono::nanoseconds(due - now));
      now = options_.clock->Now();
    }
    return now;
  }

  // options_.clock may point at system_clock_, so a Pacer stays where it was built.
  Pacer(const Pacer&) = delete;
  Pacer& operator=(const Pacer&) = delete;

  double speed() const { return options_.speed; }

 private:
  PaceOptions options_;
  SystemClock system_clock_;
  bool started_ = false;
  int64_t data_start_ = 0;
  Timestamp clock_start_;
};

std::string DateOf(int64_t ts) { return Timestamp(ts).ToIso().substr(0, 10); }

class BatchReplay final : public MarketSource {
 public:
  BatchReplay(std::vector<ReplaySeries> series, PaceOptions pace, std::string description)
      : series_(std::move(series)), pacer_(std::move(pace)), description_(std::move(description)) {
    for (size_t index = 0; index < series_.size(); ++index) {
      if (series_[index].stream.size() > 0) {
        heap_.emplace(series_[index].stream.events()[0].ts, index);
      }
    }
  }

  Result<bool> Next(SourceEvent* out) override {
    if (heap_.empty()) return false;
    // Ties on ts resolve by series index, and series_ is sorted in the tie order.
    const size_t index = heap_.top().second;
    heap_.pop();
    ReplaySeries& series = series_[index];
    const Event& event = series.stream.events()[series.next++];
    if (series.next < series.stream.size()) {
      heap_.emplace(series.stream.events()[series.next].ts, index);
    }
    out->instrument = series.instrument;
    out->timeframe = series.key.timeframe;
    out->event = event;
    out->arrived = pacer_.Deliver(event.ts);
    return true;
  }

  std::string Describe() const override {
    std::set<std::string> instruments;
    int64_t first = INT64_MAX, last = INT64_MIN;
    for (const ReplaySeries& series : series_) {
      if (series.stream.size() == 0) continue;
      instruments.insert(series.instrument);
      first = std::min(first, series.stream.events().front().ts);
      last = std::max(last, series.stream.events().back().ts);
    }
    std::string text = description_ + " of " + std::to_string(instruments.size()) + " instrument" +
                       (instruments.size() == 1 ? "" : "s");
    if (!instruments.empty()) text += ", " + DateOf(first) + " .. " + DateOf(last);
    if (pacer_.speed() <= 0.0) return text + " as fast as possible";
    char speed[32];
    std::snprintf(speed, sizeof(speed), "%g", pacer_.speed());
    return text + " at " + speed + "x";
  }

 private:
  using HeapEntry = std::pair<int64_t, size_t>;  // (next event's ts, series index)
  std::vector<ReplaySeries> series_;
  std::priority_queue<HeapEntry, std::vector<HeapEntry>, std::greater<>> heap_;
  Pacer pacer_;
  std::string description_;
};

bool ReplayOrder(const ReplaySeries& a, const ReplaySeries& b) {
  const int rank_a = KindRank(a.key.kind), rank_b = KindRank(b.key.kind);
  if (rank_a != rank_b) return rank_a < rank_b;
  if (a.key.instrument != b.key.instrument) return a.key.instrument < b.key.instrument;
  return a.key.timeframe < b.key.timeframe;
}

bool Contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// Orders timeframes by duration; names that do not parse sort last, by name.
bool ShorterTimeframe(const std::string& a, const std::string& b) {
  auto da = ParseDuration(a), db = ParseDuration(b);
  if (da.ok() != db.ok()) return da.ok();
  if (da.ok() && *da != *db) return *da < *db;
  return a < b;
}

// The stored series the options select; NotFound for a listed instrument with no data.
Result<std::vector<SeriesKey>> SelectSeries(Store& store, const StoreReplayOptions& options) {
  VIGIL_ASSIGN_OR_RETURN(std::vector<SeriesKey> stored, store.ListSeries());
  std::set<std::string> stored_instruments;
  for (const SeriesKey& key : stored) stored_instruments.insert(key.instrument.ToString());
  for (const std::string& instrument : options.instruments) {
    if (!stored_instruments.contains(instrument)) {
      return NotFound("store replay: instrument '" + instrument + "' has no stored data");
    }
  }
  // Each instrument's candle timeframe: the one asked for, else its shortest.
  std::map<std::string, std::string> timeframe_of;
  for (const SeriesKey& key : stored) {
    if (key.kind != DataKind::kCandles) continue;
    std::string& chosen = timeframe_of[key.instrument.ToString()];
    if (chosen.empty() || ShorterTimeframe(key.timeframe, chosen)) chosen = key.timeframe;
  }
  std::vector<SeriesKey> selected;
  for (const SeriesKey& key : stored) {
    const std::string instrument = key.instrument.ToString();
    if (!options.instruments.empty() && !Contains(options.instruments, instrument)) continue;
    if (!options.kinds.empty() &&
        std::find(options.kinds.begin(), options.kinds.end(), key.kind) == options.kinds.end()) {
      continue;
    }
    if (key.kind == DataKind::kCandles) {
      const std::string& wanted =
          options.timeframe.empty() ? timeframe_of[instrument] : options.timeframe;
      if (key.timeframe != wanted) continue;
    }
    selected.push_back(key);
  }
  return selected;
}

void LogRejects(const ParsedFile& parsed) {
  // Enough to find the problem without flooding the log with a badly broken file.
  constexpr size_t kRejectsLogged = 10;
  for (size_t i = 0; i < parsed.rejects.size() && i < kRejectsLogged; ++i) {
    VIGIL_LOG_WARN("file replay: skipped {}", parsed.rejects[i].ToString());
  }
  if (parsed.rejects.size() > kRejectsLogged) {
    VIGIL_LOG_WARN("file replay: skipped {} more rejected rows of {}",
                   parsed.rejects.size() - kRejectsLogged, parsed.path);
  }
}

Result<ParsedFile> ReadSourceFile(const FileSourceSpec& spec) {
  ReadOptions read_options;
  read_options.kind = spec.kind;
  VIGIL_ASSIGN_OR_RETURN(read_options.format, ParseFileFormat(spec.format));
  read_options.venue = spec.venue;
  read_options.symbol = spec.symbol;
  read_options.timeframe = spec.timeframe;
  VIGIL_RETURN_IF_ERROR(ValidateReadOptions(read_options));
  MarketFileReader reader(read_options);
  return reader.Read(spec.path);
}

}  // namespace

Status PaceOptions::Validate() const {
  if (!std::isfinite(speed) || speed < 0.0) {
    return InvalidArgument("speed: must be 0 (as fast as possible) or a positive number, got " +
                           std::to_string(speed));
  }
  return Status::Ok();
}

Result<std::unique_ptr<MarketSource>> OpenBatchReplay(std::vector<RecordBatch> batches,
                                                      PaceOptions pace, std::string description) {
  VIGIL_RETURN_IF_ERROR(pace.Validate());
  std::vector<ReplaySeries> series;
  series.reserve(batches.size());
  for (RecordBatch& batch : batches) {
    auto stream = EventStream::FromFrame(batch.series.kind, batch.frame);
    if (!stream.ok()) return stream.status().WithContext(batch.series.ToString());
    series.push_back(ReplaySeries{batch.series, batch.series.instrument.ToString(),
                                  std::move(stream).value(), 0});
    batch.frame = Frame();  // the events hold their own copy; free the rows early
  }
  // Stable: batches of one series keep their given order at equal timestamps.
  std::stable_sort(series.begin(), series.end(), ReplayOrder);
  return std::unique_ptr<MarketSource>(
      new BatchReplay(std::move(series), std::move(pace), std::move(description)));
}

Result<std::unique_ptr<MarketSource>> OpenSimulatorSource(const SimulationOptions& options,
                                                          PaceOptions pace,
                                                          std::vector<SimulatedEvent>* events_out) {
  VIGIL_RETURN_IF_ERROR(pace.Validate());
  auto market = Simulate(options);
  if (!market.ok()) return market.status().WithContext("simulator source");
  if (events_out != nullptr) *events_out = std::move(market->events);
  return OpenBatchReplay(std::move(market->batches), std::move(pace), "simulator");
}

Result<std::unique_ptr<MarketSource>> OpenStoreReplay(Store& store,
                                                      const StoreReplayOptions& options) {
  VIGIL_RETURN_IF_ERROR(options.pace.Validate());
  if (options.from >= options.to) {
    return InvalidArgument("store replay: from (" + options.from.ToIso() + ") must be before to (" +
                           options.to.ToIso() + ")");
  }
  VIGIL_ASSIGN_OR_RETURN(std::vector<SeriesKey> selected, SelectSeries(store, options));
  std::vector<RecordBatch> batches;
  for (const SeriesKey& key : selected) {
    auto frame = store.Query(key, options.from, options.to);
    if (!frame.ok()) return frame.status().WithContext("store replay: " + key.ToString());
    if (frame->empty()) continue;
    batches.push_back(RecordBatch{key, std::move(frame).value(), {}});
  }
  if (batches.empty()) {
    return NotFound("store replay: no stored rows match the instruments, kinds and time range");
  }
  return OpenBatchReplay(std::move(batches), options.pace, "store replay");
}

Result<std::unique_ptr<MarketSource>> OpenFileReplay(const std::vector<FileSourceSpec>& files,
                                                     PaceOptions pace) {
  VIGIL_RETURN_IF_ERROR(pace.Validate());
  if (files.empty()) return InvalidArgument("file replay: files: no file given");
  std::vector<RecordBatch> batches;
  for (size_t index = 0; index < files.size(); ++index) {
    auto parsed = ReadSourceFile(files[index]);
    if (!parsed.ok()) return parsed.status().WithContext("file replay: " + files[index].path);
    LogRejects(*parsed);
    for (RecordBatch& batch : parsed->batches) batches.push_back(std::move(batch));
  }
  return OpenBatchReplay(std::move(batches), std::move(pace), "file replay");
}

}  // namespace vigil
