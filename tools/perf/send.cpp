// The one place tofu_perf waits for engine resources (see perf.hpp): a free pool message
// (Engine::get with a timeout) and room in the channel's send queue (post with wait_for_room).
// Neither polls; both give up at the deadline.
#include <algorithm>

#include "perf.hpp"

namespace perf {

tofu::Status send_when_possible(tofu::Engine& engine, tofu::ChannelGroup& group, tofu::MessagePtr m,
                                const std::function<void(tofu::Message&)>& fill, Clock::time_point deadline,
                                tofu::PostResult* posted) {
  const auto left = [&] {
    return std::max(std::chrono::milliseconds(0),
                    std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()));
  };
  if (!m) {
    m = engine.get(left());
    if (!m) return tofu::Status::pool_empty;
  }
  if (fill) fill(*m);
  // send_queue_full after the wait: the message is still ours and goes back to the pool here.
  const tofu::PostResult r = group.post(m, left());
  if (posted != nullptr) *posted = r;
  return r.status;
}

}  // namespace perf
