#include "vigil/core/config.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

constexpr const char* kYaml = R"(store:
  busy_timeout_ms: 2500
  url: sqlite:x.db
simulate:
  days: many
  seed: 7
features: [returns, volatility]
flag: yes
)";

TEST(ConfigTest, ReadsTypedValuesAndDefaults) {
  auto config = Config::LoadString(kYaml, "vigil.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(*config->GetInt("store.busy_timeout_ms", 0), 2500);
  EXPECT_EQ(*config->GetString("store.url", ""), "sqlite:x.db");
  EXPECT_EQ(*config->GetInt("simulate.seed", 0), 7);
  EXPECT_EQ(*config->GetDouble("missing.key", 1.5), 1.5);
  EXPECT_TRUE(*config->GetBool("flag", false));
  auto list = config->GetStringList("features");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 2u);
  EXPECT_TRUE(config->Has("store.url"));
  EXPECT_FALSE(config->Has("store.nope"));
  // Look-ups must not insert keys.
  EXPECT_FALSE(config->Has("store.nope"));
}

TEST(ConfigTest, ErrorsNameFileLineKeyAndValue) {
  auto config = Config::LoadString(kYaml, "vigil.yaml");
  ASSERT_TRUE(config.ok());
  auto days = config->GetInt("simulate.days", 7, 1, 3650);
  ASSERT_FALSE(days.ok());
  EXPECT_EQ(days.status().message(),
            "vigil.yaml:5: simulate.days: expected an integer in [1, 3650], got 'many'");
  auto bounded = config->GetInt("store.busy_timeout_ms", 0, 0, 1000);
  EXPECT_FALSE(bounded.ok());
  auto keys = config->CheckKeys("store", {"busy_timeout_ms"});
  ASSERT_FALSE(keys.ok());
  EXPECT_NE(keys.message().find("store.url: unknown key"), std::string::npos);
}

TEST(ConfigTest, SyntaxErrorsGiveLineAndColumn) {
  auto config = Config::LoadString("a: [1, 2\nb: 3\n", "bad.yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kParseError);
  EXPECT_EQ(config.status().message().rfind("bad.yaml:", 0), 0u);
  EXPECT_FALSE(Config::LoadFile("/nonexistent/vigil.yaml").ok());
  EXPECT_FALSE(Config::LoadString("- just\n- a list\n").ok());
}

}  // namespace
}  // namespace vigil
