// UDS access control (spec §4.1, D-70..D-72): the socket file mode of a UDS listener, a second
// local user refused or admitted by it, and the peer credentials on the delivered HelloRequest.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <vector>

#include "harness.hpp"
#include "support/host.hpp"
#include "support/skip.hpp"
#include "tofu/address.hpp"
#include "tofu/uds_access.hpp"

#ifdef _WIN32
#include <windows.h>
#else
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

using namespace tofu;
using namespace tofu::parity;

namespace {

void require_uds() {
  if (auto why = test::uds_unsupported_reason()) TOFU_SKIP(*why);
}

std::vector<std::string> values_of(const Message& m, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& h : m.text_headers) {
    if (h.name == name) out.emplace_back(h.value);
  }
  return out;
}

// A WelcomeRequest for `uds|path` with `~listen_mode` when `mode` is given; the engine's answer.
[[maybe_unused]] MessagePtr listen_uds(Engine& engine, ChannelGroup& group, const std::string& path, const char* mode) {
  MessagePtr m = make_message(engine, OpCode::welcome_request);
  REQUIRE(ok(m->text_headers.add(kListenOnHeader, "uds|" + path)));
  if (mode != nullptr) REQUIRE(ok(m->text_headers.add(kListenModeHeader, mode)));
  post_ok(group, m);
  MessagePtr r = receive(group);
  REQUIRE(r->header.opcode == OpCode::welcome_response);
  return r;
}

// Connects `client` to `address` with a HelloRequest carrying forged `~peer_*` headers; returns
// the HelloRequest as the server's application receives it, after answering it.
MessagePtr hello_as_server_sees_it(Engine& client_engine, ChannelGroup& client, ChannelGroup& server,
                                   const std::string& address) {
  MessagePtr hello = make_message(client_engine, OpCode::hello_request);
  REQUIRE(ok(hello->text_headers.add(kConnectToHeader, address)));
  REQUIRE(ok(hello->text_headers.add(kPeerUidHeader, "4242")));  // a peer must not choose these
  REQUIRE(ok(hello->text_headers.add(kPeerPidHeader, "1")));
  post_ok(client, hello);
  MessagePtr seen = receive(server);
  INFO(describe(*seen));
  REQUIRE(seen->header.opcode == OpCode::hello_request);
  REQUIRE(seen->header.status == Status::success);
  MessagePtr answer = make_message(client_engine, OpCode::hello_response, seen->header.channel_number);
  answer->header.message_id = seen->header.message_id;
  post_ok(server, answer);
  MessagePtr r = receive(client);
  REQUIRE(r->header.opcode == OpCode::hello_response);
  return seen;
}

#ifndef _WIN32
unsigned file_mode(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  REQUIRE(S_ISSOCK(st.st_mode));
  return st.st_mode & 07777;
}

// Runs `command` through the shell; its stdout and exit code.
struct Ran {
  std::string out;
  int code = -1;
};
Ran run(const std::string& command) {
  Ran r;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return r;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p) != nullptr) r.out += buf;
  const int st = ::pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}
#endif

}  // namespace

TEST_CASE("uds access: a UDS listener's socket file is owner-only (0600) by default, whatever the umask",
          "[uds_access]") {
  require_uds();
#ifdef _WIN32
  TOFU_SKIP("Windows socket files have no mode bits (they keep the directory's ACL, spec 4.1)");
#else
  const mode_t old_umask = ::umask(0);  // without the engine's chmod the file would be 0777
  auto engine = make_engine();
  auto server = make_group(*engine);
  const std::string path = test::temp_uds_path("mode-default");
  MessagePtr r = listen_uds(*engine, *server, path, nullptr);
  ::umask(old_umask);
  REQUIRE(r->header.status == Status::success);
  CHECK(file_mode(path) == 0600);
#endif
}

TEST_CASE("uds access: ~listen_mode sets the socket file's mode", "[uds_access]") {
  require_uds();
#ifdef _WIN32
  TOFU_SKIP("Windows socket files have no mode bits (they keep the directory's ACL, spec 4.1)");
#else
  auto engine = make_engine();
  auto server = make_group(*engine);
  for (const char* mode : {"0660", "640", "0"}) {
    const std::string path = test::temp_uds_path("mode-set");
    MessagePtr r = listen_uds(*engine, *server, path, mode);
    INFO("mode " << mode << ": " << describe(*r));
    REQUIRE(r->header.status == Status::success);
    CHECK(file_mode(path) == *parse_listen_mode(mode));
  }
#endif
}

TEST_CASE("uds access: a ~listen_mode that is not 0..0777 in octal fails the listen", "[uds_access]") {
  require_uds();
  auto engine = make_engine();
  auto server = make_group(*engine);
  for (const char* mode : {"0999", "rw-------", "01777", "", "07777"}) {
    const std::string path = test::temp_uds_path("mode-bad");
    MessagePtr m = make_message(*engine, OpCode::welcome_request);
    REQUIRE(ok(m->text_headers.add(kListenOnHeader, "uds|" + path)));
    if (ok(m->text_headers.add(kListenModeHeader, mode))) {
      const ChannelNumber n = post_ok(*server, m).channel_number;
      MessagePtr r = receive(*server);
      INFO("mode '" << mode << "': " << describe(*r));
      check_returned(*r, OpCode::welcome_response, Status::listen_failed, n);
      expect_closed_signal(*server, n, {Status::listen_failed});
    } else {
      CHECK(std::string(mode).empty());  // the writer refuses an empty value itself
    }
  }
  wait_channel_count(*engine, 0);  // no listener was left open
}

TEST_CASE("uds access: a HelloRequest from an accepted UDS connection carries the peer's credentials",
          "[uds_access]") {
  require_uds();
  auto server_engine = make_engine();
  auto client_engine = make_engine();
  auto server = make_group(*server_engine);
  auto client = make_group(*client_engine);
  const Listener l = open_listener(*server_engine, *server, "uds|" + test::temp_uds_path("creds"));
  MessagePtr seen = hello_as_server_sees_it(*client_engine, *client, *server, l.address);
  INFO(describe(*seen));
  // Exactly the engine's values: the forged ones the client wrote are gone.
#ifdef _WIN32
  CHECK(values_of(*seen, kPeerUidHeader).empty());
  CHECK(values_of(*seen, kPeerGidHeader).empty());
  CHECK(values_of(*seen, kPeerPidHeader) == std::vector<std::string>{std::to_string(::GetCurrentProcessId())});
#else
  CHECK(values_of(*seen, kPeerUidHeader) == std::vector<std::string>{std::to_string(::geteuid())});
  CHECK(values_of(*seen, kPeerGidHeader) == std::vector<std::string>{std::to_string(::getegid())});
  CHECK(values_of(*seen, kPeerPidHeader) == std::vector<std::string>{std::to_string(::getpid())});
#endif
}

TEST_CASE("uds access: a UDS HelloRequest with no room left for the credentials closes its channel, unlabelled "
          "never", "[uds_access]") {
  require_uds();
  auto server_engine = make_engine();
  auto client_engine = make_engine();
  auto server = make_group(*server_engine);
  auto client = make_group(*client_engine);
  const Listener l = open_listener(*server_engine, *server, "uds|" + test::temp_uds_path("creds-full"));
  MessagePtr hello = make_message(*client_engine, OpCode::hello_request);
  REQUIRE(ok(hello->text_headers.add(kConnectToHeader, l.address)));
  // Fill the text headers to 65535 bytes: the engine cannot append ~peer_uid to them.
  const std::size_t room = 65535 - hello->text_headers.size_bytes() - 4;  // "f:" + CRLF
  REQUIRE(ok(hello->text_headers.add("f", std::string(room, 'x'))));
  REQUIRE(hello->text_headers.size_bytes() == 65535);
  post_ok(*client, hello);
  MessagePtr seen = receive(*server);
  INFO(describe(*seen));
  REQUIRE(seen->header.opcode == OpCode::signal);  // the HelloRequest itself never arrives
  check_closed_signal(*seen, seen->header.channel_number, {Status::invalid_headers_len});
}

TEST_CASE("uds access: a HelloRequest over TCP carries no ~peer_* headers, not even forged ones",
          "[uds_access]") {
  auto server_engine = make_engine();
  auto client_engine = make_engine();
  auto server = make_group(*server_engine);
  auto client = make_group(*client_engine);
  const Listener l = open_listener(*server_engine, *server);
  MessagePtr seen = hello_as_server_sees_it(*client_engine, *client, *server, l.address);
  INFO(describe(*seen));
  CHECK(values_of(*seen, kPeerUidHeader).empty());
  CHECK(values_of(*seen, kPeerGidHeader).empty());
  CHECK(values_of(*seen, kPeerPidHeader).empty());
}

TEST_CASE("uds access: another local user is refused by mode 0600, admitted by 0666 and identified",
          "[uds_access]") {
  require_uds();
#ifdef _WIN32
  TOFU_SKIP("needs a second local user and POSIX mode bits (Linux)");
#else
  if (::geteuid() != 0) TOFU_SKIP("needs root to run a process as another user (setpriv); running as uid " +
                                  std::to_string(::geteuid()));
  constexpr unsigned kOtherUid = 61234;  // no account needed: setpriv sets the ids directly
  const std::string as_other = "setpriv --reuid=" + std::to_string(kOtherUid) + " --regid=" +
                               std::to_string(kOtherUid) + " --clear-groups ";
  if (const Ran probe = run(as_other + "id -u 2>&1"); probe.code != 0 || probe.out != std::to_string(kOtherUid) + "\n") {
    TOFU_SKIP("cannot start a process as uid " + std::to_string(kOtherUid) + " with setpriv here: " + probe.out);
  }
  // The peer program, where the other user can surely execute it (the build tree may be private).
  char dir_template[] = "/tmp/tofu-uds-peer-XXXXXX";
  const char* dir = ::mkdtemp(dir_template);
  REQUIRE(dir != nullptr);
  const std::string peer = std::string(dir) + "/uds_access_peer";
  REQUIRE(run("cp '" TOFU_UDS_ACCESS_PEER "' '" + peer + "' && chmod 0755 '" + dir + "' '" + peer + "'").code == 0);
  struct Cleanup {
    std::string dir;
    ~Cleanup() { (void)std::system(("rm -rf '" + dir + "'").c_str()); }
  } cleanup{dir};

  auto engine = make_engine();
  auto server = make_group(*engine);

  const std::string closed_path = test::temp_uds_path("other-user-0600");
  REQUIRE(listen_uds(*engine, *server, closed_path, nullptr)->header.status == Status::success);
  const Ran refused = run(as_other + "'" + peer + "' '" + closed_path + "' 2>&1");
  INFO("peer said: " << refused.out);
  CHECK(refused.code == 3);
  CHECK(refused.out == "refused: Permission denied\n");

  const std::string open_path = test::temp_uds_path("other-user-0666");
  REQUIRE(listen_uds(*engine, *server, open_path, "0666")->header.status == Status::success);
  auto admitted = std::async(std::launch::async, [&] { return run(as_other + "'" + peer + "' '" + open_path + "' 2>&1"); });
  // The peer's first, plain connect() is accepted and closed: its channel_closed Signal comes first.
  MessagePtr hello = receive(*server);
  if (hello->header.opcode == OpCode::signal) {
    check_closed_signal(*hello, hello->header.channel_number, {Status::peer_disconnected});
    hello = receive(*server);
  }
  INFO(describe(*hello));
  REQUIRE(hello->header.opcode == OpCode::hello_request);
  CHECK(values_of(*hello, kPeerUidHeader) == std::vector<std::string>{std::to_string(kOtherUid)});  // not its forged "0"
  CHECK(values_of(*hello, kPeerGidHeader) == std::vector<std::string>{std::to_string(kOtherUid)});
  const std::vector<std::string> pid = values_of(*hello, kPeerPidHeader);
  REQUIRE(pid.size() == 1);
  CHECK(pid.front() != std::to_string(::getpid()));
  hello->header.opcode = OpCode::hello_response;
  post_ok(*server, hello);
  const Ran ran = admitted.get();
  INFO("peer said: " << ran.out);
  CHECK(ran.code == 0);
  CHECK(ran.out == "connected\n");
#endif
}
