#include "common/echo_client.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

#include "report/util.hpp"

namespace poc {
namespace {

// splitmix64: a small, well-mixed generator so each client's payload is reproducible.
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
};

void set_error(EchoClientResult& r, const std::string& what) {
  if (r.error.empty()) r.error = what;
}

}  // namespace

EchoClientResult run_echo_client(const EchoClientConfig& cfg, std::atomic<std::uint64_t>* messages_done) {
  EchoClientResult r;
  Rng rng{cfg.seed * 0x100000001B3ull + 17};
  const auto span = static_cast<std::uint64_t>(cfg.max_size - cfg.min_size + 1);
  std::vector<std::size_t> ends;  // end offset of each message in the stream
  ends.reserve(static_cast<std::size_t>(cfg.messages));
  std::size_t total = 0;
  for (int m = 0; m < cfg.messages; ++m) {
    total += static_cast<std::size_t>(cfg.min_size) + static_cast<std::size_t>(rng.next() % span);
    ends.push_back(total);
  }
  std::vector<char> payload(total);
  for (std::size_t i = 0; i < total; ++i) payload[i] = static_cast<char>(rng.next() & 0xFF);
  for (std::size_t m = 0; m < ends.size(); ++m) payload[m == 0 ? 0 : ends[m - 1]] = 'E';
  r.bytes_expected = total;

  auto sock = connect_to(cfg.endpoint, cfg.io_timeout_ms, cfg.rcvbuf);
  if (!sock.ok()) {
    r.error = sock.error().message();
    return r;
  }
  const SOCKET s = sock->get();
  auto send_start = std::make_unique<std::atomic<double>[]>(ends.size());
  std::vector<char> rbuf(64 * 1024);
  std::size_t next_msg = 0;

  // Verifies what arrived at stream offset r.bytes_received and advances the message counter.
  auto take = [&](const char* data, std::size_t n) {
    if (r.bytes_received + n > total) {
      set_error(r, strf("server sent %zu byte(s) more than were echoed",
                        static_cast<std::size_t>(r.bytes_received + n - total)));
      n = total - static_cast<std::size_t>(r.bytes_received);
    }
    const char* want = payload.data() + r.bytes_received;
    if (std::memcmp(data, want, n) != 0) {
      for (std::size_t i = 0; i < n; ++i) {
        if (data[i] == want[i]) continue;
        if (r.first_mismatch < 0) r.first_mismatch = static_cast<std::int64_t>(r.bytes_received + i);
        ++r.mismatched_bytes;
      }
      set_error(r,
                strf("echo differs from what was sent, first at byte %lld", static_cast<long long>(r.first_mismatch)));
    }
    r.bytes_received += n;
    const double now = now_us();
    while (next_msg < ends.size() && ends[next_msg] <= r.bytes_received) {
      r.latency_us.push_back(now - send_start[next_msg].load());
      ++next_msg;
      ++r.messages_echoed;
      if (messages_done != nullptr) messages_done->fetch_add(1, std::memory_order_relaxed);
    }
  };

  if (cfg.pipelined) {
    std::string send_error;
    std::uint64_t sent = 0;
    std::thread sender([&] {
      std::size_t off = 0;
      for (std::size_t m = 0; m < ends.size(); ++m) {
        send_start[m].store(now_us());
        int err = 0;
        if (!send_all(s, payload.data() + off, ends[m] - off, &err)) {
          send_error = "send: " + wsa_text(err);
          ::shutdown(s, SD_BOTH);  // unblock the reader
          return;
        }
        sent += ends[m] - off;
        off = ends[m];
      }
      ::shutdown(s, SD_SEND);  // FIN: the server closes once it has echoed everything
    });
    if (cfg.read_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(cfg.read_delay_ms));
    while (r.bytes_received < total) {
      const int n = ::recv(s, rbuf.data(), static_cast<int>(rbuf.size()), 0);
      if (n <= 0) {
        set_error(r, n == 0 ? strf("server closed after %llu of %zu bytes",
                                   static_cast<unsigned long long>(r.bytes_received), total)
                            : "recv: " + wsa_text(WSAGetLastError()));
        break;
      }
      take(rbuf.data(), static_cast<std::size_t>(n));
    }
    sender.join();
    r.bytes_sent = sent;
    if (!send_error.empty()) set_error(r, send_error);
  } else {
    std::size_t off = 0;
    for (std::size_t m = 0; m < ends.size() && r.error.empty(); ++m) {
      send_start[m].store(now_us());
      int err = 0;
      if (!send_all(s, payload.data() + off, ends[m] - off, &err)) {
        set_error(r, "send: " + wsa_text(err));
        break;
      }
      r.bytes_sent += ends[m] - off;
      const std::size_t len = ends[m] - off;
      std::vector<char> echo(len);
      if (!recv_exact(s, echo.data(), len, &err)) {
        set_error(r, err == 0 ? "server closed before echoing message " + std::to_string(m) : "recv: " + wsa_text(err));
        break;
      }
      take(echo.data(), len);
      off = ends[m];
    }
    ::shutdown(s, SD_SEND);
  }
  if (r.error.empty()) {
    // Everything came back; now the server must close its side (it saw our FIN, echoed all).
    const int n = ::recv(s, rbuf.data(), static_cast<int>(rbuf.size()), 0);
    if (n == 0) {
      r.eof_after_echo = true;
    } else if (n > 0) {
      set_error(r, strf("server sent %d byte(s) after the full echo", n));
    } else {
      set_error(r, "waiting for the server's FIN: " + wsa_text(WSAGetLastError()));
    }
  }
  r.ok = r.error.empty() && r.bytes_received == total && r.mismatched_bytes == 0 && r.eof_after_echo;
  return r;
}

}  // namespace poc
