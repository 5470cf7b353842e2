#include "common/net.hpp"

#include <windows.h>

#include <array>
#include <atomic>
#include <cstring>
#include <memory>
#include <thread>

#include "platform/windows/afd_poll.hpp"
#include "platform/windows/iocp.hpp"

#include "report/util.hpp"

namespace poc {

using tofu::platform::last_winsock_error;
using tofu::platform::win::ensure_winsock;
using tofu::platform::win::set_nonblocking;

const char* to_string(Transport t) noexcept { return t == Transport::tcp ? "tcp" : "uds"; }

std::string Endpoint::text() const {
  if (transport == Transport::uds) return "unix:" + uds_path;
  const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
  char ip[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
  return strf("%s:%u", ip, static_cast<unsigned>(ntohs(in->sin_port)));
}

std::optional<std::string> uds_unavailable_reason() {
  if (auto st = ensure_winsock(); !st.ok()) return st.error().message();
  const SOCKET s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (s == INVALID_SOCKET) {
    return "socket(AF_UNIX, SOCK_STREAM) failed: " + wsa_text(WSAGetLastError()) +
           "; this host has no AF_UNIX (Windows 10 1803+ has it; Wine 8 does not)";
  }
  ::closesocket(s);
  return std::nullopt;
}

std::string temp_uds_path(const std::string& tag) {
  static std::atomic<unsigned> counter{0};
  char dir[MAX_PATH + 1] = {};
  const DWORD n = GetTempPathA(MAX_PATH, dir);
  std::string base = (n > 0 && n < MAX_PATH) ? std::string(dir, n) : std::string(".\\");
  std::string path = base + strf("tofu-%s-%lu-%u.sock", tag.c_str(), GetCurrentProcessId(), counter++);
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    // A very long temp dir: fall back to the current directory (relative paths are allowed).
    path = strf("tofu-%s-%lu-%u.sock", tag.c_str(), GetCurrentProcessId(), counter++);
  }
  return path;
}

SocketFileRemoval remove_socket_file(const Endpoint& ep) {
  SocketFileRemoval r;
  if (ep.transport != Transport::uds) {
    r.gone = true;
    return r;
  }
  r.existed = GetFileAttributesA(ep.uds_path.c_str()) != INVALID_FILE_ATTRIBUTES;
  (void)DeleteFileA(ep.uds_path.c_str());
  r.gone = GetFileAttributesA(ep.uds_path.c_str()) == INVALID_FILE_ATTRIBUTES && GetLastError() == ERROR_FILE_NOT_FOUND;
  return r;
}

std::string SocketFileRemoval::text() const {
  return std::string(existed ? "existed" : "did not exist") + ", " + (gone ? "gone" : "still there");
}

Result<Listener> listen_on(Transport t, const std::string& tag, bool nonblocking) {
  if (auto st = ensure_winsock(); !st.ok()) return st.error();
  Listener l;
  l.endpoint.transport = t;
  if (t == Transport::tcp) {
    l.sock.reset(::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP));
    if (!l.sock.valid()) return last_winsock_error("socket(AF_INET)");
    auto* in = reinterpret_cast<sockaddr_in*>(&l.endpoint.addr);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    in->sin_port = 0;
    l.endpoint.addr_len = sizeof(sockaddr_in);
  } else {
    l.sock.reset(::socket(AF_UNIX, SOCK_STREAM, 0));
    if (!l.sock.valid()) return last_winsock_error("socket(AF_UNIX)");
    l.endpoint.uds_path = temp_uds_path(tag);
    auto* un = reinterpret_cast<sockaddr_un*>(&l.endpoint.addr);
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, l.endpoint.uds_path.c_str(), l.endpoint.uds_path.size() + 1);
    l.endpoint.addr_len = sizeof(sockaddr_un);
    // A stale file from an earlier run would make bind fail with WSAEADDRINUSE.
    DeleteFileA(l.endpoint.uds_path.c_str());
  }
  if (::bind(l.sock.get(), l.endpoint.sa(), l.endpoint.addr_len) != 0) return last_winsock_error("bind");
  if (::listen(l.sock.get(), SOMAXCONN) != 0) return last_winsock_error("listen");
  if (t == Transport::tcp) {
    int len = l.endpoint.addr_len;
    if (::getsockname(l.sock.get(), reinterpret_cast<sockaddr*>(&l.endpoint.addr), &len) != 0) {
      return last_winsock_error("getsockname");
    }
  }
  if (nonblocking) {
    if (auto st = set_nonblocking(l.sock.get()); !st.ok()) return st.error();
  }
  return l;
}

Result<UniqueSocket> connect_to(const Endpoint& ep, int io_timeout_ms, int rcvbuf) {
  const int family = ep.transport == Transport::tcp ? AF_INET : AF_UNIX;
  const int proto = ep.transport == Transport::tcp ? IPPROTO_TCP : 0;
  UniqueSocket s(::socket(family, SOCK_STREAM, proto));
  if (!s.valid()) return last_winsock_error("socket(client)");
  const DWORD tmo = static_cast<DWORD>(io_timeout_ms);
  ::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, reinterpret_cast<const char*>(&tmo), sizeof tmo);
  ::setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, reinterpret_cast<const char*>(&tmo), sizeof tmo);
  if (rcvbuf > 0) ::setsockopt(s.get(), SOL_SOCKET, SO_RCVBUF, reinterpret_cast<const char*>(&rcvbuf), sizeof rcvbuf);
  if (ep.transport == Transport::tcp) {
    const int one = 1;
    ::setsockopt(s.get(), IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&one), sizeof one);
  }
  if (::connect(s.get(), ep.sa(), ep.addr_len) != 0) return last_winsock_error("connect(" + ep.text() + ")");
  return s;
}

bool send_all(SOCKET s, const char* data, std::size_t n, int* wsa_error) {
  while (n > 0) {
    const int chunk = static_cast<int>(n > (1u << 20) ? (1u << 20) : n);
    const int sent = ::send(s, data, chunk, 0);
    if (sent == SOCKET_ERROR) {
      *wsa_error = WSAGetLastError();
      return false;
    }
    data += sent;
    n -= static_cast<std::size_t>(sent);
  }
  return true;
}

bool recv_exact(SOCKET s, char* data, std::size_t n, int* wsa_error) {
  while (n > 0) {
    const int chunk = static_cast<int>(n > (1u << 20) ? (1u << 20) : n);
    const int got = ::recv(s, data, chunk, 0);
    if (got == 0) {
      *wsa_error = 0;
      return false;
    }
    if (got == SOCKET_ERROR) {
      *wsa_error = WSAGetLastError();
      return false;
    }
    data += got;
    n -= static_cast<std::size_t>(got);
  }
  return true;
}

void warm_up(Transport t) {
  using tofu::platform::win::AfdPollOp;
  using tofu::platform::win::Completion;
  using tofu::platform::win::IoCompletionPort;
  namespace afd = tofu::platform::win::afd;
  (void)ensure_winsock();
  std::thread([] {}).join();
  HANDLE ev = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  auto port = IoCompletionPort::create();
  auto l = listen_on(t, "warm", true);
  auto l2 = listen_on(t, "warm", true);
  struct Cleanup {
    HANDLE ev;
    Result<Listener>& a;
    Result<Listener>& b;
    ~Cleanup() {
      if (ev != nullptr) CloseHandle(ev);
      if (a.ok()) {
        a->sock.reset();
        remove_socket_file(a->endpoint);
      }
      if (b.ok()) {
        b->sock.reset();
        remove_socket_file(b->endpoint);
      }
    }
  } cleanup{ev, l, l2};
  if (ev == nullptr || !port.ok() || !l.ok() || !l2.ok()) return;
  auto base = tofu::platform::win::base_handle(l->sock.get());
  auto base2 = tofu::platform::win::base_handle(l2->sock.get());
  if (!base.ok() || !base2.ok() || !port->associate(as_handle(base.value()), 0).ok()) return;
  // Through the port: ACCEPT completes when a client connects.
  auto op = std::make_unique<AfdPollOp>();
  if (op->submit(base.value(), afd::kAccept).ok()) {
    auto c = connect_to(l->endpoint, 2000);
    std::array<Completion, 4> out{};
    auto n = port->dequeue(out, 2000);
    if (!n.ok() || n.value() == 0) {
      (void)op->cancel();
      n = port->dequeue(out, 2000);
    }
    if (n.ok() && n.value() > 0) {
      op->complete();
    } else {
      (void)op.release();  // the kernel may still own it
    }
    if (c.ok()) {
      UniqueSocket srv(::accept(l->sock.get(), nullptr, nullptr));
      char b = 'w';
      int err = 0;
      if (srv.valid() && send_all(c->get(), &b, 1, &err)) {
        u_long off = 0;
        ioctlsocket(srv.get(), static_cast<long>(FIONBIO), &off);
        recv_exact(srv.get(), &b, 1, &err);
        send_all(srv.get(), &b, 1, &err);
        recv_exact(c->get(), &b, 1, &err);
      }
    }
  }
  // Through an event, then cancelled.
  auto op2 = std::make_unique<AfdPollOp>();
  if (op2->submit_with_event(base2.value(), afd::kAccept, ev).ok()) {
    (void)op2->cancel();
    if (WaitForSingleObject(ev, 2000) == WAIT_OBJECT_0) {
      op2->complete();
    } else {
      (void)op2.release();
    }
  }
}

void set_abortive_close(SOCKET s) {
  linger lg{};
  lg.l_onoff = 1;
  lg.l_linger = 0;
  ::setsockopt(s, SOL_SOCKET, SO_LINGER, reinterpret_cast<const char*>(&lg), sizeof lg);
}

}  // namespace poc
