#include "harness.hpp"

#include <cstdlib>
#include <utility>

#include <catch2/catch.hpp>

#include "support/skip.hpp"
#include "tofu/address.hpp"

namespace tofu::parity {

Backend backend_under_test() {
  const char* env = std::getenv("TOFU_BACKEND");
  if (env == nullptr || *env == '\0') return Backend::best;
  Backend b = Backend::best;
  INFO("TOFU_BACKEND=" << env);
  REQUIRE(parse_backend(env, b));
  if (!backend_available(b)) TOFU_SKIP(std::string("backend ") + env + " is not available on this host/build");
  return b;
}

std::unique_ptr<Engine> make_engine(EngineOptions options) {
  const Backend wanted = backend_under_test();
  options.backend = wanted;
  std::string error;
  std::unique_ptr<Engine> engine = Engine::create(options, &error);
  INFO("Engine::create failed: " << error);
  REQUIRE(engine != nullptr);
  if (wanted != Backend::best) REQUIRE(engine->backend() == wanted);
  REQUIRE(engine->backend() != Backend::best);
  return engine;
}

std::shared_ptr<ChannelGroup> make_group(Engine& engine) {
  std::shared_ptr<ChannelGroup> g = engine.create_group();
  REQUIRE(g != nullptr);
  return g;
}

std::string describe(const BinaryHeader& h) {
  std::string s = "{op=";
  s += is_valid_opcode(static_cast<std::uint8_t>(h.opcode)) ? std::string(to_string(h.opcode))
                                                            : "raw" + std::to_string(static_cast<unsigned>(h.opcode));
  s += " origin=" + std::string(to_string(h.origin));
  s += " st=" + std::string(to_string(h.status));
  s += " ch=" + std::to_string(h.channel_number);
  s += " id=" + std::to_string(h.message_id);
  if (h.more) s += " more";
  if (h.oob) s += " oob";
  s += "}";
  return s;
}

std::string describe(const Message& m) {
  std::string s = describe(m.header);
  if (const auto r = m.text_headers.find(kReasonHeader)) s += " ~reason=" + std::string(*r);
  s += " th=" + std::to_string(m.text_headers.size_bytes()) + "B body=" + std::to_string(m.body_size()) + "B";
  if (m.body_size() > 0 && m.body_size() <= 40) s += " '" + std::string(m.body_text()) + "'";
  return s;
}

std::string reason_of(const Message& m) {
  const auto r = m.text_headers.find(kReasonHeader);
  return r ? std::string(*r) : std::string();
}

MessagePtr make_message(Engine& engine, OpCode op, ChannelNumber channel, std::string_view body) {
  // Waits for a message, as an application sharing its pool with a busy writer must: a test whose
  // other thread keeps the pool in flight found it empty at that instant (1 of 25,270 tsan runs).
  MessagePtr m = engine.get(kWait);
  REQUIRE(m);
  m->header = make_header(op);
  m->header.channel_number = channel;
  if (!body.empty()) m->set_body(body);
  return m;
}

std::string pattern(std::size_t n, std::size_t seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('!' + (i * 7 + seed * 13 + i / 251) % 94);
  return s;
}

MessagePtr receive(ChannelGroup& group, std::chrono::milliseconds timeout) {
  ReceiveEnd end = ReceiveEnd::message;
  MessagePtr m = group.wait_receive(timeout, &end);
  if (m) return m;
  // Tell a late message (a lost wake-up or a stalled loop that recovered) from one that never comes.
  std::string later;
  if (end == ReceiveEnd::timeout) {
    later = "; nothing in 20 s more either";
    const auto t0 = std::chrono::steady_clock::now();
    ReceiveEnd end2 = ReceiveEnd::message;
    if (MessagePtr late = group.wait_receive(std::chrono::seconds(20), &end2)) {
      later = "; then it came " +
              std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count()) +
              " ms later: " + describe(*late);
    }
  }
  INFO("wait_receive returned no message; end="
       << (end == ReceiveEnd::timeout ? "timeout" : end == ReceiveEnd::shutdown ? "shutdown" : "message") << later);
  REQUIRE(m);
  return m;
}

void expect_shutdown_end(ChannelGroup& group, std::chrono::milliseconds timeout) {
  ReceiveEnd end = ReceiveEnd::message;
  MessagePtr m = group.wait_receive(timeout, &end);
  INFO("unexpected message: " << (m ? describe(*m) : std::string("none")));
  REQUIRE_FALSE(m);
  REQUIRE(end == ReceiveEnd::shutdown);
}

void check_closed_signal(const Message& m, ChannelNumber channel, std::initializer_list<Status> reasons) {
  INFO("expected channel_closed Signal for channel " << channel << ", got " << describe(m));
  CHECK(m.header.opcode == OpCode::signal);
  CHECK(m.header.origin == Origin::engine);
  CHECK(m.header.status == Status::channel_closed);
  CHECK(m.header.channel_number == channel);
  REQUIRE(reasons.size() > 0);
  const std::string reason = reason_of(m);
  bool known = false;
  std::string wanted;
  for (Status s : reasons) {
    known = known || reason == to_string(s);
    wanted += std::string(to_string(s)) + " ";
  }
  INFO("~reason '" << reason << "', wanted one of: " << wanted);
  CHECK(known);
}

MessagePtr expect_closed_signal(ChannelGroup& group, ChannelNumber channel, std::initializer_list<Status> reasons) {
  MessagePtr m = receive(group);
  check_closed_signal(*m, channel, reasons);
  return m;
}

void check_returned(const Message& m, OpCode op, Status status, ChannelNumber channel) {
  INFO("expected " << to_string(op) << " returned by the engine with " << to_string(status) << " on channel "
                   << channel << ", got " << describe(m));
  CHECK(m.header.opcode == op);
  CHECK(m.header.origin == Origin::engine);
  CHECK(m.header.status == status);
  CHECK(m.header.channel_number == channel);
}

namespace {
PostResult post_addressed(Engine& engine, ChannelGroup& group, OpCode op, std::string_view header,
                          std::string_view value) {
  MessagePtr m = make_message(engine, op);
  REQUIRE(m->text_headers.add(header, value) == Status::success);
  PostResult r = group.post(m);
  INFO("post " << to_string(op) << " " << header << ":" << value << " -> " << to_string(r.status));
  CHECK((r.status == Status::success) == !m);
  return r;
}
}  // namespace

PostResult post_welcome(Engine& engine, ChannelGroup& group, std::string_view listen_on) {
  return post_addressed(engine, group, OpCode::welcome_request, kListenOnHeader, listen_on);
}

PostResult post_hello(Engine& engine, ChannelGroup& group, std::string_view connect_to) {
  return post_addressed(engine, group, OpCode::hello_request, kConnectToHeader, connect_to);
}

Listener open_listener(Engine& engine, ChannelGroup& group, std::string_view listen_on) {
  const PostResult r = post_welcome(engine, group, listen_on);
  REQUIRE(r.status == Status::success);
  REQUIRE(r.header.channel_number != 0);
  REQUIRE(r.header.message_id != 0);
  MessagePtr m = receive(group);
  INFO("WelcomeResponse expected for " << listen_on << ", got " << describe(*m));
  REQUIRE(m->header.opcode == OpCode::welcome_response);
  REQUIRE(m->header.status == Status::success);
  REQUIRE(m->header.channel_number == r.header.channel_number);
  REQUIRE(m->header.message_id == r.header.message_id);
  const auto bound = m->text_headers.find(kListenOnHeader);
  REQUIRE(bound.has_value());
  Listener l;
  l.channel = r.header.channel_number;
  l.message_id = r.header.message_id;
  l.address = std::string(*bound);
  const AddressResult parsed = parse_address(l.address, AddressRole::connect);
  INFO("bound address " << l.address);
  REQUIRE(parsed.status == Status::success);
  if (parsed.address.transport == Transport::tcp) {
    REQUIRE(parsed.address.port != 0);
    l.port = parsed.address.port;
  }
  return l;
}

Link start_connect(Engine& client_engine, ChannelGroup& client, std::string_view address) {
  const PostResult r = post_hello(client_engine, client, address);
  REQUIRE(r.status == Status::success);
  REQUIRE(r.header.channel_number != 0);
  REQUIRE(r.header.message_id != 0);
  Link link;
  link.client = r.header.channel_number;
  link.hello_id = r.header.message_id;
  return link;
}

namespace {

void check_hello_response(const Message& m, const Link& link) {
  INFO("HelloResponse expected on channel " << link.client << " id " << link.hello_id << ", got " << describe(m));
  REQUIRE(m.header.opcode == OpCode::hello_response);
  CHECK(m.header.origin == Origin::application);
  CHECK(m.header.status == Status::success);
  CHECK(m.header.channel_number == link.client);
  CHECK(m.header.message_id == link.hello_id);
}

}  // namespace

void expect_hello_response_after_pool_empty(ChannelGroup& client, const Link& link) {
  for (;;) {
    MessagePtr m = receive(client);
    const bool pool_empty = m->header.opcode == OpCode::signal && m->header.origin == Origin::engine &&
                            m->header.status == Status::pool_empty && m->header.channel_number == link.client;
    if (!pool_empty) {
      check_hello_response(*m, link);
      return;
    }
  }
}

void expect_hello_response(ChannelGroup& client, const Link& link) {
  MessagePtr m = receive(client);
  check_hello_response(*m, link);
}

Link handshake(Engine& client_engine, ChannelGroup& client, ChannelGroup& server, std::string_view address) {
  Link link = start_connect(client_engine, client, address);
  MessagePtr hello = receive(server);
  INFO("HelloRequest expected on the server, got " << describe(*hello));
  REQUIRE(hello->header.opcode == OpCode::hello_request);
  CHECK(hello->header.origin == Origin::application);
  CHECK(hello->header.status == Status::success);
  CHECK(hello->header.message_id == link.hello_id);
  REQUIRE(hello->header.channel_number != 0);
  link.server = hello->header.channel_number;
  hello->header.opcode = OpCode::hello_response;
  const PostResult answered = server.post(hello);
  REQUIRE(answered.status == Status::success);
  CHECK(answered.header.channel_number == link.server);
  CHECK(answered.header.message_id == link.hello_id);
  expect_hello_response(client, link);
  return link;
}

BinaryHeader post_ok(ChannelGroup& group, MessagePtr& m) {
  const std::string what = m ? describe(*m) : std::string("empty MessagePtr");
  const PostResult r = group.post(m);
  INFO("post " << what << " -> " << to_string(r.status));
  REQUIRE(r.status == Status::success);
  REQUIRE_FALSE(m);
  return r.header;
}

void wait_channel_count(const Engine& engine, std::size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (engine.channel_count() != n && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  INFO("channel_count() stays " << engine.channel_count() << ", expected " << n);
  REQUIRE(engine.channel_count() == n);
}

EngineOptions pool_options(std::size_t initial, std::size_t max) {
  EngineOptions o;
  o.pool.initial = initial;
  o.pool.max = max;
  return o;
}

void round_trip(Engine& client_engine, ChannelGroup& client, ChannelGroup& server, const Link& link,
                std::string_view body) {
  MessagePtr req = make_message(client_engine, OpCode::request, link.client, body);
  const BinaryHeader sent = post_ok(client, req);
  MessagePtr got = receive(server);
  INFO("Request expected on server channel " << link.server << ", got " << describe(*got));
  REQUIRE(got->header.opcode == OpCode::request);
  CHECK(got->header.origin == Origin::application);
  CHECK(got->header.status == Status::success);
  CHECK(got->header.channel_number == link.server);
  CHECK(got->header.message_id == sent.message_id);
  CHECK(got->body_text() == body);
  const std::string reversed(body.rbegin(), body.rend());
  got->header.opcode = OpCode::response;
  got->set_body(reversed);
  post_ok(server, got);
  MessagePtr resp = receive(client);
  INFO("Response expected on client channel " << link.client << ", got " << describe(*resp));
  REQUIRE(resp->header.opcode == OpCode::response);
  CHECK(resp->header.origin == Origin::application);
  CHECK(resp->header.status == Status::success);
  CHECK(resp->header.channel_number == link.client);
  CHECK(resp->header.message_id == sent.message_id);
  CHECK(resp->body_text() == reversed);
}

EchoServer::EchoServer(std::shared_ptr<ChannelGroup> group, bool hostile_peers)
    : group_(std::move(group)), hostile_peers_(hostile_peers) {
  thread_ = std::thread([this] { run(); });
}

EchoServer::~EchoServer() { stop(); }

void EchoServer::stop() {
  if (!thread_.joinable()) return;
  stop_.store(true);
  (void)group_->update_receiver();
  thread_.join();
}

std::string EchoServer::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const std::string& e : errors_) out += (out.empty() ? "" : "; ") + e;
  if (error_count_ > errors_.size()) out += "; and " + std::to_string(error_count_ - errors_.size()) + " more";
  return out;
}

void EchoServer::fail(std::string what) {
  std::lock_guard<std::mutex> lock(mu_);
  ++error_count_;
  if (errors_.size() < 10) errors_.push_back(std::move(what));
}

void EchoServer::run() {
  for (;;) {
    ReceiveEnd end = ReceiveEnd::message;
    MessagePtr m = group_->wait_receive(std::chrono::milliseconds(60000), &end);
    if (stop_.load()) return;
    if (!m) {
      if (end == ReceiveEnd::shutdown) return;
      continue;
    }
    const BinaryHeader h = m->header;
    if (h.origin == Origin::engine) {
      if (h.opcode == OpCode::signal && h.status == Status::channel_closed) {
        closed_.add();
      } else if (h.status == Status::shutdown_started || h.status == Status::channel_closed ||
                 h.status == Status::receiver_update) {
        // a message of ours handed back at close or shutdown, or a wake-up
      } else if (hostile_peers_ && h.opcode == OpCode::signal && h.status == Status::pool_empty) {
        pool_signals_.fetch_add(1);
      } else if (hostile_peers_ && h.opcode != OpCode::signal) {
        returned_.fetch_add(1);  // one of our answers handed back when its channel closed
      } else {
        fail("EchoServer: unexpected engine report " + describe(*m));
      }
      continue;
    }
    OpCode answer = h.opcode;
    switch (h.opcode) {
      case OpCode::hello_request: answer = OpCode::hello_response; hellos_.add(); break;
      case OpCode::request: answer = OpCode::response; break;
      case OpCode::bye_request: answer = OpCode::bye_response; break;
      case OpCode::welcome_response:
      case OpCode::signal:
      case OpCode::bye_response:
        continue;
      default:
        fail("EchoServer: unexpected message " + describe(*m));
        continue;
    }
    m->header.opcode = answer;
    const PostResult r = group_->post(m);
    if (r.status == Status::success) {
      if (answer == OpCode::response) echoed_.add();
    } else if (hostile_peers_ && r.status == Status::send_queue_full) {
      dropped_full_.fetch_add(1);  // that peer does not read: drop the answer (m goes back to the pool)
    } else if (r.status != Status::invalid_channel_number && r.status != Status::shutdown_started) {
      // invalid_channel_number: the peer closed before we answered, which tests may do on purpose
      fail("EchoServer: post of " + std::string(to_string(answer)) + " failed: " + std::string(to_string(r.status)));
    }
  }
}

}  // namespace tofu::parity
