// Internal to vigil_store: logic both backends share, so SQLite and PostgreSQL answer
// the Store contract identically.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vigil/store/store.h"

namespace vigil::store_internal {

// A summary line for a stored series with its missing-bar count: for regular kinds the
// bars a gapless series would have between first and last, minus the rows present; 0 for
// irregular kinds and for timeframes that are not a duration.
SeriesSummary MakeSummary(const SeriesKey& series, int64_t rows, Timestamp first, Timestamp last);

// Adds a rejects count for (instrument text, kind) to every matching summary (rejects carry
// no timeframe, so all timeframes of the instrument share it), or appends a rows-0 line
// when nothing of that instrument and kind is stored.
void MergeRejectCount(const std::string& instrument, DataKind kind, int64_t count,
                      std::vector<SeriesSummary>* summaries);

// Orders summaries by SeriesKey (venue, symbol, kind, timeframe), independent of any
// database collation.
void SortSummaries(std::vector<SeriesSummary>* summaries);

// InvalidArgument unless `frame` has exactly the kind's fields (names and types, in order)
// and consistent column lengths.
Status CheckFrameMatchesSchema(const Frame& frame, const KindSchema& schema);

// The first 80 characters of `sql` on one line, for error messages.
std::string SqlExcerpt(std::string_view sql);

}  // namespace vigil::store_internal
