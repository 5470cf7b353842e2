// The two Linux backends of the Poller facade: poll(2) and level-triggered epoll (D-08).
// Both use the eventfd notifier (D-07), registered under a key the engine never uses.
#include <array>
#include <limits>

#include "platform/common/poller.hpp"
#include "platform/linux/epoll_set.hpp"
#include "platform/linux/event_notifier.hpp"
#include "platform/linux/poll_set.hpp"

namespace tofu::platform {
namespace {

using linux_os::EpollEvent;
using linux_os::EpollSet;
using linux_os::EventNotifier;
using linux_os::PollEvent;
using linux_os::PollSet;

constexpr std::uint64_t kWakeKey = std::numeric_limits<std::uint64_t>::max();

class EventfdNotifier final : public Notifier {
 public:
  explicit EventfdNotifier(EventNotifier n) : n_(std::move(n)) {}
  SysStatus notify() noexcept override { return n_.notify(); }
  const EventNotifier& raw() const { return n_; }

 private:
  EventNotifier n_;
};

// Shared shape of both backends: `Set` is EpollSet or PollSet, `Event` its event type.
template <class Set, class Event, PollerKind Kind>
class LinuxPoller final : public Poller {
 public:
  LinuxPoller(Set set, EventNotifier n) : set_(std::move(set)), notifier_(std::move(n)) {}

  SysStatus init() { return set_.add(notifier_.raw().fd(), Interest{true, false}, kWakeKey); }
  SysStatus add(NativeSocket s, Interest i, std::uint64_t key) override { return set_.add(s, i, key); }
  SysStatus modify(NativeSocket s, Interest i, std::uint64_t key) override { return set_.modify(s, i, key); }
  SysStatus remove(NativeSocket s) override { return set_.remove(s); }

  Result<Wait> wait(std::span<ReadyEvent> out, int timeout_ms) override {
    std::array<Event, 256>& raw = raw_;  // a member: not cleared on every wait (the hot path)
    const std::size_t cap = std::min(out.size() + 1, raw.size());
    auto n = set_.wait(std::span<Event>(raw.data(), cap), timeout_ms);
    if (!n.ok()) return std::move(n).error();
    Wait w;
    for (std::size_t i = 0; i < n.value(); ++i) {
      if (raw[i].key == kWakeKey) {
        w.woken = true;
        auto drained = notifier_.raw().drain();
        if (!drained.ok()) return std::move(drained).error();
        continue;
      }
      if (w.count < out.size()) out[w.count++] = ReadyEvent{raw[i].key, raw[i].readiness};
    }
    return w;
  }

  Notifier& notifier() noexcept override { return notifier_; }
  [[nodiscard]] PollerKind kind() const noexcept override { return Kind; }

 private:
  Set set_;
  EventfdNotifier notifier_;
  std::array<Event, 256> raw_{};
};

using EpollPoller = LinuxPoller<EpollSet, EpollEvent, PollerKind::epoll>;
using PollPoller = LinuxPoller<PollSet, PollEvent, PollerKind::poll>;

template <class P, class Set>
Result<std::unique_ptr<Poller>> finish(Set set) {
  auto n = EventNotifier::create();
  if (!n.ok()) return std::move(n).error();
  auto p = std::make_unique<P>(std::move(set), std::move(n).value());
  if (auto st = p->init(); !st.ok()) return std::move(st).error();
  return std::unique_ptr<Poller>(std::move(p));
}

}  // namespace

Result<std::unique_ptr<Poller>> make_poller(PollerKind kind) {
  switch (kind) {
    case PollerKind::epoll: {
      auto set = EpollSet::create();
      if (!set.ok()) return std::move(set).error();
      return finish<EpollPoller>(std::move(set).value());
    }
    case PollerKind::poll: return finish<PollPoller>(PollSet{});
    case PollerKind::afd: break;
  }
  return internal_error("the afd backend exists only on Windows");
}

bool poller_available(PollerKind kind) noexcept { return kind != PollerKind::afd; }

}  // namespace tofu::platform
