#pragma once
// A plain blocking TCP socket for tests that play a peer written from the wire description only
// (no tofu code on that side): send hand-built frames, read what the engine writes, die mid-frame.
// Portable: POSIX sockets, or Winsock under _WIN32 (the suite also runs under Wine).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tofu::parity {

class RawSocket {
 public:
  RawSocket() = default;
  ~RawSocket();
  RawSocket(RawSocket&& other) noexcept;
  RawSocket& operator=(RawSocket&& other) noexcept;
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  // Blocking connect to ip:port (IPv4 or IPv6 literal). Invalid socket and `error` set on failure.
  static RawSocket connect_tcp(const std::string& ip, std::uint16_t port, std::string* error = nullptr);
  // Bound to ip:0 (or ip:port) and listening. `rcvbuf` > 0 sets SO_RCVBUF before listen (accepted
  // sockets inherit it): a peer that never reads then stalls its sender quickly.
  static RawSocket listen_tcp(const std::string& ip, std::uint16_t port = 0, int rcvbuf = 0,
                              std::string* error = nullptr);
  // Bound to ip:0 but NOT listening: connecting to its port is refused, and the port stays ours.
  static RawSocket bind_tcp(const std::string& ip, std::string* error = nullptr);

  [[nodiscard]] bool valid() const noexcept;
  [[nodiscard]] std::uint16_t local_port() const;

  // Waits up to `timeout` for a connection on a listening socket.
  RawSocket accept(std::chrono::milliseconds timeout, std::string* error = nullptr);

  bool send_all(std::span<const std::byte> bytes);
  // A blocking send that cannot make progress for `timeout` fails (SO_SNDTIMEO): a peer that
  // floods an engine must not hang the test if the engine stops reading.
  bool set_send_timeout(std::chrono::milliseconds timeout);
  bool send_all(const std::vector<std::byte>& bytes) { return send_all(std::span<const std::byte>(bytes)); }

  // Reads exactly out.size() bytes; false on end of stream, error or timeout (waited per chunk).
  bool recv_exact(std::span<std::byte> out, std::chrono::milliseconds timeout);
  std::vector<std::byte> recv_exact(std::size_t n, std::chrono::milliseconds timeout, bool* ok);

  // Reads and discards until the peer closes the connection (end of stream or reset): true then;
  // false on timeout. `discarded` gets the number of bytes read meanwhile.
  bool wait_closed(std::chrono::milliseconds timeout, std::size_t* discarded = nullptr);

  // Graceful close (FIN). abort() closes with SO_LINGER{1,0}, i.e. a reset.
  void close();
  void abort();

 private:
  using Handle = std::uintptr_t;
  static constexpr Handle kInvalid = ~Handle{0};
  explicit RawSocket(Handle h) noexcept : h_(h) {}
  // 1 readable, 0 timeout, -1 error.
  int wait_readable(std::chrono::milliseconds timeout) const;
  Handle h_ = kInvalid;
};

// True when this host can bind a TCP socket to ::1.
bool ipv6_loopback_available();

}  // namespace tofu::parity
