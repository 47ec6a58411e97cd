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

namespace qb {

template <class T>
using AllQueues = TypeList<
    // Natively blocking queues.
    MutexCv<T>, MutexCvOne<T>, SplitCv<T>, MoodycamelBlocking<T>,
    // The waiting anti-patterns, and park, over a plain locked buffer.
    Waiting<MutexDeque<T>, Spin>, Waiting<MutexDeque<T>, Yield>,
    Waiting<MutexDeque<T>, SleepPoll<10>>, Waiting<MutexDeque<T>, SleepPoll<100>>,
    Waiting<MutexDeque<T>, SleepPoll<1000>>, Waiting<MutexDeque<T>, Park<>>,
    // Lock-free queues with the wait strategies.
    Waiting<BoostLockfree<T>, Spin>, Waiting<BoostLockfree<T>, Yield>,
    Waiting<BoostLockfree<T>, Park<>>, Waiting<BoostSpsc<T>, Spin>, Waiting<BoostSpsc<T>, Park<>>,
    Waiting<Moodycamel<T>, Spin>, Waiting<Moodycamel<T>, Yield>, Waiting<Moodycamel<T>, Park<>>,
    // qbench's own rings, spinning and parking (every other strategy wraps them the same way;
    // each registered name adds its share to every test build, which CI's 20 minutes bound).
    Waiting<RingSpsc<T>, Spin>, Waiting<RingSpsc<T>, Park<>>, Waiting<RingMpmc<T>, Spin>,
    Waiting<RingMpmc<T>, Park<>>,
    // Work stealing.
    WsPool<T>,
    // Actor-style mailboxes.
    Sharded<SplitCv<T>>, Sharded<Waiting<BoostLockfree<T>, Park<>>>>;

}  // namespace qb
