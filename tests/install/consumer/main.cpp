// One engine, a listener and a client talking to it over TCP: one echoed message.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tofu/engine.hpp"

using namespace std::chrono_literals;
using tofu::OpCode;

// The next message for group g; exits unless it arrived and says success.
tofu::MessagePtr next(tofu::ChannelGroup& g) {
  tofu::MessagePtr m = g.wait_receive(5s);
  if (!m || m->header.status != tofu::Status::success) std::exit(1);
  return m;
}

int main() {
  auto engine = tofu::Engine::create();  // starts the reactor thread (epoll on Linux)
  auto server = engine->create_group();
  auto client = engine->create_group();

  tofu::MessagePtr m = engine->get();  // listen: a WelcomeRequest with ~listen_on
  m->header = tofu::make_header(OpCode::welcome_request);
  m->text_headers.add("~listen_on", "tcp|127.0.0.1|0");  // port 0: the OS picks one
  server->post(m);
  m = next(*server);  // WelcomeResponse: ~listen_on says where we are bound
  const std::string where(*m->text_headers.find("~listen_on"));

  m->reset();  // connect: a HelloRequest with ~connect_to
  m->header = tofu::make_header(OpCode::hello_request);
  m->text_headers.add("~connect_to", where);
  client->post(m);
  m = next(*server);  // the server sees the HelloRequest and answers with the same message
  m->header.opcode = OpCode::hello_response;
  server->post(m);
  m = next(*client);  // HelloResponse: the channel is open
  const tofu::ChannelNumber channel = m->header.channel_number;

  m->reset();  // a Request with a body; the server echoes it as the Response
  m->header.channel_number = channel;
  m->set_body("hello, tofu");
  client->post(m);
  m = next(*server);
  m->header.opcode = OpCode::response;
  server->post(m);
  m = next(*client);
  std::printf("echoed: %s\n", std::string(m->body_text()).c_str());
  return m->body_text() == "hello, tofu" ? 0 : 1;
}
