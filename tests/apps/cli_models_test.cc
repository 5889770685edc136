// The `vigil models` contract: list (--json: [{"name","versions","aliases"}]), show
// NAME[@VERSION|@ALIAS] (--json: the manifest), promote NAME VERSION [--alias A], rollback
// NAME, delete NAME@VERSION (refused while aliased), purge NAME --keep N. Versions are
// registered through the registry library into the sandbox's home, as a trainer would.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "apps/cli_runner.h"
#include "registry/test_model.h"
#include "vigil/registry/registry.h"

namespace vigil::cli_test {
namespace {

constexpr int kExitUsage = 2;

void RegisterVersions(const CliSandbox& sandbox, const std::string& name, int count) {
  ASSERT_TRUE(testing_util::RegisterTestKind().ok());
  auto registry = ModelRegistry::Open(sandbox.home() / "models");
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  for (int i = 0; i < count; ++i) {
    testing_util::ThresholdModel model(0);
    model.set_threshold(i);
    Manifest manifest;
    manifest.name = name;
    manifest.feature_set = {"default", "81f468742147cd7b", {"f0"}};
    manifest.metrics = {{"pr_auc", 0.1 * i}};
    ASSERT_TRUE(registry->Register(model, manifest).ok());
  }
}

TEST(CliModelsTest, PromoteRollbackDeleteAndPurge) {
  CliSandbox sandbox;
  RegisterVersions(sandbox, "liq", 3);

  CliRun list = sandbox.Vigil({"--json", "models", "list"});
  ASSERT_EQ(list.exit_code, 0) << list;
  EXPECT_EQ(ParseJson(list.out),
            nlohmann::ordered_json::parse(
                R"([{"name":"liq","versions":[1,2,3],"aliases":{"latest":3}}])"));

  ASSERT_EQ(sandbox.Vigil({"models", "promote", "liq", "1"}).exit_code, 0);
  CliRun promote = sandbox.Vigil({"models", "promote", "liq", "2"});
  ASSERT_EQ(promote.exit_code, 0) << promote;
  EXPECT_EQ(promote.out, "liq@production -> 2\n");
  ASSERT_EQ(sandbox.Vigil({"models", "promote", "liq", "3", "--alias", "staging"}).exit_code, 0);
  list = sandbox.Vigil({"--json", "models", "list"});
  EXPECT_EQ(ParseJson(list.out)[0]["aliases"],
            nlohmann::ordered_json::parse(R"({"latest":3,"production":2,"staging":3})"));

  CliRun rollback = sandbox.Vigil({"--json", "models", "rollback", "liq"});
  ASSERT_EQ(rollback.exit_code, 0) << rollback;
  EXPECT_EQ(ParseJson(rollback.out)["version"], 1);
  CliRun again = sandbox.Vigil({"models", "rollback", "liq"});
  EXPECT_EQ(again.exit_code, kExitUsage) << again;
  EXPECT_NE(again.err.find("no earlier version"), std::string::npos) << again;

  CliRun refused = sandbox.Vigil({"models", "delete", "liq@1"});
  EXPECT_EQ(refused.exit_code, kExitUsage) << refused;
  EXPECT_NE(refused.err.find("production"), std::string::npos) << refused;
  ASSERT_EQ(sandbox.Vigil({"models", "delete", "liq@2"}).exit_code, 0);

  RegisterVersions(sandbox, "liq", 2);  // versions 4 and 5 (2 is never reused)
  CliRun purge = sandbox.Vigil({"--json", "models", "purge", "liq", "--keep", "1"});
  ASSERT_EQ(purge.exit_code, 0) << purge;
  EXPECT_EQ(ParseJson(purge.out)["deleted"], nlohmann::ordered_json::parse("[4]"));
  list = sandbox.Vigil({"--json", "models", "list"});
  EXPECT_EQ(ParseJson(list.out)[0]["versions"], nlohmann::ordered_json::parse("[1,3,5]"));

  // The store's model_versions mirrors the files after every change, and sync rebuilds it.
  CliRun sync = sandbox.Vigil({"--json", "models", "sync"});
  ASSERT_EQ(sync.exit_code, 0) << sync;
  EXPECT_EQ(ParseJson(sync.out)["versions"], 3);

  CliRun show = sandbox.Vigil({"--json", "models", "show", "liq@production"});
  ASSERT_EQ(show.exit_code, 0) << show;
  const auto manifest = ParseJson(show.out);
  EXPECT_EQ(manifest["name"], "liq");
  EXPECT_EQ(manifest["version"], 1);
  EXPECT_EQ(manifest["kind"], "test_threshold");
  EXPECT_EQ(manifest["feature_set"]["spec_hash"], "81f468742147cd7b");
}

TEST(CliModelsTest, BadReferencesExitTwoWithAMessage) {
  CliSandbox sandbox;
  RegisterVersions(sandbox, "liq", 1);
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"models", "show", "nope"}, "nope"},
      {{"models", "show", "liq@7"}, "no version 7"},
      {{"models", "show", "liq@canary"}, "canary"},
      {{"models", "promote", "liq", "9"}, "no version 9"},
      {{"models", "delete", "liq"}, "NAME@VERSION"},
      {{"models", "delete", "liq@x"}, "NAME@VERSION"},
      {{"models", "purge", "liq"}, "--keep"},
      {{"models"}, ""},
  };
  for (const auto& [args, mention] : cases) {
    CliRun run = sandbox.Vigil(args);
    EXPECT_EQ(run.exit_code, kExitUsage) << run;
    EXPECT_NE(run.err.find(mention), std::string::npos) << run;
  }
  CliRun empty = CliSandbox().Vigil({"models", "list"});
  EXPECT_EQ(empty.exit_code, 0);
  EXPECT_NE(empty.out.find("no models yet"), std::string::npos);
}

}  // namespace
}  // namespace vigil::cli_test
