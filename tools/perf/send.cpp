// The one place tofu_perf waits for engine resources (see perf.hpp).
#include <thread>

#include "perf.hpp"

namespace perf {
namespace {
// post() refuses with this once per-channel flow control lands (the caller keeps the message).
// TODO(get-timeout): tofu::Status::send_queue_full when the flow-control statuses are public.
constexpr auto kSendQueueFull = static_cast<tofu::Status>(32);

// A yield first (the engine usually frees a message within microseconds), then short sleeps.
void back_off(unsigned& round) {
  if (++round < 64) {
    std::this_thread::yield();
  } else {
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}
}  // namespace

tofu::Status send_when_possible(tofu::Engine& engine, tofu::ChannelGroup& group, tofu::MessagePtr m,
                                const std::function<void(tofu::Message&)>& fill, Clock::time_point deadline,
                                tofu::PostResult* posted) {
  unsigned round = 0;
  // TODO(get-timeout): m = engine.get(deadline - now) once Engine::get(timeout) lands: no polling.
  while (!m) {
    m = engine.get();
    if (m) break;
    if (Clock::now() >= deadline) return tofu::Status::pool_empty;
    back_off(round);
  }
  if (fill) fill(*m);
  round = 0;
  for (;;) {
    const tofu::PostResult r = group.post(m);
    if (posted != nullptr) *posted = r;
    if (r.status != kSendQueueFull || Clock::now() >= deadline) return r.status;
    back_off(round);  // the channel has too many unwritten messages: keep ours, retry
  }
}

}  // namespace perf
