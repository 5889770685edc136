#include "features/event_test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "vigil/core/rng.h"
#include "vigil/features/catalogue.h"

namespace vigil::testing_util {
namespace {

bool SameBits(double a, double b) {
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b) ||
         (std::isnan(a) && std::isnan(b));
}

void ExpectRowsIdentical(const std::vector<std::vector<double>>& want,
                         const std::vector<std::vector<double>>& got, const EventKernel& kernel,
                         const std::string& what) {
  ASSERT_EQ(want.size(), got.size()) << what;
  int failures = 0;
  for (size_t row = 0; row < want.size() && failures < 5; ++row) {
    for (size_t c = 0; c < want[row].size(); ++c) {
      if (!SameBits(want[row][c], got[row][c])) {
        ++failures;
        ADD_FAILURE() << what << ": " << kernel.output_names()[c] << " row " << row << ": "
                      << want[row][c] << " vs " << got[row][c];
      }
    }
  }
}

}  // namespace

std::vector<EventStream> TruncateAt(const std::vector<const EventStream*>& inputs, int64_t cut) {
  std::vector<EventStream> out;
  for (const EventStream* input : inputs) {
    if (input == nullptr) {
      out.emplace_back();
      continue;
    }
    const auto events = input->events();
    const auto end = std::upper_bound(events.begin(), events.end(), cut,
                                      [](int64_t t, const Event& e) { return t < e.ts; });
    out.push_back(input->Prefix(static_cast<size_t>(end - events.begin())));
  }
  return out;
}

EventStream LoadSharedEvents(DataKind kind, const std::string& relative_path, FileFormat format) {
  ReadOptions options;
  options.kind = kind;
  options.format = format;
  options.venue = "test";
  options.symbol = "TEST";  // one series per file, whatever its content says
  MarketFileReader reader(options);
  auto parsed = reader.Read(std::string(VIGIL_SHARED_DATA) + "/" + relative_path);
  if (!parsed.ok()) {
    ADD_FAILURE() << relative_path << ": " << parsed.status().ToString();
    return {};
  }
  for (const RecordBatch& batch : parsed->batches) {
    if (batch.series.kind != kind) continue;
    Frame frame = batch.frame;
    frame.SortByTime();
    auto stream = EventStream::FromFrame(kind, frame);
    if (!stream.ok()) {
      ADD_FAILURE() << relative_path << ": " << stream.status().ToString();
      return {};
    }
    return std::move(*stream);
  }
  ADD_FAILURE() << relative_path << ": no " << KindName(kind) << " rows";
  return {};
}

EventStream MakeEvents(DataKind kind, const std::vector<std::vector<double>>& rows) {
  Frame frame = MakeFrame(SchemaOf(kind));
  const auto& specs = frame.columns();
  for (const std::vector<double>& row : rows) {
    std::vector<double> doubles;
    std::vector<int64_t> ints;
    for (size_t c = 0; c < specs.size(); ++c) {
      const double value = c + 1 < row.size() ? row[c + 1] : std::nan("");
      if (specs[c].type == ColumnType::kDouble) {
        doubles.push_back(value);
      } else {
        ints.push_back(std::isnan(value) ? kMissingInt : static_cast<int64_t>(value));
      }
    }
    frame.AppendRow(static_cast<int64_t>(row.at(0)), doubles, ints);
  }
  frame.SortByTime();
  auto stream = EventStream::FromFrame(kind, frame);
  EXPECT_TRUE(stream.ok()) << stream.status().ToString();
  return stream.ok() ? std::move(*stream) : EventStream();
}

void ExpectEventStreamingEqualsBatch(const EventKernel& kernel,
                                     const std::vector<const EventStream*>& inputs) {
  const std::vector<std::vector<double>> batch = RunOverInputs(kernel, inputs);
  // Streaming: merge by hand (same tie rule) and feed a kernel one event at a time.
  std::unique_ptr<EventKernel> live = kernel.Clone();
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<std::vector<double>> streamed;
    std::vector<size_t> next(inputs.size(), 0);
    while (true) {
      int best = -1;
      for (size_t step = 1; step <= inputs.size(); ++step) {
        const int i = static_cast<int>(step % inputs.size());
        if (inputs[i] == nullptr || next[i] >= inputs[i]->size()) continue;
        if (best < 0 || inputs[i]->events()[next[i]].ts < inputs[best]->events()[next[best]].ts) {
          best = i;
        }
      }
      if (best < 0) break;
      const Event& e = inputs[best]->events()[next[best]++];
      live->Observe(best, e);
      if (best == 0) {
        streamed.emplace_back(kernel.output_names().size());
        live->Emit(e.ts, streamed.back());
      }
    }
    ExpectRowsIdentical(batch, streamed, kernel, pass == 0 ? "streaming" : "after Reset()");
    live->Reset();
  }
}

void ExpectEventPointInTime(const EventKernel& kernel,
                            const std::vector<const EventStream*>& inputs, int cuts) {
  ASSERT_FALSE(inputs.empty());
  ASSERT_NE(inputs[0], nullptr);
  const auto driver = inputs[0]->events();
  if (driver.empty()) return;
  const std::vector<std::vector<double>> full = RunOverInputs(kernel, inputs);
  Rng rng(20261202);
  for (int i = 0; i < cuts; ++i) {
    const auto at = static_cast<size_t>(rng.UniformInt(0, static_cast<int64_t>(driver.size()) - 1));
    const int64_t cut = driver[at].ts;
    std::vector<EventStream> truncated = TruncateAt(inputs, cut);
    std::vector<const EventStream*> pointers;
    for (const EventStream& s : truncated) pointers.push_back(&s);
    const std::vector<std::vector<double>> partial = RunOverInputs(kernel, pointers);
    std::vector<std::vector<double>> prefix(full.begin(),
                                            full.begin() + static_cast<long>(partial.size()));
    ExpectRowsIdentical(prefix, partial, kernel, "truncated at " + std::to_string(cut));
  }
}

void ExpectCatalogueGroup(const std::string& group,
                          const std::map<std::string, std::vector<std::string>>& expected_outputs) {
  int in_group = 0;
  for (const FeatureInfo& info : FeatureCatalogue()) in_group += info.group == group;
  EXPECT_EQ(in_group, static_cast<int>(expected_outputs.size())) << group;
  for (const auto& [name, outputs] : expected_outputs) {
    SCOPED_TRACE(name);
    const FeatureInfo* info = FindFeature(name);
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->group, group);
    auto values = info->Resolve({});
    ASSERT_TRUE(values.ok()) << values.status().ToString();
    auto kernel = info->make(*values);
    ASSERT_TRUE(kernel.ok()) << kernel.status().ToString();
    EXPECT_EQ((*kernel)->output_names(), outputs);
    ASSERT_EQ((*kernel)->inputs().size(), 1u);
    EXPECT_EQ((*kernel)->inputs()[0].kind, info->kinds.at(0));
  }
}

std::vector<double> RunColumn(const EventKernel& kernel,
                              const std::vector<const EventStream*>& inputs,
                              const std::string& name) {
  const auto& names = kernel.output_names();
  const auto found = std::find(names.begin(), names.end(), name);
  if (found == names.end()) {
    ADD_FAILURE() << "no output " << name;
    return {};
  }
  const size_t column = static_cast<size_t>(found - names.begin());
  std::vector<double> out;
  for (const auto& row : RunOverInputs(kernel, inputs)) out.push_back(row[column]);
  return out;
}

}  // namespace vigil::testing_util
