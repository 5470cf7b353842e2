// uds_access_peer PATH: the "other local user" of the UDS access tests. It first tries a plain
// connect() to PATH (prints "refused: <errno text>" and exits 3 when the OS says no), then
// connects with a tofu engine, sends a HelloRequest and waits for the HelloResponse (prints
// "connected" and exits 0). Any other outcome prints what happened and exits 1.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include <cerrno>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tofu/engine.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: uds_access_peer PATH\n");
    return 2;
  }
  const std::string path = argv[1];
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  if (fd < 0 || path.size() >= sizeof un.sun_path) {
    std::printf("error: socket or path\n");
    return 1;
  }
  std::memcpy(un.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&un), sizeof un) != 0) {
    std::printf("refused: %s\n", std::strerror(errno));
    return 3;
  }
  ::close(fd);

  auto engine = tofu::Engine::create();
  auto group = engine ? engine->create_group() : nullptr;
  tofu::MessagePtr m = engine ? engine->get() : tofu::MessagePtr{};
  if (!m || !group) {
    std::printf("error: no engine\n");
    return 1;
  }
  m->header = tofu::make_header(tofu::OpCode::hello_request);
  (void)m->text_headers.add("~connect_to", "uds|" + path);
  (void)m->text_headers.add("~peer_uid", "0");  // a lie the server's engine must drop
  if (group->post(m).status != tofu::Status::success) {
    std::printf("error: post\n");
    return 1;
  }
  tofu::MessagePtr r = group->wait_receive(std::chrono::seconds(10));
  if (r && r->header.opcode == tofu::OpCode::hello_response && r->header.status == tofu::Status::success) {
    std::printf("connected\n");
    return 0;
  }
  std::printf("error: %s\n", r ? std::string(to_string(r->header.status)).c_str() : "no answer");
  return 1;
}
