#pragma once
// tofu_perf: what its parts share (not part of the library). Roles in roles.cpp, engine set-up in
// session.cpp, the one place that waits for the engine's resources in send.cpp.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "tofu/engine.hpp"

namespace perf {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string address;           // as given: tcp://HOST:PORT, uds:///PATH or tofu's tcp|HOST|PORT, uds|PATH
  std::size_t size = 64;         // payload bytes per message (0..65535)
  std::size_t count = 10000;     // measured round trips / messages
  std::size_t warmup = 100;      // lat-client: round trips before measuring
  std::string backend = "best";  // poll, epoll, afd or best
  std::size_t pool = 1024;       // EngineOptions::pool.max (and initial)
  std::size_t sessions = 1;      // servers: clients served before exiting (0 = forever)
  double timeout_s = 60;         // any single wait longer than this is a failure
};

// The four roles; each prints one result line to stdout and returns the exit code.
int lat_server(const Options& o);
int lat_client(const Options& o);
int thr_server(const Options& o);
int thr_client(const Options& o);

// tofu's header syntax for an address given as tcp://HOST:PORT ([::1] for IPv6), uds:///PATH or
// uds://PATH; tofu's own tcp|HOST|PORT and uds|PATH pass unchanged.
std::string to_tofu_address(const std::string& arg);

// An engine, its group, and the one channel of a client or the listener of a server.
struct Session {
  std::unique_ptr<tofu::Engine> engine;
  std::shared_ptr<tofu::ChannelGroup> group;
  tofu::ChannelNumber channel = 0;
  std::string where;  // the address bound (servers) or connected to (clients)
  std::chrono::milliseconds timeout{60000};
};
// Creates the engine and listens (prints "tofu_perf: listening on ADDRESS" first, flushed, so a
// script can start the client) / connects. On failure prints why and returns false.
bool start_server(const Options& o, Session& s);
bool start_client(const Options& o, Session& s);
// Closes the client's channel politely (ByeRequest, then the ByeResponse and the close Signal).
void finish_client(Session& s);

// The one place tofu_perf waits for the engine: sends `m` (or, when empty, a message taken from the
// pool, waiting while the pool is exhausted: Engine::get(timeout)) after `fill` has written it,
// waiting while the channel's send queue is full (post with wait_for_room). Returns post()'s
// status (send_queue_full if no room came before `deadline`), or pool_empty when no message freed
// up before it.
tofu::Status send_when_possible(tofu::Engine& engine, tofu::ChannelGroup& group, tofu::MessagePtr m,
                                const std::function<void(tofu::Message&)>& fill, Clock::time_point deadline,
                                tofu::PostResult* posted = nullptr);

}  // namespace perf
