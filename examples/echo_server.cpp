// echo_server ADDRESS [--count N] [--backend NAME]
//   ADDRESS: tcp|127.0.0.1|7099, uds|/tmp/echo.sock, tcp://127.0.0.1:7099 or uds:///tmp/echo.sock
// Answers HelloRequest with HelloResponse and every Request with a Response carrying the same
// body. Runs until SIGINT, or with --count N until N requests were answered and the client left.
#include <csignal>
#include <cstdio>
#include <string>

#include "cli.hpp"
#include "tofu/engine.hpp"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void on_sigint(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: echo_server ADDRESS [--count N] [--backend poll|epoll|afd]\n");
    return 2;
  }
  const std::string address = example::to_wire_address(argv[1]);
  const unsigned long count = std::stoul(example::option(argc, argv, "--count", "0"));  // 0 = until SIGINT
  tofu::EngineOptions options;
  if (!example::engine_options(argc, argv, options)) {
    std::fprintf(stderr, "echo_server: unknown backend\n");
    return 2;
  }
  std::string error;
  auto engine = tofu::Engine::create(options, &error);
  if (!engine) {
    std::fprintf(stderr, "echo_server: %s\n", error.c_str());
    return 1;
  }
  auto group = engine->create_group();

  // Listen: a WelcomeRequest with the address; the WelcomeResponse says where we are bound.
  tofu::MessagePtr welcome = engine->get(std::chrono::seconds(5));
  welcome->header = tofu::make_header(tofu::OpCode::welcome_request);
  welcome->text_headers.add("~listen_on", address);
  if (const auto r = group->post(welcome); r.status != tofu::Status::success) {
    std::fprintf(stderr, "echo_server: bad address %s: %s\n", address.c_str(), std::string(to_string(r.status)).c_str());
    return 2;
  }
  tofu::MessagePtr answer = group->wait_receive(std::chrono::seconds(10));
  if (!answer || answer->header.status != tofu::Status::success) {
    std::fprintf(stderr, "echo_server: cannot listen on %s: %s\n", address.c_str(),
                 answer ? std::string(to_string(answer->header.status)).c_str() : "timeout");
    return 1;
  }
  std::printf("listening on %s (backend %s)\n", std::string(*answer->text_headers.find("~listen_on")).c_str(),
              to_string(engine->backend()));
  std::fflush(stdout);
  answer.reset();  // back to the pool

  std::signal(SIGINT, on_sigint);
  unsigned long served = 0;
  unsigned long dropped = 0;  // answers to a peer that does not read (its queue is full)
  while (g_stop == 0) {
    tofu::MessagePtr m = group->wait_receive(std::chrono::milliseconds(200));
    if (!m) continue;  // timeout: look at g_stop again
    switch (m->header.opcode) {
      case tofu::OpCode::hello_request: m->header.opcode = tofu::OpCode::hello_response; break;
      case tofu::OpCode::request: m->header.opcode = tofu::OpCode::response; ++served; break;
      case tofu::OpCode::bye_request: m->header.opcode = tofu::OpCode::bye_response; break;
      case tofu::OpCode::signal:  // engine reports: a client left
        if (m->header.status == tofu::Status::channel_closed && count != 0 && served >= count) g_stop = 1;
        continue;
      default: continue;  // anything else goes back to the pool
    }
    // The same message goes back: same channel and message id, same body and headers. A peer
    // that sends and never reads fills its channel's queue (spec 9.1): its answers are dropped
    // (m goes back to the pool) and the engine closes it after FlowOptions::send_timeout.
    if (const auto r = group->post(m); r.status == tofu::Status::send_queue_full) {
      ++dropped;
    } else if (r.status != tofu::Status::success) {
      std::fprintf(stderr, "echo_server: post: %s\n", std::string(to_string(r.status)).c_str());
    }
  }
  std::printf("served %lu requests (%lu answers dropped: their peer did not read)\n", served, dropped);
  return 0;  // the engine's destructor closes everything
}
