#include "features/ta_test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <utility>

#include "vigil/data/reader.h"

namespace vigil::testing_util {
namespace {

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream stream(line);
  std::string field;
  while (std::getline(stream, field, ',')) fields.push_back(field);
  return fields;
}

double ParseNumber(const std::string& text) {
  return text == "NaN" ? std::nan("") : std::stod(text);
}

// A fixture CSV under tests/testdata/features: timestamp, OHLCV, then one column per output.
TtrFixture LoadTtrc(const std::string& file_name) {
  TtrFixture fixture;
  std::ifstream in(std::string(VIGIL_TEST_DATA) + "/features/" + file_name);
  EXPECT_TRUE(in.good()) << "missing tests/testdata/features/" << file_name;
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> header = SplitCsv(line);
  while (std::getline(in, line)) {
    const std::vector<std::string> fields = SplitCsv(line);
    if (fields.size() != header.size()) continue;
    auto ts = Timestamp::Parse(fields[0]);
    Bar bar{ts.ok() ? ts->nanos() : 0, ParseNumber(fields[1]), ParseNumber(fields[2]),
            ParseNumber(fields[3]),    ParseNumber(fields[4]), ParseNumber(fields[5])};
    fixture.bars.push_back(bar);
    for (size_t column = 6; column < header.size(); ++column) {
      fixture.expected[header[column]].push_back(ParseNumber(fields[column]));
    }
  }
  return fixture;
}

bool SameBits(double a, double b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  return std::memcmp(&a, &b, sizeof(double)) == 0;
}

std::vector<std::unique_ptr<FeatureKernel>> One(const FeatureKernel& kernel) {
  std::vector<std::unique_ptr<FeatureKernel>> kernels;
  kernels.push_back(kernel.Clone());
  return kernels;
}

}  // namespace

const TtrFixture& Ttrc() {
  static const TtrFixture fixture = LoadTtrc("ttrc_ta.csv");
  return fixture;
}

const TtrFixture& TtrcPrice() {
  static const TtrFixture fixture = LoadTtrc("ttrc_price.csv");
  return fixture;
}

std::vector<std::vector<double>> RunKernel(FeatureKernel& kernel, const std::vector<Bar>& bars) {
  std::vector<std::vector<double>> rows;
  for (const Bar& bar : bars) {
    std::vector<double> out(kernel.output_names().size());
    kernel.Update(bar, out);
    rows.push_back(out);
  }
  return rows;
}

std::vector<Bar> SharedCandles(const std::string& relative_path) {
  ReadOptions options;
  options.kind = DataKind::kCandles;
  options.venue = "test";
  options.symbol = "TEST";  // one series per file, whatever its name says
  MarketFileReader reader(options);
  auto parsed = reader.Read(std::string(VIGIL_SHARED_DATA) + "/" + relative_path);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  if (!parsed.ok() || parsed->batches.empty()) return {};
  auto bars = BarsFromCandles(parsed->batches[0].frame);
  EXPECT_TRUE(bars.ok());
  return bars.ok() ? *bars : std::vector<Bar>{};
}

std::optional<std::vector<Bar>> TrySharedCandles(const std::string& relative_path) {
  ReadOptions options;
  options.kind = DataKind::kCandles;
  options.venue = "test";
  options.symbol = "TEST";
  MarketFileReader reader(options);
  auto parsed = reader.Read(std::string(VIGIL_SHARED_DATA) + "/" + relative_path);
  if (!parsed.ok() || parsed->batches.empty()) return std::nullopt;
  auto bars = BarsFromCandles(parsed->batches[0].frame);
  if (!bars.ok()) return std::nullopt;
  return std::move(*bars);
}

void ExpectResetAndCloneStartFresh(FeatureKernel& kernel, const std::vector<Bar>& bars) {
  const auto first = RunKernel(kernel, bars);
  std::unique_ptr<FeatureKernel> clone = kernel.Clone();  // of a kernel with state
  EXPECT_EQ(clone->output_names(), kernel.output_names());
  const auto from_clone = RunKernel(*clone, bars);
  kernel.Reset();
  const auto after_reset = RunKernel(kernel, bars);
  for (size_t row = 0; row < bars.size(); ++row) {
    for (size_t column = 0; column < first[row].size(); ++column) {
      const double want = first[row][column];
      for (double got : {from_clone[row][column], after_reset[row][column]}) {
        if (std::isnan(want)) {
          EXPECT_TRUE(std::isnan(got)) << "row " << row;
        } else {
          EXPECT_EQ(got, want) << "row " << row;
        }
      }
    }
  }
}

void ExpectMatchesTtr(const FeatureKernel& kernel) { ExpectMatchesTtr(kernel, Ttrc()); }

void ExpectMatchesTtr(const FeatureKernel& kernel, const TtrFixture& fixture) {
  ASSERT_FALSE(fixture.bars.empty());
  Frame out = ComputeOverBars(One(kernel), fixture.bars);
  for (const std::string& name : kernel.output_names()) {
    auto expected = fixture.expected.find(name);
    ASSERT_NE(expected, fixture.expected.end()) << "no TTR column " << name;
    std::span<const double> actual = out.Doubles(name);
    ASSERT_EQ(actual.size(), expected->second.size());
    int mismatches = 0;
    for (size_t row = 0; row < actual.size() && mismatches < 5; ++row) {
      const double want = expected->second[row];
      const double got = actual[row];
      const bool ok = std::isnan(want)
                          ? std::isnan(got)
                          : std::fabs(got - want) <= 1e-9 * std::max(1.0, std::fabs(want));
      if (!ok) {
        ++mismatches;
        ADD_FAILURE() << name << " row " << row << ": Vigil " << got << ", TTR " << want;
      }
    }
  }
}

void ExpectStreamingEqualsBatch(const FeatureKernel& kernel, const std::vector<Bar>& bars) {
  Frame batch = ComputeOverBars(One(kernel), bars);
  std::unique_ptr<FeatureKernel> live = kernel.Clone();
  std::vector<double> out(kernel.output_names().size());
  for (size_t row = 0; row < bars.size(); ++row) {
    live->Update(bars[row], out);
    for (size_t column = 0; column < out.size(); ++column) {
      ASSERT_TRUE(SameBits(out[column], batch.DoublesAt(column)[row]))
          << kernel.output_names()[column] << " row " << row;
    }
  }
}

void ExpectPointInTime(const FeatureKernel& kernel, const std::vector<Bar>& bars, int cuts) {
  Frame full = ComputeOverBars(One(kernel), bars);
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<size_t> cut_at(1, bars.size());
  for (int cut = 0; cut < cuts; ++cut) {
    const size_t end = cut_at(rng);
    Frame partial = ComputeOverBars(One(kernel), std::span(bars).first(end));
    for (size_t column = 0; column < kernel.output_names().size(); ++column) {
      for (size_t row = 0; row < end; ++row) {
        ASSERT_TRUE(SameBits(partial.DoublesAt(column)[row], full.DoublesAt(column)[row]))
            << kernel.output_names()[column] << " row " << row << " cut at " << end;
      }
    }
  }
}

}  // namespace vigil::testing_util
