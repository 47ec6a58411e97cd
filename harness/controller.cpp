#include "harness/controller.hpp"

#include <algorithm>
#include <vector>

#include "harness/affinity.hpp"

namespace qb {

std::int64_t StartLine::wait(std::optional<unsigned> cpu, std::string* error) {
  if (cpu && !pin_current_thread(*cpu, error)) pin_failed_.store(true, std::memory_order_relaxed);
  latch_.arrive_and_wait();
  // relaxed: the latch orders the controller's store of t0 before every waiter's return.
  const std::int64_t t0 = t0_.load(std::memory_order_relaxed);
  spin_until_ns(t0);
  return t0;
}

std::int64_t StartLine::go() {
  const std::int64_t t0 = now_ns() + 2'000'000;
  // relaxed: published to the workers by the latch (arrive happens before their wait returns).
  t0_.store(t0, std::memory_order_relaxed);
  latch_.arrive_and_wait();
  return t0;
}

Workers::~Workers() {
  for (auto& t : threads_)
    if (t.joinable()) t.detach();
}

void Workers::add(std::thread t, const std::atomic<bool>& done) {
  threads_.push_back(std::move(t));
  done_.push_back(&done);
}

std::size_t Workers::running() const {
  std::size_t n = 0;
  for (const auto* d : done_)
    n += !d->load(std::memory_order_acquire);
  return n;
}

std::size_t Workers::join_until(std::int64_t deadline) {
  while (running() && now_ns() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::size_t abandoned = 0;
  for (std::size_t i = 0; i < threads_.size(); ++i) {
    if (!threads_[i].joinable()) continue;
    // acquire: pairs with the worker's release of its flag, its last write to the shared state.
    if (done_[i]->load(std::memory_order_acquire)) {
      threads_[i].join();
    } else {
      threads_[i].detach();
      ++abandoned;
    }
  }
  return abandoned;
}

std::string Driver::stall_detail(const Published& p, std::int64_t stall_ns,
                                 bool after_shutdown) const {
  const std::string ms = std::to_string(stall_ns / 1'000'000) + " ms";
  if (after_shutdown && !p.owed() && !p.in_push())
    return "consumers did not return within " + ms + " of the shutdown";
  return "nothing consumed for " + ms + " with " + std::to_string(p.owed()) +
         " items in the queue and " + std::to_string(p.in_push()) + " producers inside push";
}

std::int64_t abort_grace_ns(std::int64_t stall_ns) {
  return std::clamp<std::int64_t>(stall_ns, 50'000'000, 2'000'000'000);
}

ControlOutcome control(Driver& d, Workers& w, const ControlOptions& o) {
  ControlOutcome out;
  const std::int64_t interval = std::max<std::int64_t>(o.interval_ns, 1'000'000);
  std::int64_t grace = abort_grace_ns(o.stall_ns);
  std::int64_t aborted_at = 0;
  bool shut = false;
  out.last_progress = o.t0;
  auto abort_run = [&](Verdict v, std::string why, std::int64_t now) {
    out.verdict = v;
    out.detail = std::move(why);
    d.abort();
    aborted_at = now;
    // A stall is seen up to a tick after one stall timeout without progress: what is left of the
    // second one (at least 50 ms) is the threads' grace.
    if (v == Verdict::stalled)
      grace = std::max<std::int64_t>(std::min(grace, out.last_progress + 2 * o.stall_ns - now),
                                     50'000'000);
  };

  std::vector<std::uint64_t> depths;  // one per tick (ticks are 1 ms at least)
  std::int64_t now = o.t0;
  for (std::int64_t tick = o.t0 + interval;; tick += interval) {
    sleep_until_ns(tick);
    const Published p = d.poll();
    const std::uint64_t rss = current_rss_bytes();
    now = now_ns();
    if (p.consumed != out.last.consumed) out.last_progress = now;
    out.last = p;
    out.peak_depth = std::max(out.peak_depth, p.depth);
    depths.push_back(p.depth);
    ++out.depth_samples;
    d.on_tick(p, now, rss);
    if (p.finished) break;
    if (aborted_at) {
      if (now - aborted_at >= grace) break;
      continue;
    }
    if (!shut && p.producers_done && d.ready_to_shut_down(p)) {
      shut = true;
      out.shutdown_at = now;
      d.shut_down(now);
    }
    const std::int64_t allowed = o.stall_ns + (shut ? d.shutdown_grace_ns() : 0);
    if (now - out.last_progress > allowed && (shut || d.stuck(p))) {
      abort_run(Verdict::stalled, d.stall_detail(p, o.stall_ns, shut), now);
    } else if (o.max_rss_bytes && rss > o.max_rss_bytes) {
      abort_run(Verdict::memory_cap,
                "RSS " + std::to_string(rss >> 20) + " MiB crossed --max-rss " +
                    std::to_string(o.max_rss_bytes >> 20) + " MiB at depth " +
                    std::to_string(p.depth),
                now);
    } else if (g_interrupted.load(std::memory_order_relaxed)) {
      abort_run(Verdict::interrupted, "interrupted by a signal", now);
    }
  }
  if (!depths.empty()) {
    const auto mid = depths.begin() + static_cast<std::ptrdiff_t>((depths.size() - 1) / 2);
    std::nth_element(depths.begin(), mid, depths.end());
    out.median_depth = *mid;
  }
  // Finished: every flag is set and the joins are immediate. Aborted: one deadline for every
  // thread together, counted from the abort.
  out.abandoned = w.join_until(aborted_at ? aborted_at + grace : now + grace);
  if (out.abandoned) {
    const bool one = out.abandoned == 1;
    if (out.verdict == Verdict::ok) out.verdict = Verdict::stalled;
    out.detail += (out.detail.empty() ? "" : "; ") + std::to_string(out.abandoned) +
                  (one ? " thread" : " threads") + " that never returned from the queue " +
                  (one ? "was" : "were") +
                  " abandoned; the counts are what the threads had published at the last tick";
  }
  return out;
}

void report_published(RunResult& r, const ControlOutcome& o, std::int64_t t0, std::int64_t end) {
  r.offered = o.last.offered;
  r.accepted = o.last.accepted;
  r.consumed = o.last.consumed;
  if (r.verdict == Verdict::stalled) r.lost = o.last.owed();
  r.elapsed_s = r.span_s = r.produce_s = static_cast<double>(end - t0) * 1e-9;
  r.peak_depth = o.peak_depth;
  r.median_depth = o.median_depth;
  r.depth_samples = o.depth_samples;
}

void Verifier::counts(std::uint64_t expected, std::uint64_t consumed, std::string_view unit,
                      std::uint64_t& lost, std::uint64_t& duplicated) {
  const std::string u(unit);
  if (consumed < expected) {
    lost = expected - consumed;
    fail(std::to_string(lost) + " accepted " + u + " never consumed");
  }
  if (consumed > expected) {
    duplicated = consumed - expected;
    fail(std::to_string(duplicated) + " more " + u + " consumed than accepted");
  }
}

void Verifier::checksum(bool ok, bool& checksum_ok) {
  checksum_ok = ok;
  if (!ok) fail("checksum of consumed ids differs from accepted ids");
}

void Verifier::order(std::uint64_t out_of_order, std::string_view what) {
  if (out_of_order) fail(std::to_string(out_of_order) + " items out of " + std::string(what));
}

void Verifier::pinned(bool pin_failed, const std::string& pinning) {
  if (pin_failed) fail("a thread could not be pinned to its CPU (" + pinning + ")");
}

std::string Verifier::detail() const {
  std::string s;
  for (const auto& r : reasons_)
    s += (s.empty() ? "" : "; ") + r;
  return s;
}

}  // namespace qb
