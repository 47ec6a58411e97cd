// Tests of core/units.hpp: the command line's number, rate, duration and size parsers, the
// list splitter and the formatting helpers.
#include "core/units.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace qb::units {
namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;

TEST(ParseNumber, PlainDecimalsOnly) {
  EXPECT_EQ(parse_number("1.5"), 1.5);
  EXPECT_EQ(parse_number("1000"), 1000.0);
  EXPECT_EQ(parse_number(" 42 "), 42.0);
  EXPECT_EQ(parse_number("1e3"), 1000.0);
  EXPECT_FALSE(parse_number(""));
  EXPECT_FALSE(parse_number("1.5k"));
  EXPECT_FALSE(parse_number("abc"));
  EXPECT_FALSE(parse_number("."));
  EXPECT_FALSE(parse_number("1.2.3"));
}

TEST(ParseRate, MetricSuffixesAndPerSecond) {
  EXPECT_EQ(parse_rate("50k"), 50'000.0);
  EXPECT_EQ(parse_rate("50K"), 50'000.0);
  EXPECT_EQ(parse_rate("1.5M"), 1'500'000.0);
  EXPECT_EQ(parse_rate("2G"), 2e9);
  EXPECT_EQ(parse_rate("2k/s"), 2'000.0);
  EXPECT_EQ(parse_rate("2.5k/s"), 2'500.0);
  EXPECT_EQ(parse_rate("1000"), 1'000.0);
  EXPECT_EQ(parse_rate("1000/s"), 1'000.0);
  EXPECT_EQ(parse_rate(" 50k "), 50'000.0);
}

TEST(ParseRate, RejectsMalformed) {
  for (const char* s : {"", " ", "abc", "5x", "k", "/s", "5k/", "5/s/s", "5kk", "5m", "nan", "inf",
                        "1e999", "5 parsecs", "-"}) {
    EXPECT_FALSE(parse_rate(s)) << "'" << s << "' was accepted as " << parse_rate(s).value_or(0);
  }
}

TEST(ParseCount, WholeNumbersWithSuffixes) {
  EXPECT_EQ(parse_count("0"), 0u);
  EXPECT_EQ(parse_count("1000"), 1000u);
  EXPECT_EQ(parse_count("50k"), 50'000u);
  EXPECT_EQ(parse_count("1.5k"), 1'500u);
  EXPECT_EQ(parse_count("1M"), 1'000'000u);
  EXPECT_EQ(parse_count("2G"), 2'000'000'000u);
}

TEST(ParseCount, RejectsFractionsNegativesAndJunk) {
  for (const char* s :
       {"1.5", "0.5", "1.0001k", "-1", "-5k", "", "abc", "5x", "k", "1/s", "5 parsecs", "1e30"}) {
    EXPECT_FALSE(parse_count(s)) << "'" << s << "' was accepted as " << parse_count(s).value_or(0);
  }
}

// --seed takes counts up to 2^63-1: a count must be either exact or refused, never silently
// rounded to a neighbouring integer (doubles hold integers exactly only up to 2^53).
TEST(ParseCount, LargeIntegersAreExactOrRefused) {
  for (std::uint64_t v : {std::uint64_t{9007199254740993u}, std::uint64_t{1234567890123456789u}}) {
    const auto got = parse_count(std::to_string(v));
    if (got) {
      EXPECT_EQ(*got, v) << std::to_string(v) << " was silently changed";
    }
  }
}

TEST(ParseDuration, Units) {
  EXPECT_EQ(parse_duration("100ms"), nanoseconds(100ms));
  EXPECT_EQ(parse_duration("5s"), nanoseconds(5s));
  EXPECT_EQ(parse_duration("250us"), nanoseconds(250us));
  EXPECT_EQ(parse_duration("2min"), nanoseconds(120s));
  EXPECT_EQ(parse_duration("10ns"), nanoseconds(10));
  EXPECT_EQ(parse_duration("1.5s"), nanoseconds(1500ms));
  EXPECT_EQ(parse_duration("0.5ms"), nanoseconds(500us));
  EXPECT_EQ(parse_duration(" 5s "), nanoseconds(5s));
}

TEST(ParseDuration, RequiresAKnownUnit) {
  for (const char* s : {"5", "0", "1.5", "5 parsecs", "5parsecs", "-", "", "ms", "5sec", "5S",
                        "5mss", "1e999s", "abc"}) {
    const auto d = parse_duration(s);
    EXPECT_FALSE(d) << "'" << s << "' was accepted as " << (d ? d->count() : 0) << "ns";
  }
}

TEST(ParseBytes, BinaryMultiples) {
  EXPECT_EQ(parse_bytes("1024"), 1024u);
  EXPECT_EQ(parse_bytes("1K"), 1024u);
  EXPECT_EQ(parse_bytes("1KiB"), 1024u);
  EXPECT_EQ(parse_bytes("512M"), 512ull * 1024 * 1024);
  EXPECT_EQ(parse_bytes("16MiB"), 16ull * 1024 * 1024);
  EXPECT_EQ(parse_bytes("4G"), 4ull * 1024 * 1024 * 1024);
  EXPECT_EQ(parse_bytes("4GiB"), 4ull * 1024 * 1024 * 1024);
  EXPECT_EQ(parse_bytes("2T"), 2ull << 40);
}

TEST(ParseBytes, RejectsMalformed) {
  for (const char* s : {"", "-1", "-1M", "5x", "M", "GiB", "5 parsecs", "4Gi", "abc"}) {
    EXPECT_FALSE(parse_bytes(s)) << "'" << s << "' was accepted as " << parse_bytes(s).value_or(0);
  }
}

TEST(SplitList, TrimsAndKeepsEmptyParts) {
  using V = std::vector<std::string>;
  EXPECT_EQ(split_list("mutex_cv"), V{"mutex_cv"});
  EXPECT_EQ(split_list("a,b,c"), (V{"a", "b", "c"}));
  EXPECT_EQ(split_list(" a , b "), (V{"a", "b"}));
  EXPECT_EQ(split_list("a,,b"), (V{"a", "", "b"}));
  EXPECT_EQ(split_list("a,"), (V{"a", ""}));
  EXPECT_EQ(split_list(""), V{""});
  EXPECT_EQ(split_list("boost_spsc+spin,mutex_deque+sleep:10"),
            (V{"boost_spsc+spin", "mutex_deque+sleep:10"}));
}

TEST(Format, Rate) {
  EXPECT_EQ(format_rate(0), "0");
  EXPECT_EQ(format_rate(999), "999");
  EXPECT_EQ(format_rate(1'500), "1.5k");
  EXPECT_EQ(format_rate(50'000), "50.0k");
  EXPECT_EQ(format_rate(2'500'000), "2.50M");
  EXPECT_EQ(format_rate(1.23e6), "1.23M");
  EXPECT_EQ(format_rate(3e9), "3.00G");
}

TEST(Format, Nanoseconds) {
  EXPECT_EQ(format_ns(12), "12ns");
  EXPECT_EQ(format_ns(4'560), "4.6us");
  EXPECT_EQ(format_ns(1.5e6), "1.50ms");
  EXPECT_EQ(format_ns(2.5e9), "2.50s");
}

TEST(Format, Bytes) {
  EXPECT_EQ(format_bytes(512), "512B");
  EXPECT_EQ(format_bytes(2048), "2.0KiB");
  EXPECT_EQ(format_bytes(12.3 * 1024 * 1024), "12.3MiB");
  EXPECT_EQ(format_bytes(4.0 * 1024 * 1024 * 1024), "4.00GiB");
}

// Just below a unit boundary the rounded value must not read "1000" of the smaller unit
// ("1000.0k" instead of "1.00M", "1000.0us" instead of "1.00ms").
TEST(Format, NoThousandOfTheSmallerUnitAtBoundaries) {
  EXPECT_EQ(format_rate(999'999), "1.00M");
  EXPECT_EQ(format_ns(999'999), "1.00ms");
  EXPECT_EQ(format_ns(999.7), "1.0us");
  EXPECT_EQ(format_bytes(1024.0 * 1024 - 1), "1.0MiB");
}

}  // namespace
}  // namespace qb::units
