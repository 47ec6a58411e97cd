// Must NOT compile: a user type that is not a queue stops the build with qbench's message naming
// what it lacks (tests: concept_message_*, CMakeLists.txt), not with a page of template errors.
#include <qbench/qbench.hpp>

struct NotAQueue {
  using value_type = qb::Item;
  static constexpr std::string_view name = "not_a_queue";
  static constexpr qb::QueueTraits traits{.summary = "",
                                          .order = qb::Order::fifo,
                                          .bound = qb::Bound::exact,
                                          .progress = qb::Progress::blocking};
  explicit NotAQueue(const qb::QueueOptions&) {}
  bool try_push(const qb::Item&) { return false; }
  bool try_pop(qb::Item&) { return false; }
  std::size_t capacity() const { return 1; }
  std::size_t approx_size() const { return 0; }
#if !defined(QB_ONLY_TRY)
  // Everything but pop (QB_ONLY_TRY: try_push / try_pop only, and the message points at
  // qb::Waiting<>).
  qb::QueueStatus push(const qb::Item&, std::chrono::nanoseconds) {
    return qb::QueueStatus::ok;
  }
  void close() noexcept {}
  bool closed() const {
    return false;
  }
#endif
};

QBENCH_MAIN(NotAQueue)
