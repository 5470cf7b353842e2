// tofu_afd_poller_bench (Windows; under Wine here): what the afd Poller itself costs, without an
// engine: (1) add + arm + remove + drain of a fresh socket, (2) one wait() on an always-readable
// socket (re-arm + completion), (3) 1000 sockets added, armed and removed. Prints the median of
// `reps` repetitions (default 5) in µs. Used to compare poller designs (D-60); under Wine every
// figure is mostly wineserver round trips.
#include <winsock2.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "platform/common/poller.hpp"

using namespace tofu::platform;
using Clock = std::chrono::steady_clock;

namespace {

double micros(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::micro>(b - a).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

SOCKET udp_socket() { return ::socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP); }

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  WSADATA wsa;
  if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) return 1;
  std::vector<double> add_remove, rearm, bulk;
  std::vector<ReadyEvent> out(256);
  for (int rep = 0; rep < reps; ++rep) {
    auto made = make_poller(PollerKind::afd);
    if (!made.ok()) {
      std::fprintf(stderr, "make_poller: %s\n", made.error().message().c_str());
      return 1;
    }
    Poller& p = *made.value();

    constexpr std::size_t kCycles = 500;
    std::vector<SOCKET> fresh(kCycles);
    for (SOCKET& s : fresh) s = udp_socket();
    auto t0 = Clock::now();
    for (std::size_t i = 0; i < kCycles; ++i) {
      if (!p.add(fresh[i], Interest{true, false}, i).ok()) return 1;
      (void)p.wait(out, 0);  // arms the poll
      (void)p.remove(fresh[i]);
    }
    (void)p.wait(out, 0);
    add_remove.push_back(micros(t0, Clock::now()) / static_cast<double>(kCycles));
    for (SOCKET s : fresh) closesocket(s);

    // A connected pair whose server side always has one unread byte: every wait() re-arms a poll
    // that completes at once.
    SOCKET l = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int len = sizeof a;
    if (::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(l, 4) != 0 ||
        ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      return 1;
    SOCKET c = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return 1;
    SOCKET srv = ::accept(l, nullptr, nullptr);
    ::send(c, "x", 1, 0);
    if (!p.add(srv, Interest{true, false}, 1).ok()) return 1;
    constexpr int kWaits = 3000;
    std::size_t events = 0;
    t0 = Clock::now();
    for (int i = 0; i < kWaits; ++i) {
      auto w = p.wait(out, 1000);
      if (w.ok()) events += w.value().count;
    }
    rearm.push_back(micros(t0, Clock::now()) / kWaits);
    (void)p.remove(srv);
    closesocket(srv);
    closesocket(c);
    closesocket(l);
    if (events < kWaits) std::fprintf(stderr, "only %zu events in %d waits\n", events, kWaits);

    constexpr std::size_t kMany = 1000;
    std::vector<SOCKET> many(kMany);
    for (SOCKET& s : many) s = udp_socket();
    t0 = Clock::now();
    for (std::size_t i = 0; i < kMany; ++i) (void)p.add(many[i], Interest{true, false}, i);
    (void)p.wait(out, 0);
    for (std::size_t i = 0; i < kMany; ++i) (void)p.remove(many[i]);
    for (int k = 0; k < 20; ++k) (void)p.wait(out, 0);  // drain the cancelled completions
    bulk.push_back(micros(t0, Clock::now()) / static_cast<double>(kMany));
    for (SOCKET s : many) closesocket(s);
  }
  std::printf("add+arm+remove per socket: %.1f us | re-arm+complete per wait: %.1f us | "
              "1000 sockets add+arm+remove: %.1f us/socket (median of %d)\n",
              median(add_remove), median(rearm), median(bulk), reps);
  WSACleanup();
  return 0;
}
