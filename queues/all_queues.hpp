// The one list of registered queues. It feeds the registry, the typed test suites and the
// microbenchmarks; adding a queue is one header plus one line here.
#pragma once

#include "boost_lockfree.hpp"
#include "boost_spsc.hpp"
#include "concept.hpp"
#include "moodycamel.hpp"
#include "moodycamel_blocking.hpp"
#include "mutex_cv.hpp"
#include "mutex_cv_one.hpp"
#include "mutex_deque.hpp"
#include "ring_mpmc.hpp"
#include "ring_spsc.hpp"
#include "sharded.hpp"
#include "split_cv.hpp"
#include "wait_strategies.hpp"
#include "ws_pool.hpp"

// Peers from optional Debian packages (CMake defines these when the package is found).
#if defined(QB_HAVE_TBB)
#include "tbb_bounded.hpp"
#endif
#if defined(QB_HAVE_ATOMIC_QUEUE)
#include "atomic_queue.hpp"
#endif

namespace qb {

// The list comes in groups so that the registry and the typed test suites can compile one
// group per translation unit (CI builds every queue three times; -j2 then uses both cores).

// Natively blocking queues.
template <class T>
using BlockingQueues = TypeList<MutexCv<T>, MutexCvOne<T>, SplitCv<T>, MoodycamelBlocking<T>>;

// The waiting anti-patterns, and park, over a plain locked buffer.
template <class T>
using PollingQueues =
    TypeList<Waiting<MutexDeque<T>, Spin>, Waiting<MutexDeque<T>, Yield>,
             Waiting<MutexDeque<T>, SleepPoll<10>>, Waiting<MutexDeque<T>, SleepPoll<100>>,
             Waiting<MutexDeque<T>, SleepPoll<1000>>, Waiting<MutexDeque<T>, Park<>>>;

// The libraries users pick instead of writing a queue: lock-free queues with the wait
// strategies, and the optional peers (empty lists when their package is absent).
namespace detail {
#if defined(QB_HAVE_TBB)
template <class T>
using TbbPeers = TypeList<TbbBounded<T>>;
#else
template <class T>
using TbbPeers = TypeList<>;
#endif
#if defined(QB_HAVE_ATOMIC_QUEUE)
template <class T>
using AtomicQueuePeers =
    TypeList<Waiting<AtomicQueue<T>, Spin>, Waiting<AtomicQueue<T>, Yield>,
             Waiting<AtomicQueue<T>, Park<>>, Waiting<AtomicQueueSpsc<T>, Spin>,
             Waiting<AtomicQueueSpsc<T>, Park<>>>;
#else
template <class T>
using AtomicQueuePeers = TypeList<>;
#endif
}  // namespace detail

template <class T>
using LibraryQueues =
    ConcatT<TypeList<Waiting<BoostLockfree<T>, Spin>, Waiting<BoostLockfree<T>, Yield>,
                     Waiting<BoostLockfree<T>, Park<>>, Waiting<BoostSpsc<T>, Spin>,
                     Waiting<BoostSpsc<T>, Park<>>, Waiting<Moodycamel<T>, Spin>,
                     Waiting<Moodycamel<T>, Yield>, Waiting<Moodycamel<T>, Park<>>>,
            detail::TbbPeers<T>, detail::AtomicQueuePeers<T>>;

// qbench's own rings, with every wait strategy.
template <class T>
using RingQueues = TypeList<Waiting<RingSpsc<T>, Spin>, Waiting<RingSpsc<T>, Yield>,
                            Waiting<RingSpsc<T>, SleepPoll<100>>, Waiting<RingSpsc<T>, Park<>>,
                            Waiting<RingMpmc<T>, Spin>, Waiting<RingMpmc<T>, Yield>,
                            Waiting<RingMpmc<T>, SleepPoll<100>>, Waiting<RingMpmc<T>, Park<>>>;

// Queues with structure: work stealing, and actor-style mailboxes.
template <class T>
using StructuredQueues =
    TypeList<WsPool<T>, Sharded<SplitCv<T>>, Sharded<Waiting<BoostLockfree<T>, Park<>>>>;

template <class T>
using AllQueues = ConcatT<BlockingQueues<T>, PollingQueues<T>, LibraryQueues<T>, RingQueues<T>,
                          StructuredQueues<T>>;

}  // namespace qb
