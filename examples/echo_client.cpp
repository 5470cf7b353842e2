// echo_client ADDRESS [--count N] [--size BYTES] [--backend NAME]
// Connects, sends N Requests of BYTES bytes one at a time, checks each echoed Response and prints
// the round-trip time (p50 / p99 / mean, microseconds) and the message rate.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "cli.hpp"
#include "tofu/engine.hpp"

namespace {
using Clock = std::chrono::steady_clock;
constexpr std::chrono::seconds kTimeout{10};

// Posts `m` and waits for the answer the server gives to it (same message id).
tofu::MessagePtr exchange(tofu::ChannelGroup& group, tofu::MessagePtr& m) {
  const tofu::PostResult r = group.post(m);
  if (r.status != tofu::Status::success) return {};
  tofu::MessagePtr answer = group.wait_receive(kTimeout);
  if (!answer || answer->header.message_id != r.header.message_id) return {};
  return answer;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: echo_client ADDRESS [--count N] [--size BYTES] [--backend poll|epoll|afd]\n");
    return 2;
  }
  const std::string address = example::to_wire_address(argv[1]);
  const std::size_t count = std::stoul(example::option(argc, argv, "--count", "1000"));
  const std::size_t size = std::stoul(example::option(argc, argv, "--size", "64"));
  tofu::EngineOptions options;
  if (!example::engine_options(argc, argv, options) || count == 0 || size > tofu::kMaxBodyLen) {
    std::fprintf(stderr, "echo_client: bad backend, count or size (at most %zu bytes)\n", tofu::kMaxBodyLen);
    return 2;
  }
  std::string error;
  auto engine = tofu::Engine::create(options, &error);
  if (!engine) {
    std::fprintf(stderr, "echo_client: %s\n", error.c_str());
    return 1;
  }
  auto group = engine->create_group();

  // Connect: a HelloRequest with the address; the server answers with a HelloResponse.
  // get(timeout) waits for a free pool message (there always is one here: one exchange at a time).
  tofu::MessagePtr hello = engine->get(std::chrono::seconds(5));
  hello->header = tofu::make_header(tofu::OpCode::hello_request);
  hello->text_headers.add("~connect_to", address);
  tofu::MessagePtr reply = exchange(*group, hello);
  if (!reply || reply->header.opcode != tofu::OpCode::hello_response) {
    std::fprintf(stderr, "echo_client: cannot connect to %s: %s\n", address.c_str(),
                 reply ? std::string(to_string(reply->header.status)).c_str() : "refused or timed out");
    return 1;
  }
  const tofu::ChannelNumber channel = reply->header.channel_number;
  reply.reset();

  const std::string body(size, 'x');
  std::vector<double> rtt_us;
  rtt_us.reserve(count);
  const Clock::time_point start = Clock::now();
  for (std::size_t i = 0; i < count; ++i) {
    tofu::MessagePtr m = engine->get(std::chrono::seconds(5));
    m->header = tofu::make_header(tofu::OpCode::request);
    m->header.channel_number = channel;
    m->set_body(body);
    const Clock::time_point t0 = Clock::now();
    tofu::MessagePtr echo = exchange(*group, m);
    if (!echo || echo->header.opcode != tofu::OpCode::response || echo->body_text() != body) {
      std::fprintf(stderr, "echo_client: request %zu was not echoed\n", i);
      return 1;
    }
    rtt_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  // Leave politely: ByeRequest, answered by the server's ByeResponse.
  tofu::MessagePtr bye = engine->get(std::chrono::seconds(5));
  bye->header = tofu::make_header(tofu::OpCode::bye_request);
  bye->header.channel_number = channel;
  (void)exchange(*group, bye);

  std::sort(rtt_us.begin(), rtt_us.end());
  double sum = 0;
  for (double v : rtt_us) sum += v;
  const auto at = [&](double q) { return rtt_us[static_cast<std::size_t>(q * static_cast<double>(rtt_us.size() - 1))]; };
  std::printf("%zu round trips of %zu bytes (backend %s): p50 %.1f us, p99 %.1f us, mean %.1f us, %.0f msg/s\n", count,
              size, to_string(engine->backend()), at(0.50), at(0.99), sum / static_cast<double>(count),
              static_cast<double>(count) / seconds);
  return 0;
}
