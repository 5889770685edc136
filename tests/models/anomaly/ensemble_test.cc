// The "ensemble" detector (anomaly/ensemble.h): rank normalization, mean/max combination,
// members that fail at fit or score time, contributions, persistence with member
// subdirectories (directly and through the registry), configuration.
// Members here are zscore and ecod (always built) plus deliberately broken members, so the
// tests do not depend on which other kinds exist yet.
#include "vigil/models/anomaly/ensemble.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "anomaly_test_data.h"
#include "vigil/core/text_file.h"
#include "vigil/registry/registry.h"

namespace vigil {
namespace {

using namespace anomaly_test_data;  // NOLINT(google-build-using-namespace)

namespace fs = std::filesystem;

nlohmann::json Member(const std::string& kind, nlohmann::json params = nlohmann::json::object()) {
  return {{"kind", kind}, {"params", std::move(params)}};
}

// zscore (fraction contamination, as it requires) and ecod.
nlohmann::json TwoMembers() {
  return nlohmann::json::array({Member("zscore", {{"contamination", 0.05}}), Member("ecod")});
}

std::unique_ptr<Model> MustCreate(const nlohmann::json& config) {
  Result<std::unique_ptr<Model>> model = CreateModel("ensemble", config);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return model.ok() ? std::move(*model) : nullptr;
}

Ensemble& AsEnsemble(const std::unique_ptr<Model>& model) {
  return *static_cast<Ensemble*>(model.get());
}

TEST(EnsembleTest, NormalizedRankInterpolatesTheEmpiricalCdf) {
  const std::vector<double> points = {1, 2, 3, 4, 5};
  EXPECT_EQ(Ensemble::NormalizedRank(points, 0.0), 0.0);
  EXPECT_EQ(Ensemble::NormalizedRank(points, 1.0), 0.0);
  EXPECT_DOUBLE_EQ(Ensemble::NormalizedRank(points, 1.5), 0.125);
  EXPECT_DOUBLE_EQ(Ensemble::NormalizedRank(points, 3.0), 0.5);
  EXPECT_DOUBLE_EQ(Ensemble::NormalizedRank(points, 4.75), 0.9375);
  EXPECT_EQ(Ensemble::NormalizedRank(points, 5.0), 1.0);
  EXPECT_EQ(Ensemble::NormalizedRank(points, 50.0), 1.0);
  EXPECT_TRUE(std::isnan(Ensemble::NormalizedRank(points, std::nan(""))));
  // A run of ties ranks at its middle; between the run's end and the next point, linear.
  const std::vector<double> tied = {1, 2, 2, 2, 3};
  EXPECT_DOUBLE_EQ(Ensemble::NormalizedRank(tied, 2.0), 0.5);
  EXPECT_DOUBLE_EQ(Ensemble::NormalizedRank(tied, 2.5), 0.875);
  EXPECT_DOUBLE_EQ(Ensemble::NormalizedRank(tied, 1.5), 0.125);
  const std::vector<double> all_tied = {0, 0, 0};
  EXPECT_DOUBLE_EQ(Ensemble::NormalizedRank(all_tied, 0.0), 0.5);
  EXPECT_EQ(Ensemble::NormalizedRank(all_tied, -1.0), 0.0);
  EXPECT_EQ(Ensemble::NormalizedRank(all_tied, 1.0), 1.0);
  // Monotone.
  double previous = -1.0;
  for (double raw = 0.0; raw < 4.0; raw += 0.01) {
    const double rank = Ensemble::NormalizedRank(tied, raw);
    ASSERT_GE(rank, previous) << raw;
    previous = rank;
  }
}

TEST(EnsembleTest, KeepsAtMost1001QuantilePointsSpanningTheTrainingScores) {
  for (int64_t rows : {300, 5000}) {
    const FeatureMatrix train = NormalData(rows, 3, 1);
    auto model = MustCreate({{"members", TwoMembers()}});
    ASSERT_TRUE(AsAnomalyDetector(model.get())->Fit(train).ok());
    const Ensemble& ensemble = AsEnsemble(model);
    ASSERT_EQ(ensemble.fitted_member_count(), 2u);
    for (size_t m = 0; m < 2; ++m) {
      const std::vector<double>& q = ensemble.member_quantiles(m);
      EXPECT_EQ(q.size(), std::min<size_t>(rows, 1001)) << rows;
      EXPECT_TRUE(std::is_sorted(q.begin(), q.end()));
      Result<AnomalyScores> own = ensemble.member(m).Score(train);
      ASSERT_TRUE(own.ok());
      EXPECT_EQ(q.front(), *std::min_element(own->raw.begin(), own->raw.end()));
      EXPECT_EQ(q.back(), *std::max_element(own->raw.begin(), own->raw.end()));
      if (rows <= 1001) {
        std::vector<double> sorted = own->raw;
        std::sort(sorted.begin(), sorted.end());
        EXPECT_EQ(q, sorted);
      } else {
        EXPECT_NEAR(q[500], InterpolatedQuantile(own->raw, 0.5), 1e-12);
        EXPECT_NEAR(q[10], InterpolatedQuantile(own->raw, 0.01), 1e-12);
      }
    }
  }
}

TEST(EnsembleTest, RawScoreIsTheMeanOrMaxOfMemberRanks) {
  const FeatureMatrix train = NormalData(800, 3, 2);
  const FeatureMatrix test = NormalData(200, 3, 3);
  for (const std::string combine : {"mean", "max"}) {
    auto model = MustCreate({{"members", TwoMembers()}, {"combine", combine}});
    ASSERT_TRUE(AsAnomalyDetector(model.get())->Fit(train).ok());
    const Ensemble& ensemble = AsEnsemble(model);
    Result<AnomalyScores> scores = ensemble.Score(test);
    ASSERT_TRUE(scores.ok()) << scores.status().ToString();
    Result<AnomalyScores> a = ensemble.member(0).Score(test);
    Result<AnomalyScores> b = ensemble.member(1).Score(test);
    ASSERT_TRUE(a.ok() && b.ok());
    for (int64_t row = 0; row < test.rows; ++row) {
      const double ra = Ensemble::NormalizedRank(ensemble.member_quantiles(0), a->raw[row]);
      const double rb = Ensemble::NormalizedRank(ensemble.member_quantiles(1), b->raw[row]);
      const double expected = combine == "mean" ? (ra + rb) / 2 : std::max(ra, rb);
      ASSERT_DOUBLE_EQ(scores->raw[row], expected) << combine << " row " << row;
      ASSERT_GE(scores->raw[row], 0.0);
      ASSERT_LE(scores->raw[row], 1.0);
      ASSERT_EQ(scores->flag[row], scores->score[row] >= 80.0);
    }
  }
}

TEST(EnsembleTest, FitScoreEqualsScoringTheTrainingRowsForNoveltyEqualMembers) {
  const FeatureMatrix train = NormalData(500, 2, 4);
  auto model = MustCreate({{"members", TwoMembers()}, {"contamination", 0.03}});
  Result<AnomalyScores> in_sample = AsAnomalyDetector(model.get())->FitScore(train);
  ASSERT_TRUE(in_sample.ok()) << in_sample.status().ToString();
  Result<AnomalyScores> again = AsEnsemble(model).Score(train);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(in_sample->raw, again->raw);
  EXPECT_EQ(in_sample->flag, again->flag);
  EXPECT_EQ(in_sample->contributions, again->contributions);
  EXPECT_NEAR(std::count(in_sample->flag.begin(), in_sample->flag.end(), true), 15, 1);
}

TEST(EnsembleTest, InjectedAnomaliesAreFlaggedWithContributionsFromTheMembers) {
  const FeatureMatrix train = NormalData(2000, 4, 5);
  auto model = MustCreate({{"members", TwoMembers()}, {"contamination", 0.01}});
  ASSERT_TRUE(AsAnomalyDetector(model.get())->Fit(train).ok());
  const Ensemble& ensemble = AsEnsemble(model);
  FeatureMatrix test = NormalData(300, 4, 6);
  const std::vector<std::pair<int64_t, size_t>> injected = {{3, 2}, {150, 0}, {299, 3}};
  for (const auto& [row, col] : injected) test.values[row * 4 + col] = 9.0;
  Result<AnomalyScores> scores = ensemble.Score(test);
  ASSERT_TRUE(scores.ok());
  Result<std::vector<double>> za = ensemble.member(0).Contributions(test);
  Result<std::vector<double>> zb = ensemble.member(1).Contributions(test);
  Result<std::vector<double>> all = ensemble.Contributions(test);
  ASSERT_TRUE(za.ok() && zb.ok() && all.ok());
  for (const auto& [row, col] : injected) {
    EXPECT_TRUE(scores->flag[row]) << row;
    EXPECT_GT(scores->contributions[row * 4 + col], 0.5) << row;
  }
  for (int64_t row = 0; row < test.rows; ++row) {
    for (size_t c = 0; c < 4; ++c) {
      const size_t i = row * 4 + c;
      const double average = ((*za)[i] + (*zb)[i]) / 2;  // both rows already sum to 1
      ASSERT_NEAR((*all)[i], average, 1e-12) << row;
      ASSERT_EQ(scores->contributions[i], scores->flag[row] ? (*all)[i] : 0.0) << row;
    }
  }
}

TEST(EnsembleTest, MembersThatCannotBeCreatedOrFittedAreDroppedAndReported) {
  FeatureMatrix train = NormalData(300, 3, 7);
  train.values[10] = std::nan("");  // zscore accepts NaN, ecod does not
  auto model = MustCreate({{"members", nlohmann::json::array({
                                           Member("no_such_kind"),
                                           Member("zscore", {{"contamination", 0.05}}),
                                           Member("zscore", {{"contamination", 2.0}}),
                                           Member("logistic"),
                                           Member("ecod"),
                                       })}});
  ASSERT_TRUE(AsAnomalyDetector(model.get())->Fit(train).ok());
  const Ensemble& ensemble = AsEnsemble(model);
  ASSERT_EQ(ensemble.fitted_member_count(), 1u);
  EXPECT_EQ(ensemble.member_index(0), 1u);
  const nlohmann::json described = ensemble.Describe();
  ASSERT_EQ(described["members"].size(), 5u);
  const std::vector<std::string> statuses = {"failed", "fitted", "failed", "failed", "failed"};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(described["members"][i]["index"], i);
    EXPECT_EQ(described["members"][i]["status"], statuses[i]) << i;
  }
  EXPECT_NE(described["members"][0]["error"].get<std::string>().find("no_such_kind"),
            std::string::npos);
  EXPECT_NE(described["members"][3]["error"].get<std::string>().find("not an anomaly detector"),
            std::string::npos);
  EXPECT_NE(described["members"][4]["error"].get<std::string>().find("ecod"), std::string::npos);
  Result<AnomalyScores> scores = ensemble.Score(train);
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
}

TEST(EnsembleTest, EveryMemberFailingIsAnErrorNamingEach) {
  auto model = MustCreate(
      {{"members", nlohmann::json::array({Member("no_such_kind"), Member("logistic")})}});
  const Status status = AsAnomalyDetector(model.get())->Fit(NormalData(50, 2, 8));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("member 0 ('no_such_kind')"), std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find("member 1 ('logistic')"), std::string::npos) << status.message();
  EXPECT_FALSE(model->fitted());
}

TEST(EnsembleTest, AMemberFailingAtScoringTimeIsSkipped) {
  const FeatureMatrix train = NormalData(400, 3, 9);
  auto model = MustCreate({{"members", TwoMembers()}});
  ASSERT_TRUE(AsAnomalyDetector(model.get())->Fit(train).ok());
  const Ensemble& ensemble = AsEnsemble(model);
  FeatureMatrix test = NormalData(20, 3, 10);
  test.values[4] = std::nan("");  // ecod refuses NaN, zscore skips the feature
  Result<AnomalyScores> scores = ensemble.Score(test);
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  Result<AnomalyScores> zscore = ensemble.member(0).Score(test);
  ASSERT_TRUE(zscore.ok());
  for (int64_t row = 0; row < test.rows; ++row) {
    EXPECT_EQ(scores->raw[row],
              Ensemble::NormalizedRank(ensemble.member_quantiles(0), zscore->raw[row]));
  }
  Result<std::vector<double>> shares = ensemble.Contributions(test);
  ASSERT_TRUE(shares.ok());

  // Only ecod members: nothing can score.
  auto ecods = MustCreate({{"members", nlohmann::json::array({Member("ecod"), Member("ecod")})}});
  ASSERT_TRUE(AsAnomalyDetector(ecods.get())->Fit(train).ok());
  const Status status = AsEnsemble(ecods).Score(test).status();
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("member 1 ('ecod')"), std::string::npos) << status.message();
}

void ExpectSameScores(const AnomalyDetector& a, const AnomalyDetector& b, const FeatureMatrix& x) {
  Result<AnomalyScores> sa = a.Score(x), sb = b.Score(x);
  ASSERT_TRUE(sa.ok()) << sa.status().ToString();
  ASSERT_TRUE(sb.ok()) << sb.status().ToString();
  EXPECT_EQ(sa->raw, sb->raw);
  EXPECT_EQ(sa->score, sb->score);
  EXPECT_EQ(sa->flag, sb->flag);
  EXPECT_EQ(sa->contributions, sb->contributions);
}

TEST(EnsembleTest, SaveLoadRestoresScoresBitForBit) {
  const FeatureMatrix train = NormalData(1500, 3, 11);
  const FeatureMatrix test = NormalData(300, 3, 12);
  nlohmann::json members = TwoMembers();
  members.push_back(Member("no_such_kind"));
  auto model = MustCreate({{"members", members}, {"combine", "max"}, {"seed", 3}});
  ASSERT_TRUE(AsAnomalyDetector(model.get())->Fit(train).ok());
  const fs::path dir = FreshDir("ensemble", "roundtrip");
  ASSERT_TRUE(model->SaveWeights(dir).ok());
  EXPECT_TRUE(fs::exists(dir / "ensemble.json"));
  EXPECT_TRUE(fs::exists(dir / "member_0_zscore" / "zscore.json"));
  EXPECT_TRUE(fs::exists(dir / "member_1_ecod" / "ecod.json"));
  EXPECT_FALSE(fs::exists(dir / "member_2_no_such_kind"));

  auto loaded = MustCreate(model->config());
  ASSERT_TRUE(loaded->LoadWeights(dir).ok());
  ExpectSameScores(*AsAnomalyDetector(model.get()), *AsAnomalyDetector(loaded.get()), test);
  EXPECT_EQ(loaded->Describe(), model->Describe());
  EXPECT_EQ(loaded->feature_names(), train.columns);
}

TEST(EnsembleTest, RoundTripThroughTheRegistry) {
  const FeatureMatrix train = NormalData(600, 2, 13);
  auto model = MustCreate({{"members", TwoMembers()}});
  ASSERT_TRUE(AsAnomalyDetector(model.get())->Fit(train).ok());
  const fs::path dir = FreshDir("ensemble", "registry");
  Result<ModelRegistry> registry = ModelRegistry::Open(dir);
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  Manifest manifest;
  manifest.name = "ensemble_test";
  manifest.feature_set = {"default", "81f468742147cd7b", train.columns};
  ASSERT_TRUE(registry->Register(*model, manifest).ok());
  Result<LoadedModel> loaded = registry->Load("ensemble_test@latest");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->manifest.kind, "ensemble");
  ExpectSameScores(*AsAnomalyDetector(model.get()), *AsAnomalyDetector(loaded->model.get()),
                   NormalData(100, 2, 14));
}

TEST(EnsembleTest, CorruptWeightsFailWithDataError) {
  auto model = MustCreate({{"members", TwoMembers()}});
  ASSERT_TRUE(AsAnomalyDetector(model.get())->Fit(NormalData(100, 2, 15)).ok());
  const fs::path dir = FreshDir("ensemble", "corrupt");
  ASSERT_TRUE(model->SaveWeights(dir).ok());
  const std::string path = (dir / "ensemble.json").string();
  const nlohmann::json doc = nlohmann::json::parse(*ReadFileToString(path));
  auto expect_error = [&](const nlohmann::json& bad, const std::string& what) {
    ASSERT_TRUE(WriteFileAtomically(path, bad.dump()).ok());
    auto reloaded = MustCreate(model->config());
    const Status status = reloaded->LoadWeights(dir);
    EXPECT_EQ(status.code(), StatusCode::kDataError) << what << ": " << status.ToString();
    EXPECT_NE(status.message().find("ensemble.json"), std::string::npos) << status.message();
    EXPECT_FALSE(reloaded->fitted());
  };
  nlohmann::json unsorted = doc;
  unsorted["members"][0]["quantiles"][0] = 1e9;
  expect_error(unsorted, "unsorted quantiles");
  nlohmann::json wrong_kind = doc;
  wrong_kind["members"][1]["kind"] = "zscore";
  expect_error(wrong_kind, "kind differs from the configuration");
  nlohmann::json no_members = doc;
  no_members["members"] = nlohmann::json::array();
  expect_error(no_members, "no member");
  nlohmann::json bad_calibration = doc;
  bad_calibration["calibration"].erase("lo");
  expect_error(bad_calibration, "calibration");
  // A member's own weight file is checked by the member.
  ASSERT_TRUE(WriteFileAtomically(path, doc.dump()).ok());
  ASSERT_TRUE(WriteFileAtomically((dir / "member_1_ecod" / "ecod.json").string(), "[]").ok());
  const Status member_status = MustCreate(model->config())->LoadWeights(dir);
  EXPECT_EQ(member_status.code(), StatusCode::kDataError) << member_status.ToString();
  EXPECT_NE(member_status.message().find("member_1_ecod"), std::string::npos);
}

TEST(EnsembleTest, Configuration) {
  auto defaults = MustCreate(nullptr);
  const nlohmann::json config = defaults->config();
  ASSERT_EQ(config["members"].size(), 3u);
  EXPECT_EQ(config["members"][0]["kind"], "isolation_forest");
  EXPECT_EQ(config["members"][1]["kind"], "lof");
  EXPECT_EQ(config["members"][2]["kind"], "ecod");
  EXPECT_EQ(config["combine"], "mean");
  EXPECT_EQ(config["contamination"], "auto");
  EXPECT_TRUE(config["seed"].is_null());
  EXPECT_EQ(MustCreate(config)->config(), config);

  for (const nlohmann::json& bad : {
           nlohmann::json{{"members", nlohmann::json::array({Member("ensemble")})}},
           nlohmann::json{{"members", nlohmann::json::array()}},
           nlohmann::json{{"members", "ecod"}},
           nlohmann::json{{"members", nlohmann::json::array({{{"kind", "ecod"}, {"x", 1}}})}},
           nlohmann::json{{"members", nlohmann::json::array({{{"params", {}}}})}},
           nlohmann::json{{"members", nlohmann::json::array({Member("ecod", 3)})}},
           nlohmann::json{{"combine", "median"}},
           nlohmann::json{{"seed", -1}},
           nlohmann::json{{"contamination", 0.7}},
           nlohmann::json{{"weights", {1, 2}}},
       }) {
    Result<std::unique_ptr<Model>> model = CreateModel("ensemble", bad);
    EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument) << bad.dump();
    if (!model.ok()) {
      EXPECT_NE(model.status().message().find("ensemble"), std::string::npos);
    }
  }
}

TEST(EnsembleTest, SeedGoesToSeededKindsWithoutOne) {
  EXPECT_EQ(ParamsWithSeed("isolation_forest", nlohmann::json::object(), 5),
            (nlohmann::json{{"seed", 5}}));
  EXPECT_EQ(ParamsWithSeed("extended_iforest", {{"seed", 1}}, 5), (nlohmann::json{{"seed", 1}}));
  EXPECT_EQ(ParamsWithSeed("autoencoder", nullptr, 5), (nlohmann::json{{"seed", 5}}));
  EXPECT_EQ(ParamsWithSeed("ecod", nlohmann::json::object(), 5), nlohmann::json::object());
  EXPECT_EQ(ParamsWithSeed("isolation_forest", nlohmann::json::object(), std::nullopt),
            nlohmann::json::object());
  // The ensemble records the effective params: ecod gets no seed.
  auto model = MustCreate({{"members", TwoMembers()}, {"seed", 9}});
  ASSERT_TRUE(AsAnomalyDetector(model.get())->Fit(NormalData(50, 2, 16)).ok());
  const nlohmann::json described = model->Describe();  // the loop must not outlive it
  for (const auto& member : described["members"]) {
    EXPECT_FALSE(member["params"].contains("seed")) << member.dump();
  }
}

TEST(EnsembleTest, DefaultMembersFitWithWhateverKindsAreAvailable) {
  // ecod is always available, so the default ensemble fits even while other kinds are not.
  auto model = MustCreate(nullptr);
  const FeatureMatrix train = NormalData(300, 3, 17);
  ASSERT_TRUE(AsAnomalyDetector(model.get())->Fit(train).ok());
  EXPECT_GE(AsEnsemble(model).fitted_member_count(), 1u);
  Result<AnomalyScores> scores = AsAnomalyDetector(model.get())->Score(train);
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
}

TEST(EnsembleTest, UnfittedAndMismatchedInputsFail) {
  auto model = MustCreate({{"members", TwoMembers()}});
  const FeatureMatrix train = NormalData(50, 2, 18);
  EXPECT_EQ(AsAnomalyDetector(model.get())->Score(train).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(model->SaveWeights(FreshDir("ensemble", "unfitted")).code(),
            StatusCode::kFailedPrecondition);
  ASSERT_TRUE(AsAnomalyDetector(model.get())->Fit(train).ok());
  FeatureMatrix renamed = train;
  renamed.columns[0] = "other";
  EXPECT_EQ(AsAnomalyDetector(model.get())->Score(renamed).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vigil
