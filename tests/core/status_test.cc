#include "vigil/core/status.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

Result<int> Half(int value) {
  if (value % 2 != 0) return InvalidArgument("odd value " + std::to_string(value));
  return value / 2;
}

Result<int> Quarter(int value) {
  VIGIL_ASSIGN_OR_RETURN(int half, Half(value));
  VIGIL_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

Status CheckPositive(int value) {
  if (value <= 0) return DataError("not positive");
  return Status::Ok();
}

Status CheckBoth(int a, int b) {
  VIGIL_RETURN_IF_ERROR(CheckPositive(a).WithContext("a"));
  VIGIL_RETURN_IF_ERROR(CheckPositive(b).WithContext("b"));
  return Status::Ok();
}

TEST(StatusTest, OkAndErrorsCarryCodeAndMessage) {
  EXPECT_TRUE(Status::Ok().ok());
  Status error = ParseError("file.csv:12: field 'close': not a number");
  EXPECT_FALSE(error.ok());
  EXPECT_EQ(error.code(), StatusCode::kParseError);
  EXPECT_EQ(error.ToString(), "parse error: file.csv:12: field 'close': not a number");
}

TEST(StatusTest, WithContextPrefixesOnlyErrors) {
  EXPECT_TRUE(Status::Ok().WithContext("ignored").ok());
  EXPECT_EQ(IoError("cannot open").WithContext("a.csv").message(), "a.csv: cannot open");
}

TEST(ResultTest, PropagatesThroughMacros) {
  EXPECT_EQ(*Quarter(12), 3);
  Result<int> bad = Quarter(6);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "odd value 3");
  EXPECT_EQ(bad.value_or(-1), -1);
  EXPECT_TRUE(CheckBoth(1, 2).ok());
  EXPECT_EQ(CheckBoth(1, -2).message(), "b: not positive");
}

}  // namespace
}  // namespace vigil
