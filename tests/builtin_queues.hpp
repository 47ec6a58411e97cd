// The built-in queues the conformance kit's suites run on: one group of queues/all_queues.hpp
// per executable (CMakeLists.txt defines QB_TEST_GROUP), so that the groups compile in parallel.
#pragma once

#include <type_traits>

#include "qbench/testing/support.hpp"
#include "queues/all_queues.hpp"

namespace qb::conformance {

// Each base of a group once: its Waiting<Base, Park<>> (or the type itself when it is not a
// Waiting<>). CMakeLists.txt asks for it (QB_TEST_ONE_STRATEGY) where a group's wait strategies
// are tested elsewhere in the same build: the sanitizer builds test every strategy with the
// ring group and each library adapter once, which halves the library group's compile time.
template <class Q, class = void>
struct ParkedOrNotWaiting : std::true_type {};
template <class Q>
struct ParkedOrNotWaiting<Q, std::void_t<typename Q::strategy>>
    : std::is_same<typename Q::strategy, Park<>> {};

template <class L>
struct OneStrategy;
template <>
struct OneStrategy<TypeList<>> {
  using type = TypeList<>;
};
template <class Q, class... Rest>
struct OneStrategy<TypeList<Q, Rest...>> {
  using tail = typename OneStrategy<TypeList<Rest...>>::type;
  using type = std::conditional_t<ParkedOrNotWaiting<Q>::value, ConcatT<TypeList<Q>, tail>, tail>;
};

#if defined(QB_TEST_GROUP)
using Group = QB_TEST_GROUP<Item>;
#else
using Group = AllQueues<Item>;
#endif
#if defined(QB_TEST_ONE_STRATEGY)
using BuiltInQueues = TypesOf<typename OneStrategy<Group>::type>::type;
#else
using BuiltInQueues = TypesOf<Group>::type;
#endif
}  // namespace qb::conformance
