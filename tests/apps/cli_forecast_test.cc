// The `vigil forecast` contract: the --json objects of arima, auto_arima and garch (keys and
// their order exactly), --column, input errors naming the line and column, series from the
// store (candle fields and prediction scores with --every) and --evaluate.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "apps/cli_runner.h"
#include "vigil/store/store.h"

namespace vigil::cli_test {
namespace {

constexpr int kExitUsage = 2;
using Keys = std::vector<std::string>;
const Keys kArimaKeys = {"model", "order", "coefficients", "sigma2", "loglik",     "aic",
                         "aicc",  "bic",   "forecast",     "se",     "fit_seconds"};
const Keys kGarchKeys = {"model", "coefficients", "se",         "loglik", "variance_forecast",
                         "var",   "es",           "fit_seconds"};

class CliForecastTest : public ::testing::Test {
 protected:
  // Copies tests/testdata/forecast_cli/<name> into the sandbox; returns the relative name.
  std::string Input(const std::string& name) const {
    std::filesystem::copy_file(std::filesystem::path(VIGIL_TEST_DATA) / "forecast_cli" / name,
                               sandbox_.dir() / name,
                               std::filesystem::copy_options::overwrite_existing);
    return name;
  }
  CliRun Forecast(std::vector<std::string> args) const {
    args.insert(args.begin(), "forecast");
    return sandbox_.Vigil(args);
  }
  CliRun ForecastJson(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--json", "forecast"});
    return sandbox_.Vigil(args);
  }
  CliSandbox sandbox_;
};

void ExpectFiniteVector(const nlohmann::ordered_json& values, size_t size) {
  ASSERT_TRUE(values.is_array());
  ASSERT_EQ(values.size(), size);
  for (const auto& value : values) EXPECT_TRUE(value.is_number()) << values;
}

TEST_F(CliForecastTest, ArimaJsonHasTheContractKeysInOrder) {
  const std::string input = Input("ar1.csv");
  CliRun run =
      ForecastJson({"--input", input, "--model", "arima", "--order", "1,0,1", "--horizon", "6"});
  ASSERT_EQ(run.exit_code, 0) << run;
  const auto json = ParseJson(run.out);
  EXPECT_EQ(JsonKeys(json), kArimaKeys);
  EXPECT_EQ(json["model"], "arima");
  EXPECT_EQ(json["order"], nlohmann::ordered_json::parse("[1,0,1]"));
  EXPECT_EQ(JsonKeys(json["coefficients"]), (Keys{"ar1", "ma1", "intercept"}));
  ExpectFiniteVector(json["forecast"], 6);
  ExpectFiniteVector(json["se"], 6);
  for (size_t h = 1; h < 6; ++h) {
    EXPECT_GE(json["se"][h].get<double>(), json["se"][h - 1].get<double>()) << h;
  }
  EXPECT_TRUE(json["fit_seconds"].is_number());
  // The AR(1) around 10 of ar1.csv: the intercept is its mean.
  EXPECT_NEAR(json["coefficients"]["intercept"].get<double>(), 10.0, 0.5);
}

TEST_F(CliForecastTest, CssHasNoInformationCriteriaAndDriftIsNamed) {
  const std::string input = Input("ar1.csv");
  CliRun css =
      ForecastJson({"--input", input, "--model", "arima", "--method", "css", "--horizon", "2"});
  ASSERT_EQ(css.exit_code, 0) << css;
  const auto json = ParseJson(css.out);
  EXPECT_TRUE(json["aic"].is_null()) << css.out;
  EXPECT_TRUE(json["bic"].is_null());
  EXPECT_TRUE(json["loglik"].is_number());
  CliRun drift =
      ForecastJson({"--input", input, "--model", "arima", "--order", "0,1,1", "--horizon", "2"});
  ASSERT_EQ(drift.exit_code, 0) << drift;
  EXPECT_EQ(JsonKeys(ParseJson(drift.out)["coefficients"]), (Keys{"ma1", "drift"}));
  CliRun plain = ForecastJson({"--input", input, "--model", "arima", "--order", "0,1,1",
                               "--no-constant", "--horizon", "2"});
  ASSERT_EQ(plain.exit_code, 0) << plain;
  EXPECT_EQ(JsonKeys(ParseJson(plain.out)["coefficients"]), (Keys{"ma1"}));
}

TEST_F(CliForecastTest, AutoArimaJsonHasTheArimaShape) {
  CliRun run =
      ForecastJson({"--input", Input("ar1.csv"), "--model", "auto_arima", "--horizon", "4"});
  ASSERT_EQ(run.exit_code, 0) << run;
  const auto json = ParseJson(run.out);
  EXPECT_EQ(JsonKeys(json), kArimaKeys);
  EXPECT_EQ(json["model"], "auto_arima");
  ExpectFiniteVector(json["order"], 3);
  ExpectFiniteVector(json["forecast"], 4);
}

TEST_F(CliForecastTest, GarchJsonHasTheContractKeysInOrder) {
  CliRun run = ForecastJson(
      {"--input", Input("returns.csv"), "--model", "garch", "--dist", "t", "--horizon", "5"});
  ASSERT_EQ(run.exit_code, 0) << run;
  const auto json = ParseJson(run.out);
  EXPECT_EQ(JsonKeys(json), kGarchKeys);
  EXPECT_EQ(JsonKeys(json["coefficients"]), (Keys{"mu", "omega", "alpha1", "beta1", "shape"}));
  EXPECT_EQ(JsonKeys(json["se"]), JsonKeys(json["coefficients"]));
  ExpectFiniteVector(json["variance_forecast"], 5);
  EXPECT_EQ(JsonKeys(json["var"]), (Keys{"95", "99"}));
  EXPECT_EQ(JsonKeys(json["es"]), (Keys{"95", "99"}));
  EXPECT_GT(json["var"]["99"].get<double>(), json["var"]["95"].get<double>());
  EXPECT_GT(json["es"]["95"].get<double>(), json["var"]["95"].get<double>());
}

TEST_F(CliForecastTest, HumanOutputHasTheFitAndATimedTable) {
  CliRun run = Forecast(
      {"--input", Input("ar1.csv"), "--model", "arima", "--horizon", "3", "--level", "90"});
  ASSERT_EQ(run.exit_code, 0) << run;
  EXPECT_NE(run.out.find("ARIMA(1,0,0) with intercept, method css-ml"), std::string::npos) << run;
  EXPECT_NE(run.out.find("lo90"), std::string::npos) << run;
  // ar1.csv ends at 2024-01-07T05:00 hourly: the third step is 08:00.
  EXPECT_NE(run.out.find("2024-01-07T08:00:00"), std::string::npos) << run;
}

TEST_F(CliForecastTest, ColumnChoiceAndUnknownColumn) {
  const std::string input = Input("two_columns.csv");
  CliRun ambiguous = Forecast({"--input", input, "--model", "arima", "--horizon", "2"});
  EXPECT_EQ(ambiguous.exit_code, kExitUsage) << ambiguous;
  EXPECT_NE(ambiguous.err.find("close, volume"), std::string::npos) << ambiguous;
  CliRun unknown =
      Forecast({"--input", input, "--column", "open", "--model", "arima", "--horizon", "2"});
  EXPECT_EQ(unknown.exit_code, kExitUsage) << unknown;
  EXPECT_EQ(unknown.err.rfind("vigil: ", 0), 0u) << unknown;
  EXPECT_NE(unknown.err.find("no column 'open' (columns: timestamp, close, volume)"),
            std::string::npos)
      << unknown;
  CliRun chosen = ForecastJson({"--input", input, "--column", "close", "--model", "arima",
                                "--transform", "log", "--horizon", "2"});
  EXPECT_EQ(chosen.exit_code, 0) << chosen;
}

TEST_F(CliForecastTest, BadCellNamesTheFileLineAndColumn) {
  CliRun run = Forecast({"--input", Input("bad_cell.csv"), "--model", "arima", "--horizon", "2"});
  EXPECT_EQ(run.exit_code, kExitUsage) << run;
  EXPECT_EQ(run.err.rfind("vigil: ", 0), 0u) << run;
  EXPECT_NE(run.err.find("bad_cell.csv:5: column 'value': not a finite number: 'n/a'"),
            std::string::npos)
      << run;
  EXPECT_TRUE(run.out.empty()) << run;
}

TEST_F(CliForecastTest, OptionsOfAnotherModelAreRefused) {
  const std::string input = Input("ar1.csv");
  const std::vector<std::vector<std::string>> refused = {
      {"--input", input, "--model", "garch", "--order", "1,0,0", "--horizon", "2"},
      {"--input", input, "--model", "arima", "--spec", "gjr", "--horizon", "2"},
      {"--input", input, "--model", "auto_arima", "--order", "1,0,0", "--horizon", "2"},
      {"--input", input, "--model", "arima", "--order", "1,0", "--horizon", "2"},
      {"--input", input, "--model", "prophet", "--horizon", "2"},
      {"--input", input, "--model", "arima", "--horizon", "0"},
      {"--input", input, "--model", "arima"},
      {"--model", "arima", "--horizon", "2"},
      {"--input", input, "--model", "arima", "--horizon", "2", "--origins", "5"},
  };
  for (const auto& args : refused) {
    CliRun run = Forecast(args);
    EXPECT_EQ(run.exit_code, kExitUsage) << run;
  }
}

// A store with two simulated days and a minute-by-minute risk score of model "risk".
class CliForecastStoreTest : public CliForecastTest {
 protected:
  void SetUp() override {
    CliRun simulated =
        sandbox_.Vigil({"simulate", "--instruments", "1", "--days", "2", "--ingest"});
    ASSERT_EQ(simulated.exit_code, 0) << simulated;
    if (!sandbox_.uses_home_sqlite()) GTEST_SKIP() << "writes predictions to the home store";
    auto store = OpenStore("sqlite:" + (sandbox_.home() / "vigil.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    std::vector<PredictionRow> rows;
    const Timestamp start = Timestamp::FromSeconds(1'704'067'200);
    for (int minute = 0; minute < 2 * 24 * 60; ++minute) {
      PredictionRow row;
      row.model_name = "risk";
      row.model_version = 1;
      row.instrument = "sim:BTC-PERP";
      row.ts = start + minute * kNanosPerMinute;
      row.score = 50 + 20 * std::sin(minute / 90.0) + (minute % 7);
      row.created_at = row.ts;
      rows.push_back(row);
    }
    ASSERT_TRUE((*store)->WritePredictions(rows).ok());
  }
};

TEST_F(CliForecastStoreTest, RiskScoreForecastTwentyFourHoursAhead) {
  CliRun run = ForecastJson({"--instrument", "sim:BTC-PERP", "--field", "score:risk", "--every",
                             "1h", "--model", "arima", "--order", "1,0,0", "--horizon", "24"});
  ASSERT_EQ(run.exit_code, 0) << run;
  const auto json = ParseJson(run.out);
  EXPECT_EQ(JsonKeys(json), kArimaKeys);
  ExpectFiniteVector(json["forecast"], 24);
  CliRun missing = Forecast({"--instrument", "sim:BTC-PERP", "--field", "score:nobody", "--model",
                             "arima", "--horizon", "2"});
  EXPECT_EQ(missing.exit_code, kExitUsage) << missing;
  EXPECT_NE(missing.err.find("no predictions of model 'nobody'"), std::string::npos) << missing;
}

TEST_F(CliForecastStoreTest, CandleReturnsForGarchAndEvaluation) {
  CliRun garch = ForecastJson({"--instrument", "sim:BTC-PERP", "--field", "close", "--every", "15m",
                               "--transform", "log_return", "--model", "garch", "--horizon", "4"});
  ASSERT_EQ(garch.exit_code, 0) << garch;
  EXPECT_EQ(JsonKeys(ParseJson(garch.out)), kGarchKeys);

  CliRun evaluated =
      ForecastJson({"--instrument", "sim:BTC-PERP", "--field", "close", "--every", "1h",
                    "--transform", "log", "--model", "arima", "--order", "1,1,0", "--horizon", "3",
                    "--evaluate", "--origins", "5", "--refit-every", "2"});
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated;
  const auto json = ParseJson(evaluated.out);
  EXPECT_EQ(JsonKeys(json), (Keys{"series", "n", "horizon", "evaluation"}));
  const auto& methods = json["evaluation"]["methods"];
  ASSERT_EQ(methods.size(), 3u) << evaluated.out;
  EXPECT_EQ(methods[0]["name"], "arima");
  EXPECT_EQ(methods[1]["name"], "naive");
  EXPECT_EQ(methods[2]["name"], "drift");
  for (const auto& method : methods) {
    EXPECT_EQ(method["overall"]["forecasts"], 15) << method;
    EXPECT_TRUE(method["overall"]["mase"].is_number()) << method;
  }
  CliRun table = Forecast({"--instrument", "sim:BTC-PERP", "--field", "close", "--every", "1h",
                           "--model", "arima", "--horizon", "3", "--evaluate", "--origins", "5"});
  ASSERT_EQ(table.exit_code, 0) << table;
  EXPECT_NE(table.out.find("MASE"), std::string::npos) << table;
}

}  // namespace
}  // namespace vigil::cli_test
