#pragma once
// A raw TCP client that can half-close (shutdown its send side) — the one thing the parity
// suite's RawSocket cannot do. Blocking; POSIX sockets or Winsock.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace tofu::regression {

class HalfCloseSocket {
 public:
  HalfCloseSocket() = default;
  ~HalfCloseSocket();
  HalfCloseSocket(const HalfCloseSocket&) = delete;
  HalfCloseSocket& operator=(const HalfCloseSocket&) = delete;

  // Connects to 127.0.0.1:port; false (and `error`) on failure.
  bool connect_loopback(std::uint16_t port, std::string* error = nullptr);
  bool send_all(std::span<const std::byte> bytes);
  // shutdown(SHUT_WR / SD_SEND): the peer reads EOF, we can still read.
  bool shutdown_send();
  // Reads and discards until EOF or reset (true), false on timeout.
  bool wait_closed(std::chrono::milliseconds timeout);
  void close();

 private:
  std::uintptr_t h_ = ~std::uintptr_t{0};
};

}  // namespace tofu::regression
