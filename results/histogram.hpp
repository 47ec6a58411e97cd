// qb::Histogram: a log-linear latency histogram laid out exactly as HdrHistogram lays out a
// histogram with lowest discernible value 1, highest trackable value 1 h (3.6e12 ns) and 3
// significant decimal digits. Debian 12 packages no C/C++ HdrHistogram, so this is our own.
//
// Layout. Values 0..2047 each have their own bucket (exact). Beyond that, "bucket" b >= 1 covers
// [1024 * 2^b, 2048 * 2^b) with 1024 sub-buckets of width 2^b. The counts array has
// (bucket_count + 1) * 1024 = 33 * 1024 entries of 64-bit counts (264 KiB), allocated once in the
// constructor; nothing allocates afterwards.
//
// Precision guarantee: every value a query reports (percentile, bucket bounds) lies in the same
// bucket as the value it stands for, and a bucket's width is 1 below 2048 (exact) and at most
// value / 1024 above, so the relative error is <= 1/1024 < 10^-3 of the value. min(), max() and
// mean() are exact (mean from a running 128-bit integer sum of the recorded values); stddev()
// uses bucket midpoints around the exact mean, as HdrHistogram does, so it is off by at most
// RMS(value) / 2048.
//
// Out-of-range values are clamped, not dropped, so count() always equals the number of record
// calls: a negative value is recorded as 0 and counted in negatives(); a value above `highest` is
// recorded as `highest` and counted in overflows(). mean() and stddev() are of the clamped values.
//
// Not thread-safe: one histogram per thread, written only by its owner, merged after join().
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>

namespace qb {

namespace histogram_detail {

constexpr std::int64_t lowest = 1;
constexpr std::int64_t highest = 3'600'000'000'000;
constexpr int significant_digits = 3;

constexpr std::int64_t pow10(int e) {
  return e == 0 ? 1 : 10 * pow10(e - 1);
}
// HdrHistogram: values up to 2 * 10^digits must be told apart at unit resolution.
constexpr std::int64_t largest_single_unit_value = 2 * pow10(significant_digits);
constexpr int sub_bucket_count_magnitude =
    std::bit_width(static_cast<std::uint64_t>(largest_single_unit_value - 1));  // ceil(log2)

// HdrHistogram's bucket count: doublings of the sub-bucket range until `highest` fits.
constexpr int count_buckets() {
  std::uint64_t smallest_untrackable = std::uint64_t{1} << sub_bucket_count_magnitude;
  int n = 1;
  while (smallest_untrackable <= static_cast<std::uint64_t>(highest)) {
    smallest_untrackable <<= 1;
    ++n;
  }
  return n;
}

}  // namespace histogram_detail

class alignas(64) Histogram {
 public:
  static constexpr std::int64_t lowest = histogram_detail::lowest;    // ns
  static constexpr std::int64_t highest = histogram_detail::highest;  // 1 h in ns
  static constexpr int significant_digits = histogram_detail::significant_digits;

  static constexpr int sub_bucket_half_count_magnitude =
      histogram_detail::sub_bucket_count_magnitude - 1;
  static constexpr std::int64_t sub_bucket_count = std::int64_t{1}
                                                   << histogram_detail::sub_bucket_count_magnitude;
  static constexpr std::int64_t sub_bucket_half_count = sub_bucket_count / 2;
  static constexpr int bucket_count = histogram_detail::count_buckets();
  static constexpr std::size_t counts_length =
      static_cast<std::size_t>(bucket_count + 1) * static_cast<std::size_t>(sub_bucket_half_count);

 private:
  static constexpr std::uint64_t sub_bucket_mask = static_cast<std::uint64_t>(sub_bucket_count) - 1;
  // Bucket index = leading_zero_base - countl_zero(v | sub_bucket_mask); unit magnitude is 0.
  static constexpr int leading_zero_base = 64 - sub_bucket_half_count_magnitude - 1;

 public:
  // The index of the counts slot that `v` (clamped to [0, highest]) is recorded in.
  [[nodiscard]] static constexpr std::size_t index_of(std::int64_t v) noexcept {
    const auto u = static_cast<std::uint64_t>(std::clamp<std::int64_t>(v, 0, highest));
    const int bucket = leading_zero_base - std::countl_zero(u | sub_bucket_mask);
    // HdrHistogram's ((bucket + 1) << half_magnitude) + (sub_bucket - half_count), simplified.
    return (static_cast<std::size_t>(bucket) << sub_bucket_half_count_magnitude) + (u >> bucket);
  }
  [[nodiscard]] static constexpr std::int64_t lowest_at_index(std::size_t i) noexcept {
    auto [bucket, sub] = split_index(i);
    return static_cast<std::int64_t>(sub << bucket);
  }
  [[nodiscard]] static constexpr std::int64_t highest_at_index(std::size_t i) noexcept {
    auto [bucket, sub] = split_index(i);
    return static_cast<std::int64_t>(((sub + 1) << bucket) - 1);
  }
  // Bounds of the bucket holding `v` (clamped to [0, highest], as record() does).
  [[nodiscard]] static constexpr std::int64_t lowest_equivalent(std::int64_t v) noexcept {
    return lowest_at_index(index_of(v));
  }
  [[nodiscard]] static constexpr std::int64_t highest_equivalent(std::int64_t v) noexcept {
    return highest_at_index(index_of(v));
  }

  Histogram() : counts_(std::make_unique<std::uint64_t[]>(counts_length)) {}
  Histogram(const Histogram& other)
      : counts_(std::make_unique_for_overwrite<std::uint64_t[]>(counts_length)) {
    copy_from(other);
  }
  Histogram& operator=(const Histogram& other) {
    if (this != &other) {
      if (!counts_) counts_ = std::make_unique_for_overwrite<std::uint64_t[]>(counts_length);
      copy_from(other);
    }
    return *this;
  }
  // A moved-from histogram may only be destroyed or assigned to.
  Histogram(Histogram&&) noexcept = default;
  Histogram& operator=(Histogram&&) noexcept = default;
  ~Histogram() = default;

  // Hot path: no branches beyond what clamp/min/max compile to (cmov), no allocation.
  void record(std::int64_t value) noexcept { add(value, 1); }
  void record_n(std::int64_t value, std::uint64_t n) noexcept {
    if (n != 0) add(value, n);
  }

  // Addition, bucket by bucket; every Histogram has the same layout.
  void merge(const Histogram& other) noexcept {
    if (other.total_ == 0) return;
    const std::size_t first = index_of(other.min_);
    const std::size_t last = index_of(other.max_);
    for (std::size_t i = first; i <= last; ++i)
      counts_[i] += other.counts_[i];
    total_ += other.total_;
    sum_ += other.sum_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
    negatives_ += other.negatives_;
    overflows_ += other.overflows_;
  }

  void reset() noexcept {
    std::fill_n(counts_.get(), counts_length, std::uint64_t{0});
    total_ = 0;
    sum_ = 0;
    min_ = empty_min;
    max_ = 0;
    negatives_ = 0;
    overflows_ = 0;
  }

  [[nodiscard]] std::uint64_t count() const noexcept { return total_; }
  [[nodiscard]] std::int64_t min() const noexcept { return total_ == 0 ? 0 : min_; }
  [[nodiscard]] std::int64_t max() const noexcept { return max_; }
  [[nodiscard]] std::uint64_t overflows() const noexcept { return overflows_; }
  [[nodiscard]] std::uint64_t negatives() const noexcept { return negatives_; }

  // Exact: running integer sum / count (0 if empty).
  [[nodiscard]] double mean() const noexcept {
    return total_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(total_);
  }

  // Population standard deviation; each value stands at its bucket's midpoint (exact below 2048).
  [[nodiscard]] double stddev() const noexcept {
    if (total_ == 0) return 0.0;
    const double m = mean();
    double acc = 0.0;
    for_each_recorded([&](std::int64_t lo, std::int64_t hi, std::uint64_t n) {
      const double d = (static_cast<double>(lo) + static_cast<double>(hi)) / 2.0 - m;
      acc += d * d * static_cast<double>(n);
    });
    return std::sqrt(acc / static_cast<double>(total_));
  }

  // HdrHistogram's getValueAtPercentile: the rank is ceil(p/100 * count) (at least 1), with p
  // first lowered by one ulp so that decimal percentiles such as 99.9 do not round up past an
  // exact rank; the answer is the highest equivalent value of the bucket holding that rank,
  // clamped to the exact max. Unlike HdrHistogram, p <= 0 returns the exact min (HdrHistogram
  // returns the lowest equivalent of the min's bucket), and p >= 100 returns the exact max.
  // NaN counts as 0. Returns 0 if empty.
  [[nodiscard]] std::int64_t percentile(double p) const noexcept {
    if (total_ == 0) return 0;
    if (!(p > 0.0)) return min_;
    if (p >= 100.0) return max_;
    const double lowered = std::nextafter(p, -std::numeric_limits<double>::infinity());
    const double fp_rank = lowered * static_cast<double>(total_) / 100.0;
    const auto rank = std::clamp<std::uint64_t>(static_cast<std::uint64_t>(std::ceil(fp_rank)),
                                                std::uint64_t{1}, total_);
    std::uint64_t seen = 0;
    const std::size_t last = index_of(max_);
    for (std::size_t i = index_of(min_); i <= last; ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(highest_at_index(i), max_);
    }
    return max_;  // unreachable while the counts add up to total_
  }

  // Count recorded in the bucket holding `v` (clamped like record()).
  [[nodiscard]] std::uint64_t count_at(std::int64_t v) const noexcept {
    return counts_[index_of(v)];
  }

  // Visits the non-empty buckets in increasing value order: f(lowest_equivalent,
  // highest_equivalent, count). Bounds are the bucket's, not clamped to min()/max().
  template <class F>
  void for_each_recorded(F&& f) const {
    if (total_ == 0) return;
    const std::size_t last = index_of(max_);
    for (std::size_t i = index_of(min_); i <= last; ++i) {
      if (counts_[i] != 0) f(lowest_at_index(i), highest_at_index(i), counts_[i]);
    }
  }

  // Everything one histogram owns: the object plus its counts array.
  [[nodiscard]] std::size_t memory_bytes() const noexcept {
    return sizeof(Histogram) + counts_length * sizeof(std::uint64_t);
  }

  friend bool operator==(const Histogram& a, const Histogram& b) noexcept {
    return a.total_ == b.total_ && a.sum_ == b.sum_ && a.min() == b.min() && a.max_ == b.max_ &&
           a.negatives_ == b.negatives_ && a.overflows_ == b.overflows_ &&
           std::equal(a.counts_.get(), a.counts_.get() + counts_length, b.counts_.get());
  }

 private:
  __extension__ using Sum = unsigned __int128;  // 3.6e12 * 2^64 does not fit 64 bits

  struct Split {
    int bucket;
    std::uint64_t sub;
  };
  static constexpr Split split_index(std::size_t i) noexcept {
    int bucket = static_cast<int>(i >> sub_bucket_half_count_magnitude) - 1;
    std::uint64_t sub =
        (i & static_cast<std::size_t>(sub_bucket_half_count - 1)) + sub_bucket_half_count;
    if (bucket < 0) {  // the first 1024 slots are the lower half of bucket 0
      bucket = 0;
      sub -= sub_bucket_half_count;
    }
    return {bucket, sub};
  }

  void add(std::int64_t value, std::uint64_t n) noexcept {
    negatives_ += n * static_cast<std::uint64_t>(value < 0);
    overflows_ += n * static_cast<std::uint64_t>(value > highest);
    const std::int64_t v = std::clamp<std::int64_t>(value, 0, highest);
    counts_[index_of(v)] += n;
    total_ += n;
    sum_ += static_cast<Sum>(static_cast<std::uint64_t>(v)) * n;
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
  }

  void copy_from(const Histogram& other) noexcept {
    std::copy_n(other.counts_.get(), counts_length, counts_.get());
    total_ = other.total_;
    sum_ = other.sum_;
    min_ = other.min_;
    max_ = other.max_;
    negatives_ = other.negatives_;
    overflows_ = other.overflows_;
  }

  static constexpr std::int64_t empty_min = std::numeric_limits<std::int64_t>::max();

  // Everything record() touches besides the counts sits in this one 64-byte line.
  std::unique_ptr<std::uint64_t[]> counts_;
  std::uint64_t total_ = 0;
  Sum sum_ = 0;
  std::int64_t min_ = empty_min;
  std::int64_t max_ = 0;
  std::uint64_t negatives_ = 0;
  std::uint64_t overflows_ = 0;
};

static_assert(Histogram::sub_bucket_count == 2048 && Histogram::sub_bucket_half_count == 1024,
              "3 significant digits need 2000 unit-resolution values: 2048 sub-buckets");
static_assert(Histogram::bucket_count == 32 && Histogram::counts_length == 33 * 1024,
              "HdrHistogram's layout for 1 ns .. 1 h at 3 digits");
static_assert(Histogram::index_of(Histogram::highest) < Histogram::counts_length,
              "the highest trackable value must have a slot");
static_assert(Histogram::sub_bucket_half_count >= 1000,
              "bucket width / value <= 1/half_count must meet the 10^-3 precision promise");
static_assert(Histogram::lowest == 1, "index_of assumes unit magnitude 0 (1 ns resolution)");
static_assert(sizeof(Histogram) == 64, "record()'s scalar state fits one cache line");

// A round trip recorded in picoseconds (per-batch means: qbench calibrate, qbench bare), in ns. A
// sample of 0 ps (a batch faster than the clock's resolution) counts as 1 ps: figures stay > 0.
inline double ps_to_ns(std::int64_t ps) noexcept {
  return static_cast<double>(ps < 1 ? 1 : ps) / 1000.0;
}

}  // namespace qb
