// The item every run pushes, and the layout of its id: producer, key and sequence number, or a
// tree node's root and position; the checksum mix that verification sums. Standard library only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

namespace qb {

// The item every run pushes: 24 bytes, trivially copyable.
struct Item {
  std::uint64_t id;          // see the layouts below
  std::int64_t intended_ns;  // when the schedule meant to send it (tree children: when spawned)
  std::int64_t pushed_ns;    // when the producer called push
};
static_assert(std::is_trivially_copyable_v<Item> && sizeof(Item) == 24);

// Item ids. Plain items: producer (8 bits) | key (16 bits) | sequence number (40 bits).
// Tree nodes: producer (8 bits) | root number (32 bits) | node (24 bits), nodes numbered in
// heap order (node n's children are n*fanout+1 ... n*fanout+fanout).
inline constexpr int item_seq_bits = 40;
inline constexpr int item_key_bits = 16;
inline constexpr int item_producer_shift = 56;
inline constexpr int tree_node_bits = 24;
inline constexpr std::uint64_t item_seq_mask = (std::uint64_t{1} << item_seq_bits) - 1;
inline constexpr std::uint64_t max_keys = std::uint64_t{1} << item_key_bits;
inline constexpr std::uint64_t max_tree_nodes = std::uint64_t{1} << tree_node_bits;

constexpr std::uint64_t make_item_id(std::uint64_t producer, std::uint64_t key,
                                     std::uint64_t seq) noexcept {
  return producer << item_producer_shift | key << item_seq_bits | seq;
}
constexpr std::uint64_t item_producer(std::uint64_t id) noexcept {
  return id >> item_producer_shift;
}
constexpr std::uint64_t item_key(std::uint64_t id) noexcept {
  return (id >> item_seq_bits) & (max_keys - 1);
}
constexpr std::uint64_t item_seq(std::uint64_t id) noexcept {
  return id & item_seq_mask;
}
// Poison pills (Shutdown::poison): producer 255 at sequence 2^40-1, never reached by a real
// item (nor by a tree node: no tree has exactly 2^24 nodes). Pill i carries key i, so that a
// queue routing by key (sharded mailboxes) delivers one pill to every consumer.
constexpr std::uint64_t poison_pill(std::uint64_t i) noexcept {
  return make_item_id(255, i % max_keys, item_seq_mask);
}
constexpr bool is_poison(std::uint64_t id) noexcept {
  return (id | ((max_keys - 1) << item_seq_bits)) == ~std::uint64_t{0};
}
constexpr std::uint64_t make_tree_id(std::uint64_t producer, std::uint64_t root,
                                     std::uint64_t node) noexcept {
  return producer << item_producer_shift | root << tree_node_bits | node;
}
constexpr std::uint64_t tree_node(std::uint64_t id) noexcept {
  return id & (max_tree_nodes - 1);
}

// The key a sharded queue routes by (queues/sharded.hpp finds it by argument-dependent lookup).
constexpr std::uint64_t shard_key(const Item& item) noexcept {
  return item_key(item.id);
}

// What a queue carries when its user passes N bytes (`--item-bytes N`): the id (what verification
// counts and sums) and bytes the queue copies like any payload. From 24 bytes on, Item's two
// timestamps come first (latency can be measured); 8 and 16 bytes carry none. Item itself is the
// 24-byte case. Every carried type V is built the same way, `V{id, intended, pushed}`, and written
// over the same way, `stamp(v, id, intended, pushed)` (a payload too small for the times drops
// them). Item is rebuilt whole by aggregate initialisation, in place, and stays in registers:
// built by a function returning it, it lived on the stack and was copied into the ring with a load
// wider than its stores, a failed store forward per push that halved boost_spsc's flood.
//
// The larger payloads live on the stack whatever is done (GCC does not take an aggregate with an
// array apart), and a queue copies them 16 bytes at a time. So a producer keeps one payload for
// the whole run, built once with the rest zeroed, and `stamp`s each item into it: the id and the
// times, in whole 16-byte lanes (one store each), so that each of the copy's loads finds one store
// that holds all of it, and the bytes past them, written once, are plain cached loads. Measured on
// the 2-core VM: written field by field (8-byte id, 16-byte times at offset 8), each of the copy's
// loads spanned two stores, a failed store forward each (ring_spsc's 64-byte flood rose 5.8x when
// they were written in lanes); rebuilt whole per item (every lane stored, then copied), an item
// took 2-3x a stamp's time on ring_spsc at 64 bytes and 3-10x on boost_spsc (qb_item_bench,
// which also times assigning the id alone, what the bare reference did: worse still).
namespace detail {
using Lane = std::uint64_t __attribute__((vector_size(16)));  // one 16-byte store (GCC, Clang)
inline void store_lane(unsigned char* at, std::uint64_t low, std::uint64_t high) noexcept {
  const Lane lane{low, high};
  std::memcpy(at, &lane, sizeof lane);
}
}  // namespace detail

template <std::size_t N>
struct Payload : Item {
  static_assert(N > sizeof(Item) && N % 16 == 0, "whole 16-byte lanes");
  Payload() = default;
  Payload(std::uint64_t i, std::int64_t intended, std::int64_t pushed) noexcept {
    for (std::size_t at = stamp_bytes; at < N; at += 16)
      detail::store_lane(reinterpret_cast<unsigned char*>(this) + at, 0, 0);
    stamp(i, intended, pushed);
  }
  // The id and times (the first two lanes; the bytes of the second past them stay zero).
  void stamp(std::uint64_t i, std::int64_t intended, std::int64_t pushed) noexcept {
    auto* bytes = reinterpret_cast<unsigned char*>(this);
    detail::store_lane(bytes, i, static_cast<std::uint64_t>(intended));
    detail::store_lane(bytes + 16, static_cast<std::uint64_t>(pushed), 0);
  }
  static constexpr std::size_t stamp_bytes = 32;
  std::byte rest[N - sizeof(Item)];
};
template <>
struct Payload<8> {
  Payload() = default;
  constexpr Payload(std::uint64_t i, std::int64_t, std::int64_t) noexcept : id(i) {}
  void stamp(std::uint64_t i, std::int64_t, std::int64_t) noexcept { id = i; }
  std::uint64_t id;
};
template <>
struct Payload<16> {
  Payload() = default;
  Payload(std::uint64_t i, std::int64_t intended, std::int64_t pushed) noexcept {
    stamp(i, intended, pushed);
  }
  void stamp(std::uint64_t i, std::int64_t, std::int64_t) noexcept {
    detail::store_lane(reinterpret_cast<unsigned char*>(this), i, 0);
  }
  std::uint64_t id;
  std::byte rest[8];
};
// Writes item `i` with its times over `v`, a producer's item of the run (see Payload): Item is
// rebuilt whole (it lives in registers), a payload rewrites its stamp only.
inline void stamp(Item& v, std::uint64_t i, std::int64_t intended, std::int64_t pushed) noexcept {
  v = Item{i, intended, pushed};
}
template <class V>
void stamp(V& v, std::uint64_t i, std::int64_t intended, std::int64_t pushed) noexcept {
  v.stamp(i, intended, pushed);
}
// Whether V carries the send and push times (Item, and payloads of more than 24 bytes).
template <class V>
concept Stamped = requires(V v) {
  v.intended_ns;
  v.pushed_ns;
};
template <std::size_t N>
constexpr std::uint64_t shard_key(const Payload<N>& p) noexcept {
  return item_key(p.id);
}

// The sizes a queue is built for, in bytes: a pointer, two words, Item, a cache line, four.
// Sanitizer builds (CMakeLists.txt, QB_SANITIZER_BUILD; correctness only) build one size of each
// kind the harness treats differently: too small for the times (8), Item (24), a payload that
// carries them and more (256). 16 and 64 run the same code with other copy sizes, and building
// every queue for them under a sanitizer cost a third of each sanitizer build.
#if defined(QB_SANITIZER_BUILD)
using ItemSizes = std::index_sequence<8, sizeof(Item), 256>;
#else
using ItemSizes = std::index_sequence<8, 16, sizeof(Item), 64, 256>;
#endif
template <std::size_t... N>
constexpr std::array<std::size_t, sizeof...(N)> size_array(std::index_sequence<N...>) noexcept {
  return {N...};
}
inline constexpr auto item_sizes = size_array(ItemSizes{});
template <std::size_t N>
using Carried = std::conditional_t<N == sizeof(Item), Item, Payload<N>>;
static_assert(sizeof(Carried<8>) == 8 && sizeof(Carried<16>) == 16 && sizeof(Carried<64>) == 64 &&
              sizeof(Carried<256>) == 256 && std::is_trivially_copyable_v<Carried<256>>);
// The index of `bytes` in item_sizes, or item_sizes.size() when it is not one of them.
constexpr std::size_t item_size_index(std::size_t bytes) noexcept {
  std::size_t i = 0;
  while (i < item_sizes.size() && item_sizes[i] != bytes)
    ++i;
  return i;
}

// A 64-bit mix (splitmix64's finalizer): the checksum adds mix(id) over items, so a lost item
// and a duplicated one do not cancel out.
constexpr std::uint64_t mix_id(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// The sum of mix_id over the ids [begin, end).
constexpr std::uint64_t mix_ids(std::uint64_t begin, std::uint64_t end) noexcept {
  std::uint64_t sum = 0;
  for (std::uint64_t x = begin; x != end; ++x)
    sum += mix_id(x);
  return sum;
}

// The checksum of every node of the tree whose root has id `root_id` (nodes 0 .. nodes-1): a
// root's node bits are 0, so its nodes' ids are root_id .. root_id + nodes - 1.
inline std::uint64_t tree_checksum(std::uint64_t root_id, std::uint64_t nodes) noexcept {
  return mix_ids(root_id, root_id + nodes);
}

}  // namespace qb
