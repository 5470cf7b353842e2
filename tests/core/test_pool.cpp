#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/blocked_waiter.hpp"
#include "tofu/pool.hpp"

using tofu::MessagePtr;
using tofu::Pool;
using tofu::PoolOptions;
using tofu::Status;

TEST_CASE("pool: starts with the initial messages idle", "[core]") {
  const auto pool = Pool::create({4, 10});
  const auto s = pool->stats();
  CHECK(s.idle == 4);
  CHECK(s.in_use == 0);
  CHECK(s.created == 4);
  CHECK(s.max == 10);
  CHECK(s.high_water == 0);
  const auto defaults = Pool::create();
  CHECK(defaults->stats().idle == 16);
  CHECK(defaults->stats().max == 64);
}

TEST_CASE("pool: max is raised to initial when smaller", "[core]") {
  const auto pool = Pool::create({8, 3});
  CHECK(pool->stats().max == 8);
}

TEST_CASE("pool: get returns empty when max messages are alive", "[core]") {
  const auto pool = Pool::create({2, 5});
  std::vector<MessagePtr> held;
  for (int i = 0; i < 5; ++i) {
    MessagePtr m = pool->get();
    REQUIRE(m);
    held.push_back(std::move(m));
  }
  auto s = pool->stats();
  CHECK(s.in_use == 5);
  CHECK(s.idle == 0);
  CHECK(s.created == 5);
  CHECK(s.high_water == 5);

  const MessagePtr none = pool->get();
  CHECK_FALSE(none);
  CHECK(pool->stats().in_use == 5);  // a failed get is not counted

  held.pop_back();
  s = pool->stats();
  CHECK(s.in_use == 4);
  CHECK(s.idle == 1);
  CHECK(pool->get());  // available again (and returned at once: the temporary dies)
  CHECK(pool->stats().created == 5);  // reused, not allocated
  CHECK(pool->stats().high_water == 5);
}

TEST_CASE("pool: a returned message is reused and comes back cleared", "[core]") {
  const auto pool = Pool::create({1, 1});
  MessagePtr m = pool->get();
  REQUIRE(m);
  const tofu::Message* first = m.get();
  m->header.channel_number = 42;
  m->header.message_id = 7;
  m->header.opcode = tofu::OpCode::signal;
  REQUIRE(m->text_headers.add("secret", "value") == Status::success);
  m->set_body("private data");
  m.reset();

  MessagePtr again = pool->get();
  REQUIRE(again);
  CHECK(again.get() == first);
  CHECK(again->header == tofu::BinaryHeader{});
  CHECK(again->text_headers.empty());
  CHECK(again->body_size() == 0);
  // Growing the body again shows zeroes, not the previous user's bytes.
  const auto w = again->resize_body(12);
  for (const std::byte b : w) CHECK(b == std::byte{0});
}

TEST_CASE("pool: oversized buffers are released on return", "[core]") {
  PoolOptions opts;
  opts.initial = 1;
  opts.max = 1;
  opts.retain_capacity = 4096;
  const auto pool = Pool::create(opts);
  MessagePtr m = pool->get();
  REQUIRE(m);
  m->resize_body(1 << 20);
  m->text_headers.resize_raw(100000);
  m.reset();
  MessagePtr again = pool->get();
  REQUIRE(again);
  CHECK(again->body_capacity() <= 4096);
  CHECK(again->text_headers.capacity() <= 4096);
  // Buffers within the bound keep their capacity.
  again->resize_body(3000);
  const std::size_t cap = again->body_capacity();
  again.reset();
  CHECK(pool->get()->body_capacity() == cap);
}

TEST_CASE("pool: clone copies a message into a pooled one", "[core]") {
  const auto pool = Pool::create({1, 1});
  tofu::Message src;
  src.header.channel_number = 3;
  src.set_body("payload");
  MessagePtr c = pool->clone(src);
  REQUIRE(c);
  CHECK(*c == src);
  CHECK_FALSE(pool->clone(src));  // exhausted
}

TEST_CASE("pool: a message outliving its pool is freed safely", "[core]") {
  auto pool = Pool::create({2, 4});
  MessagePtr a = pool->get();
  MessagePtr b = pool->get();
  REQUIRE(a);
  REQUIRE(b);
  a->set_body("still usable");
  pool.reset();  // the pool is gone; a and b are now plain owners
  CHECK(a->body_text() == "still usable");
  a.reset();  // freed, not recycled (ASan reports a leak or use-after-free otherwise)
  b.reset();
  MessagePtr empty;  // a default MessagePtr is empty and safe to destroy
  CHECK_FALSE(empty);
}

TEST_CASE("pool: notify_when_available runs at once when a message is available", "[core]") {
  const auto pool = Pool::create({1, 1});
  int calls = 0;
  pool->notify_when_available([&calls] { ++calls; });
  CHECK(calls == 1);
  MessagePtr held = pool->get();
  REQUIRE(held);
  held.reset();
  CHECK(calls == 1);  // one-shot
  pool->notify_when_available({});  // an empty callback is ignored
}

TEST_CASE("pool: notify_when_available runs once when a message comes back", "[core]") {
  const auto pool = Pool::create({0, 2});
  MessagePtr a = pool->get();
  MessagePtr b = pool->get();
  REQUIRE(a);
  REQUIRE(b);
  int first = 0;
  int second = 0;
  MessagePtr taken_in_callback;
  pool->notify_when_available([&] {
    ++first;
    taken_in_callback = pool->get();  // runs outside the lock: calling back into the pool works
  });
  pool->notify_when_available([&second] { ++second; });
  CHECK(first == 0);
  CHECK(second == 0);
  a.reset();
  CHECK(first == 1);
  CHECK(second == 1);
  CHECK(taken_in_callback);
  b.reset();
  CHECK(first == 1);
  CHECK(second == 1);
}

TEST_CASE("pool: notify_when_available with at_least waits until that many are free", "[core]") {
  const auto pool = Pool::create({0, 4});
  std::vector<MessagePtr> held;
  for (int i = 0; i < 4; ++i) held.push_back(pool->get());
  int batch = 0;
  int one = 0;
  pool->notify_when_available([&batch] { ++batch; }, 3);
  pool->notify_when_available([&one] { ++one; });
  held.pop_back();  // 1 free: the plain watch runs, the batch watch keeps waiting
  CHECK(one == 1);
  CHECK(batch == 0);
  held.pop_back();  // 2 free
  CHECK(batch == 0);
  held.pop_back();  // 3 free
  CHECK(batch == 1);
  held.pop_back();
  CHECK(batch == 1);  // one-shot
  int clamped = 0;
  pool->notify_when_available([&clamped] { ++clamped; }, 100);  // more than max: max is enough
  CHECK(clamped == 1);
  int zero = 0;
  pool->notify_when_available([&zero] { ++zero; }, 0);  // 0 means 1
  CHECK(zero == 1);
}

TEST_CASE("pool: waiting callbacks are dropped with the pool", "[core]") {
  auto pool = Pool::create({0, 1});
  MessagePtr a = pool->get();
  REQUIRE(a);
  int calls = 0;
  pool->notify_when_available([&calls] { ++calls; });
  pool.reset();
  a.reset();
  CHECK(calls == 0);
}

TEST_CASE("pool: concurrent get and put keep the accounting exact", "[core]") {
  constexpr std::size_t kMax = 8;
  constexpr int kThreads = 4;
  constexpr int kRounds = 5000;
  const auto pool = Pool::create({2, kMax});
  std::atomic<int> alive{0};
  std::atomic<int> peak{0};
  std::atomic<int> empties{0};
  std::atomic<int> dirty{0};  // Catch2 assertions are not thread-safe: count in the threads, check after
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<MessagePtr> mine;
      for (int i = 0; i < kRounds; ++i) {
        if (MessagePtr m = pool->get()) {
          const int now = ++alive;
          int p = peak.load();
          while (now > p && !peak.compare_exchange_weak(p, now)) {
          }
          if (m->body_size() != 0 || !m->text_headers.empty()) ++dirty;  // must come back cleared
          m->set_body(std::to_string(t * kRounds + i));
          mine.push_back(std::move(m));
        } else {
          ++empties;
        }
        if (mine.size() >= 3 || (i % 2) == 1) {
          while (!mine.empty()) {
            --alive;
            mine.pop_back();
          }
        }
      }
      alive -= static_cast<int>(mine.size());
      mine.clear();
    });
  }
  for (auto& th : threads) th.join();
  const auto s = pool->stats();
  CHECK(s.in_use == 0);
  CHECK(s.idle == s.created);
  CHECK(s.created <= kMax);
  CHECK(s.high_water <= kMax);
  CHECK(s.high_water >= 1);
  CHECK(peak.load() <= static_cast<int>(kMax));
  CHECK(alive.load() == 0);
  CHECK(dirty.load() == 0);
}

TEST_CASE("pool: a waiter on another thread is woken by a return", "[core]") {
  const auto pool = Pool::create({0, 1});
  MessagePtr held = pool->get();
  REQUIRE(held);
  std::promise<MessagePtr> woke;
  auto got = woke.get_future();
  pool->notify_when_available([&] { woke.set_value(pool->get()); });
  std::thread returner([&held] { held.reset(); });
  returner.join();
  MessagePtr m = got.get();
  CHECK(m);
  CHECK(pool->stats().in_use == 1);
}

TEST_CASE("pool: a batch return wakes every get(timeout) it has messages for", "[core]") {
  using namespace std::chrono_literals;
  const auto pool = Pool::create({0, 3});
  std::vector<MessagePtr> held;
  for (int i = 0; i < 3; ++i) held.push_back(pool->get());
  REQUIRE(pool->stats().in_use == 3);
  // Each sleeper keeps what it gets: a message it dropped would come back and wake the next one,
  // hiding a batch return that woke only one of them.
  std::array<MessagePtr, 3> got;
  std::vector<std::unique_ptr<tofu::test::BlockedWaiter>> sleepers;
  for (std::size_t i = 0; i < got.size(); ++i) {
    sleepers.push_back(std::make_unique<tofu::test::BlockedWaiter>([&pool, &got, i] { got[i] = pool->get(30s); }));
    if (tofu::test::BlockedWaiter::can_confirm_asleep()) CHECK(sleepers.back()->asleep_confirmed());
  }
  pool->recycle_all(held);  // one batch of three
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("sleeper " << i);
    REQUIRE(sleepers[i]->returned_within(10'000ms));
    CHECK(got[i]);
  }
  CHECK(pool->stats().in_use == 3);
}
