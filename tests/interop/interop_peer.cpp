// One side of the Linux <-> Windows interop test: the same source built natively and with
// mingw-w64, so a Linux engine and a Windows engine (under Wine) talk over loopback TCP.
//   interop_peer serve PORT_FILE            listen on tcp|127.0.0.1|0, write the port, echo
//                                           every Request as a Response until a ByeRequest
//   interop_peer drive tcp|HOST|PORT COUNT  handshake, send COUNT requests with pseudo-random
//                                           headers and bodies (0..2048 bytes, and 65535 bytes
//                                           every 1000th), verify each echo byte-exact, say Bye
// Exit 0 = every message came back identical.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

#include "tofu/address.hpp"
#include "tofu/engine.hpp"

using namespace tofu;
using namespace std::chrono_literals;

namespace {

constexpr auto kTimeout = 20s;

int fail(const std::string& what) {
  std::fprintf(stderr, "interop_peer: %s\n", what.c_str());
  return 1;
}

MessagePtr receive(ChannelGroup& g, OpCode want) {
  for (;;) {
    MessagePtr m = g.wait_receive(kTimeout);
    if (!m) return m;
    if (m->header.opcode == want && m->header.origin == Origin::application) return m;
    std::fprintf(stderr, "interop_peer: skipping %s status %s\n", std::string(to_string(m->header.opcode)).c_str(),
                 std::string(to_string(m->header.status)).c_str());
    if (m->header.origin == Origin::engine && m->header.opcode == OpCode::signal &&
        m->header.status == Status::channel_closed) {
      return {};
    }
  }
}

int serve(const char* port_file) {
  auto engine = Engine::create({});
  if (!engine) return fail("engine");
  auto g = engine->create_group();
  MessagePtr w = engine->get();
  if (!ok(prepare_welcome(*w, Address::tcp("127.0.0.1", 0)))) return fail("prepare_welcome");
  if (!ok(g->post(w).status)) return fail("post welcome");
  MessagePtr resp = receive(*g, OpCode::welcome_response);
  if (!resp || !ok(resp->header.status)) return fail("welcome response");
  const std::string bound(*resp->text_headers.find(kListenOnHeader));
  {
    std::ofstream(port_file) << bound.substr(bound.rfind('|') + 1) << "\n";
  }
  for (;;) {
    MessagePtr m = g->wait_receive(60s);
    if (!m) return fail("server timed out");
    const OpCode op = m->header.opcode;
    if (m->header.origin == Origin::engine) continue;  // e.g. the listener's own reports
    if (op == OpCode::hello_request) m->header.opcode = OpCode::hello_response;
    else if (op == OpCode::request) m->header.opcode = OpCode::response;
    else if (op == OpCode::bye_request) m->header.opcode = OpCode::bye_response;
    else continue;
    if (!ok(g->post(m).status)) return fail("server post");
    if (op == OpCode::bye_request) {
      // The channel closes once our ByeResponse is on the wire: wait for that, so shutting the
      // engine down does not take the unsent ByeResponse back.
      for (MessagePtr r = g->wait_receive(kTimeout); r; r = g->wait_receive(kTimeout)) {
        if (r->header.opcode == OpCode::signal && r->header.status == Status::channel_closed) return 0;
      }
      return fail("the channel did not close after ByeResponse");
    }
  }
}

int drive(const char* address, long count) {
  auto engine = Engine::create({});
  if (!engine) return fail("engine");
  auto g = engine->create_group();
  MessagePtr h = engine->get();
  const AddressResult a = parse_address(address, AddressRole::connect);
  if (!ok(a.status) || !ok(prepare_hello(*h, a.address))) return fail("address");
  const PostResult hello = g->post(h);
  if (!ok(hello.status)) return fail("post hello");
  const ChannelNumber ch = hello.header.channel_number;
  if (!receive(*g, OpCode::hello_response)) return fail("no hello response");
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> size(0, 2048);
  for (long i = 0; i < count; ++i) {
    MessagePtr m;
    while (!(m = engine->get())) {  // pool exhausted: the engine has our messages in flight
      MessagePtr back = g->wait_receive(kTimeout);
      if (!back) return fail("pool empty and nothing came back");
    }
    m->header.opcode = OpCode::request;
    m->header.channel_number = ch;
    std::string body(static_cast<std::size_t>(i % 1000 == 999 ? 65535 : size(rng)), '\0');
    for (char& c : body) c = static_cast<char>(byte(rng));
    m->set_body(body);
    (void)m->text_headers.add("seq", std::to_string(i));
    Message expected = m->clone();
    const PostResult r = g->post(m);
    if (!ok(r.status)) return fail("post request");
    MessagePtr echo = receive(*g, OpCode::response);
    if (!echo) return fail("no echo for message " + std::to_string(i));
    if (echo->body_size() != expected.body_size() || echo->body_text() != expected.body_text() ||
        echo->text_headers.view() != expected.text_headers.view() ||
        echo->header.message_id != r.header.message_id || echo->header.channel_number != ch) {
      return fail("echo " + std::to_string(i) + " differs");
    }
  }
  MessagePtr bye = engine->get();
  bye->header.opcode = OpCode::bye_request;
  bye->header.channel_number = ch;
  if (!ok(g->post(bye).status)) return fail("post bye");
  if (!receive(*g, OpCode::bye_response)) return fail("no bye response");
  std::printf("interop_peer: %ld messages echoed byte-exact\n", count);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "serve") return serve(argv[2]);
  if (argc == 4 && std::string(argv[1]) == "drive") return drive(argv[2], std::atol(argv[3]));
  std::fprintf(stderr, "usage: interop_peer serve PORT_FILE | drive tcp|HOST|PORT COUNT\n");
  return 2;
}
