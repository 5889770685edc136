// Field-level parsing shared by every text parser. These run once per value of every
// row, so they avoid allocation and locale-dependent routines (strtod): std::from_chars
// is exact (shortest round trip) and several times faster.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "data/readers/format_readers.h"

namespace vigil::data_internal {
namespace {

bool IsPadding(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '"'; }

std::string_view TrimValue(std::string_view text) {
  if (text.empty() || (!IsPadding(text.front()) && !IsPadding(text.back()))) return text;
  while (!text.empty() && IsPadding(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsPadding(text.back())) text.remove_suffix(1);
  return text;
}

char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsLower(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (LowerAscii(text[i]) != lower[i]) return false;
  }
  return true;
}

struct SideWord {
  std::string_view word;  // lower case
  int64_t side;
};
// "bid"/"ask" as Hyperliquid writes them ("Bid"/"Ask", "B"/"A"); "true"/"false" as an
// is-buyer flag.
constexpr SideWord kSideWords[] = {
    {"buy", kSideBuy},   {"b", kSideBuy},           {"bid", kSideBuy},    {"bids", kSideBuy},
    {"long", kSideBuy},  {"true", kSideBuy},        {"1", kSideBuy},      {"+1", kSideBuy},
    {"sell", kSideSell}, {"s", kSideSell},          {"ask", kSideSell},   {"asks", kSideSell},
    {"a", kSideSell},    {"short", kSideSell},      {"false", kSideSell}, {"-1", kSideSell},
    {"0", kSideUnknown}, {"unknown", kSideUnknown},
};

constexpr double kExactPowersOfTen[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                        1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                        1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
constexpr uint64_t kMaxExactMantissa = uint64_t{1} << 53;

// Clinger's fast path (W. D. Clinger, "How to Read Floating Point Numbers Accurately",
// PLDI 1990): when the decimal digits form an integer m <= 2^53 and there are k <= 22
// fraction digits, m and 10^k are exact doubles and one IEEE division rounds m / 10^k
// correctly. Market data is nearly all such plain decimals; anything else (exponents,
// long mantissas, nan/inf) returns false for from_chars to handle.
bool ParsePlainDecimal(std::string_view text, double* out) {
  const char* p = text.data();
  const char* end = p + text.size();
  const bool negative = *p == '-';
  p += negative;
  // Leading zeros ("0.000053") add no significant digits.
  while (p != end && *p == '0') ++p;
  const char* significant = p;
  uint64_t mantissa = 0;
  unsigned digit = 0;
  while (p != end && (digit = static_cast<unsigned char>(*p) - '0') <= 9) {
    mantissa = mantissa * 10 + digit;
    ++p;
  }
  ptrdiff_t significant_digits = p - significant;
  ptrdiff_t fraction_digits = 0;
  if (p != end && *p == '.') {
    const char* fraction = ++p;
    if (significant_digits == 0) {
      while (p != end && *p == '0') ++p;
    }
    const char* fraction_significant = p;
    while (p != end && (digit = static_cast<unsigned char>(*p) - '0') <= 9) {
      mantissa = mantissa * 10 + digit;
      ++p;
    }
    significant_digits += p - fraction_significant;
    fraction_digits = p - fraction;
  }
  // 19 digits cannot overflow uint64; the exactness bound 2^53 is checked after.
  constexpr ptrdiff_t kMaxDigits = 19;
  constexpr ptrdiff_t kMaxExactPower = 22;
  const bool any_digit =
      significant != text.data() + negative || significant_digits > 0 || fraction_digits > 0;
  if (p != end || !any_digit || significant_digits > kMaxDigits || mantissa > kMaxExactMantissa ||
      fraction_digits > kMaxExactPower) {
    return false;
  }
  const double value = static_cast<double>(mantissa) / kExactPowersOfTen[fraction_digits];
  *out = negative ? -value : value;
  return true;
}

}  // namespace

bool ParseDouble(std::string_view text, double* out) {
  text = TrimValue(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  if (ParsePlainDecimal(text, out)) return true;
  const char* end = text.data() + text.size();
  // from_chars also accepts "nan" / "inf" / "infinity" (any case): they parse so that
  // validation can reject them with a reason naming the field, not "not a number".
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

bool ParseInt64(std::string_view text, int64_t* out) {
  text = TrimValue(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

void SplitFields(std::string_view line, char delimiter, std::vector<std::string_view>* fields) {
  fields->clear();
  const char* pos = line.data();
  const char* end = line.data() + line.size();
  for (;;) {
    const void* hit = std::memchr(pos, delimiter, static_cast<size_t>(end - pos));
    const char* stop = hit == nullptr ? end : static_cast<const char*>(hit);
    const char* begin = pos;
    if (stop - begin >= 2 && *begin == '"' && stop[-1] == '"') {
      fields->emplace_back(begin + 1, static_cast<size_t>(stop - begin - 2));
    } else {
      fields->emplace_back(begin, static_cast<size_t>(stop - begin));
    }
    if (hit == nullptr) return;
    pos = stop + 1;
  }
}

bool ParseSide(std::string_view text, int64_t* side) {
  text = TrimValue(text);
  for (const SideWord& entry : kSideWords) {
    if (EqualsLower(text, entry.word)) {
      *side = entry.side;
      return true;
    }
  }
  return false;
}

}  // namespace vigil::data_internal
