// batch_cv: a queue of our own to measure beside qbench's built-ins. One mutex guards a deque;
// producers wait on `not_full`, consumers on `not_empty` (two condition variables, notify_one
// per item, unlike the textbook's one variable and notify_all). A consumer *handle* takes up to
// `Batch` items per lock acquisition into its own buffer and hands them out without the lock:
// one lock per batch instead of one per item, at the price of items that wait in one consumer's
// buffer while another consumer is idle.
//
// Ordering: per-producer FIFO (a consumer sees each producer's items in push order; two
//   consumers' batches interleave, so there is no single global order).
// Bound: approximate (capacity items in the deque, plus up to Batch per consumer buffer).
// Progress: blocking.
// Close: idempotent, wakes every waiter; pushes after it return closed; pops drain their own
//   buffer, then the deque, then return closed. A consumer handle that is destroyed puts what
//   is left in its buffer back at the front of the deque, so nothing taken is ever lost.
#pragma once

#include <qbench/qbench.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

template <class T, std::size_t Batch = 32>
class BatchQueue {
  using Clock = std::chrono::steady_clock;

 public:
  using value_type = T;
  static constexpr std::string_view name = "batch_cv";
  static constexpr qb::QueueTraits traits{
      .summary = "mutex + two condition variables; a consumer handle takes up to 32 items per lock",
      .order = qb::Order::per_producer_fifo,
      .bound = qb::Bound::approximate,
      .progress = qb::Progress::blocking};

  explicit BatchQueue(const qb::QueueOptions& o) : capacity_(o.capacity) {}
  BatchQueue(const BatchQueue&) = delete;
  BatchQueue& operator=(const BatchQueue&) = delete;

  // ---- Pushes (any thread) ----
  [[nodiscard]] bool try_push(const T& v) {
    {
      std::lock_guard lk(m_);
      if (closed_flag() || items_.size() >= capacity_) return false;
      add(v);
    }
    not_empty_.notify_one();
    return true;
  }
  qb::QueueStatus push(const T& v, std::chrono::nanoseconds timeout) {
    {
      std::unique_lock lk(m_);
      const bool ready =
          wait(lk, not_full_, timeout, [&] { return closed_flag() || items_.size() < capacity_; });
      if (closed_flag()) return qb::QueueStatus::closed;
      if (!ready) return qb::QueueStatus::timeout;
      add(v);
    }
    not_empty_.notify_one();
    return qb::QueueStatus::ok;
  }

  // ---- Pops without a handle: one item per lock ----
  [[nodiscard]] bool try_pop(T& out) { return take(out, 1) != 0; }
  qb::QueueStatus pop(T& out, std::chrono::nanoseconds timeout) {
    std::vector<T> one;
    const qb::QueueStatus s = take_waiting(one, 1, timeout);
    if (s == qb::QueueStatus::ok) out = one.front();
    return s;
  }

  // ---- A consumer handle: batches ----
  class ConsumerHandle {
   public:
    using value_type = T;
    explicit ConsumerHandle(BatchQueue& q) : q_(&q) { buf_.reserve(Batch); }
    ConsumerHandle(ConsumerHandle&& o) noexcept
        : q_(std::exchange(o.q_, nullptr)), buf_(std::move(o.buf_)), next_(o.next_) {}
    ConsumerHandle& operator=(ConsumerHandle&&) = delete;
    ~ConsumerHandle() {
      if (q_ && next_ < buf_.size()) q_->put_back(buf_, next_);
    }
    [[nodiscard]] bool try_pop(T& out) {
      if (next_ == buf_.size()) {
        buf_.clear();
        next_ = 0;
        if (!q_->take_into(buf_, Batch)) return false;
      }
      out = buf_[next_++];
      return true;
    }
    qb::QueueStatus pop(T& out, std::chrono::nanoseconds timeout) {
      if (next_ == buf_.size()) {
        buf_.clear();
        next_ = 0;
        const qb::QueueStatus s = q_->take_waiting(buf_, Batch, timeout);
        if (s != qb::QueueStatus::ok) return s;
      }
      out = buf_[next_++];
      return qb::QueueStatus::ok;
    }

   private:
    BatchQueue* q_;
    std::vector<T> buf_;
    std::size_t next_ = 0;
  };
  ConsumerHandle consumer_handle(std::size_t) { return ConsumerHandle(*this); }

  void close() noexcept {
    {
      std::lock_guard lk(m_);
      // release: closed() readers that see it also see every push made before it.
      closed_.store(true, std::memory_order_release);
    }
    not_empty_.notify_all();
    not_full_.notify_all();
  }
  [[nodiscard]] bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::size_t approx_size() const noexcept {
    // relaxed: a statistic, stale on return anyway.
    return size_.load(std::memory_order_relaxed);
  }

 private:
  // Under m_: the flag is only written under the lock, so relaxed is enough here.
  [[nodiscard]] bool closed_flag() const noexcept {
    return closed_.load(std::memory_order_relaxed);
  }
  void add(const T& v) {
    items_.push_back(v);
    size_.store(items_.size(), std::memory_order_relaxed);
  }
  // Moves up to n items into `into` under m_; returns how many.
  std::size_t move_out(std::vector<T>& into, std::size_t n) {
    std::size_t k = 0;
    for (; k < n && !items_.empty(); ++k) {
      into.push_back(items_.front());
      items_.pop_front();
    }
    size_.store(items_.size(), std::memory_order_relaxed);
    return k;
  }
  void wake_producers(std::size_t freed) {
    if (freed == 1) {
      not_full_.notify_one();
    } else if (freed > 1) {
      not_full_.notify_all();
    }
  }
  std::size_t take_into(std::vector<T>& into, std::size_t n) {
    std::size_t k;
    {
      std::lock_guard lk(m_);
      k = move_out(into, n);
    }
    wake_producers(k);
    return k;
  }
  std::size_t take(T& out, std::size_t n) {
    std::vector<T> got;
    const std::size_t k = take_into(got, n);
    if (k) out = got.front();
    return k;
  }
  qb::QueueStatus take_waiting(std::vector<T>& into, std::size_t n,
                               std::chrono::nanoseconds timeout) {
    std::size_t k;
    {
      std::unique_lock lk(m_);
      wait(lk, not_empty_, timeout, [&] { return closed_flag() || !items_.empty(); });
      k = move_out(into, n);
      if (k == 0) return closed_flag() ? qb::QueueStatus::closed : qb::QueueStatus::timeout;
    }
    wake_producers(k);
    return qb::QueueStatus::ok;
  }
  void put_back(const std::vector<T>& buf, std::size_t from) {
    {
      std::lock_guard lk(m_);
      items_.insert(items_.begin(), buf.begin() + static_cast<std::ptrdiff_t>(from), buf.end());
      size_.store(items_.size(), std::memory_order_relaxed);
    }
    not_empty_.notify_all();
  }
  template <class Ready>
  static bool wait(std::unique_lock<std::mutex>& lk, std::condition_variable& cv,
                   std::chrono::nanoseconds timeout, Ready ready) {
    if (timeout >= std::chrono::hours(24 * 365)) {  // qb::forever, or as good as
      cv.wait(lk, ready);
      return true;
    }
    return cv.wait_until(lk, Clock::now() + timeout, ready);
  }

  const std::size_t capacity_;
  std::mutex m_;
  std::condition_variable not_empty_, not_full_;
  std::deque<T> items_;
  std::atomic<bool> closed_{false};
  std::atomic<std::size_t> size_{0};
};
