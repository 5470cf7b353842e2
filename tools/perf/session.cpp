// Engine set-up of tofu_perf: address syntax, listen, connect, polite close.
#include <cstdio>
#include <string>

#include "perf.hpp"
#include "tofu/address.hpp"

namespace perf {
namespace {

tofu::EngineOptions engine_options(const Options& o) {
  tofu::EngineOptions e;
  (void)tofu::parse_backend(o.backend, e.backend);  // validated by the command line
  e.pool.initial = o.pool;
  e.pool.max = o.pool;
  return e;
}

bool create(const Options& o, Session& s, const char* role) {
  std::string error;
  s.timeout = std::chrono::milliseconds(static_cast<long long>(o.timeout_s * 1000));
  s.engine = tofu::Engine::create(engine_options(o), &error);
  if (!s.engine) {
    std::fprintf(stderr, "%s: %s\n", role, error.c_str());
    return false;
  }
  s.group = s.engine->create_group();
  return s.group != nullptr;
}

// Posts a Welcome/Hello request for `address` and waits for the engine's or the peer's answer.
tofu::MessagePtr open(Session& s, tofu::OpCode op, const std::string& address, const char* role) {
  tofu::MessagePtr m = s.engine->get();
  m->header = tofu::make_header(op);
  (void)m->text_headers.add(op == tofu::OpCode::welcome_request ? tofu::kListenOnHeader : tofu::kConnectToHeader,
                            address);
  const tofu::PostResult r = s.group->post(m);
  if (r.status != tofu::Status::success) {
    std::fprintf(stderr, "%s: %s refused: %s\n", role, address.c_str(), std::string(to_string(r.status)).c_str());
    return {};
  }
  tofu::MessagePtr answer = s.group->wait_receive(s.timeout);
  if (!answer || answer->header.status != tofu::Status::success) {
    std::fprintf(stderr, "%s: cannot %s %s: %s\n", role, op == tofu::OpCode::welcome_request ? "listen on" : "connect to",
                 address.c_str(), answer ? std::string(to_string(answer->header.status)).c_str() : "timed out");
    return {};
  }
  return answer;
}

}  // namespace

std::string to_tofu_address(const std::string& arg) {
  if (arg.rfind("uds://", 0) == 0) return "uds|" + arg.substr(6);
  if (arg.rfind("tcp://", 0) != 0) return arg;
  const std::string rest = arg.substr(6);
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos) return arg;  // post() will say invalid_address
  std::string host = rest.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "*") host.clear();  // all interfaces
  return "tcp|" + host + "|" + rest.substr(colon + 1);
}

bool start_server(const Options& o, Session& s) {
  if (!create(o, s, "server")) return false;
  tofu::MessagePtr r = open(s, tofu::OpCode::welcome_request, to_tofu_address(o.address), "server");
  if (!r) return false;
  s.channel = r->header.channel_number;
  s.where = std::string(r->text_headers.find(tofu::kListenOnHeader).value_or(""));
  std::printf("tofu_perf: listening on %s (backend %s)\n", s.where.c_str(), to_string(s.engine->backend()));
  std::fflush(stdout);
  return true;
}

bool start_client(const Options& o, Session& s) {
  if (!create(o, s, "client")) return false;
  s.where = to_tofu_address(o.address);
  tofu::MessagePtr r = open(s, tofu::OpCode::hello_request, s.where, "client");
  if (!r) return false;
  if (r->header.opcode != tofu::OpCode::hello_response) {
    std::fprintf(stderr, "client: expected a HelloResponse, got opcode %d\n", static_cast<int>(r->header.opcode));
    return false;
  }
  s.channel = r->header.channel_number;
  return true;
}

void finish_client(Session& s) {
  tofu::MessagePtr bye = s.engine->get();
  if (!bye) return;
  bye->header = tofu::make_header(tofu::OpCode::bye_request);
  bye->header.channel_number = s.channel;
  if (s.group->post(bye).status != tofu::Status::success) return;
  // The ByeResponse, then the close Signal: the server has seen our last frame.
  for (int i = 0; i < 2; ++i) {
    if (!s.group->wait_receive(s.timeout)) return;
  }
}

}  // namespace perf
