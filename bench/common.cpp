// Process helpers of the benchmark: RSS, fd limit, UDS paths, the scale child process.
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <malloc.h>
#include <string>

#include "bench.hpp"

extern char** environ;

namespace bench {

const char* net_name(Net n) noexcept { return n == Net::tcp ? "tcp" : "uds"; }

std::size_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  std::size_t total = 0;
  std::size_t resident = 0;
  f >> total >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

std::size_t trimmed_rss_bytes() {
  malloc_trim(0);
  return rss_bytes();
}

bool parse_result_line(const std::string& line, ScaleResult& r) {
  double mean = 0;
  double p50 = 0;
  if (std::sscanf(line.c_str(), "result %lf %lf", &mean, &p50) != 2) return false;
  r.mean_rtt_us = mean;
  r.p50_rtt_us = p50;
  return true;
}

void print_result_line(std::vector<double>& samples_us) {
  double sum = 0;
  for (double v : samples_us) sum += v;
  std::sort(samples_us.begin(), samples_us.end());
  const double mean = samples_us.empty() ? 0 : sum / static_cast<double>(samples_us.size());
  const double p50 = samples_us.empty() ? 0 : samples_us[samples_us.size() / 2];
  std::printf("result %.3f %.3f\n", mean, p50);
  std::fflush(stdout);
}

std::size_t raise_fd_limit(std::size_t want) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  if (want > rl.rlim_max) {  // only root may raise the hard limit; the soft one follows below
    rlimit more = rl;
    more.rlim_max = want;
    more.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &more) == 0) (void)getrlimit(RLIMIT_NOFILE, &rl);
  }
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
    (void)getrlimit(RLIMIT_NOFILE, &rl);
  }
  return static_cast<std::size_t>(rl.rlim_cur);
}

int scale_listeners(Net net, int channels) {
  if (net == Net::uds) return 1;
  return std::clamp((channels + 19999) / 20000, 1, 8);
}


std::string uds_path(const char* tag) {
  static std::atomic<int> counter{0};
  std::string p = "/tmp/tofu-bench-" + std::to_string(getpid()) + "-" + tag + "-" + std::to_string(counter.fetch_add(1)) + ".sock";
  (void)unlink(p.c_str());
  return p;
}

std::string self_exe() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return {};
  return std::string(buf, static_cast<std::size_t>(n));
}

ScaleChild::ScaleChild(const std::string& impl, const std::string& address, const std::string& backend,
                       const ScaleParams& p) {
  int fds[2];
  if (pipe(fds) != 0) return;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  const std::string exe = self_exe();
  std::vector<std::string> args = {exe,         "--scale-child",       impl,
                                   address,     backend,               std::to_string(p.channels),
                                   std::to_string(p.iterations), std::to_string(p.max_seconds)};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), environ) == 0) pid_ = pid;
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  out_fd_ = fds[0];
}

ScaleChild::~ScaleChild() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    (void)wait();
  }
  if (out_fd_ >= 0) close(out_fd_);
}

std::string ScaleChild::next_line(double timeout_s) {
  const auto t0 = Clock::now();
  for (;;) {
    const auto nl = buffered_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      return line;
    }
    const double left = timeout_s - seconds_since(t0);
    if (left <= 0 || out_fd_ < 0) return {};
    pollfd pfd{out_fd_, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(left * 1000) + 1) <= 0) continue;
    char buf[512];
    const ssize_t n = read(out_fd_, buf, sizeof(buf));
    if (n <= 0) return {};
    buffered_.append(buf, static_cast<std::size_t>(n));
  }
}

int ScaleChild::wait() {
  if (pid_ <= 0) return -1;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, 0);
  pid_ = -1;
  if (r <= 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace bench
