// libFuzzer target for the frame decoder. Input layout: byte 0 picks how the rest is split into
// chunks, byte 1 picks the decode limits, the rest is the byte stream. For every input it checks:
//  * feeding the stream whole and feeding it in chunks gives the same frames and the same final
//    state, error and mid_frame(); in the chunked run only the chunk being fed is addressable
//    (the rest of the copy is ASan-poisoned), so any read outside the span given to feed() is an
//    ASan report;
//  * feed never consumes more than it was given, returns need_more only when it used it all, and
//    an error is sticky;
//  * every decoded frame re-encodes to exactly the bytes it was decoded from and respects the
//    limits;
//  * text-header iteration, find, address parsing and check_and_prepare run on every frame.
// A violated property aborts (libFuzzer reports it as a crash and saves the input).
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#ifdef __has_include
#if __has_include(<sanitizer/asan_interface.h>)
#include <sanitizer/asan_interface.h>
#endif
#endif

#include "tofu/address.hpp"
#include "tofu/codec.hpp"
#include "tofu/message.hpp"

namespace {

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "fuzz_decoder: property violated: %s\n", what);
  std::abort();
}

void expect(bool ok, const char* what) {
  if (!ok) violated(what);
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TOFU_FUZZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TOFU_FUZZ_ASAN 1
#endif

#ifdef TOFU_FUZZ_ASAN
void poison(std::span<const std::byte> s) { ASAN_POISON_MEMORY_REGION(s.data(), s.size()); }
void unpoison(std::span<const std::byte> s) { ASAN_UNPOISON_MEMORY_REGION(s.data(), s.size()); }
#else
void poison(std::span<const std::byte>) {}
void unpoison(std::span<const std::byte>) {}
#endif

// Makes a region addressable for its lifetime, poisoned again afterwards.
class Unpoisoned {
 public:
  explicit Unpoisoned(std::span<const std::byte> s) : s_(s) { unpoison(s_); }
  ~Unpoisoned() { poison(s_); }
  Unpoisoned(const Unpoisoned&) = delete;
  Unpoisoned& operator=(const Unpoisoned&) = delete;

 private:
  std::span<const std::byte> s_;
};

struct Outcome {
  std::vector<std::size_t> frame_ends;  // stream offset just past each decoded frame
  tofu::DecodeState last = tofu::DecodeState::need_more;
  tofu::Status error = tofu::Status::success;
  bool mid_frame = false;
};

void exercise(const tofu::Message& m) {
  std::size_t n = 0;
  for (const auto& h : m.text_headers) {
    expect(!h.name.empty(), "iterator yields an empty name");
    (void)m.text_headers.find(h.name);
    (void)tofu::parse_address(h.value, tofu::AddressRole::connect);
    (void)tofu::parse_address(h.value, tofu::AddressRole::listen);
    ++n;
  }
  (void)tofu::address_of(m);
  tofu::Message copy = m.clone();
  expect(copy == m, "clone differs");
  (void)tofu::check_and_prepare(copy);
  (void)n;
}

// Cuts a stream into chunks: split 0..15 = fixed size split+1, 16..254 = pseudo-random 1..64,
// 255 = the whole stream at once.
class Chunker {
 public:
  explicit Chunker(unsigned split) : split_(split), rng_(split * 2654435761u + 1) {}
  std::size_t next(std::size_t left) {
    std::size_t len = left;
    if (split_ < 16) {
      len = split_ + 1;
    } else if (split_ < 255) {
      rng_ = rng_ * 1103515245u + 12345u;
      len = 1 + (rng_ >> 16) % 64;
    }
    return std::min(len, left);
  }

 private:
  unsigned split_;
  std::uint32_t rng_;
};

// Feeds `feed_from` (a copy of `original`, or `original` itself) in chunks and records what comes
// out. With `guard`, `feed_from` is poisoned and each chunk is unpoisoned only while it is fed
// (and the per-frame API exercise is skipped: the unguarded run already did it on equal frames).
// With `staged`, it decodes the way the engine does: feed_header() first, then feed() into one of
// two targets picked per frame (each left with the previous frame's content).
Outcome run(std::span<const std::byte> feed_from, std::span<const std::byte> original, unsigned split,
            tofu::DecodeLimits limits, bool guard, bool staged = false) {
  Outcome out;
  tofu::FrameDecoder dec(limits);
  std::array<tofu::Message, 2> targets;
  std::size_t which = 0;
  Chunker chunker(split);
  std::size_t frame_start = 0;  // offset in the stream where the current frame began
  std::size_t pos = 0;
  while (pos < feed_from.size()) {
    const std::span<const std::byte> in = feed_from.subspan(pos, chunker.next(feed_from.size() - pos));
    const Unpoisoned window(guard ? in : std::span<const std::byte>{});
    std::size_t off = 0;
    while (off < in.size() || dec.awaiting_target()) {
      tofu::Message& target = targets[which];
      if (staged && !dec.awaiting_target() && dec.frame_remaining() == 0 && !dec.failed()) {
        const auto head = dec.feed_header(in.subspan(off));
        expect(head.consumed <= in.size() - off, "feed_header consumed more than given");
        off += head.consumed;
        if (head.state == tofu::DecodeState::complete) {
          expect(dec.awaiting_target(), "header complete but no target awaited");
          which ^= 1U;  // the frame goes to the other target, stale content and all
          continue;
        }
        if (head.state == tofu::DecodeState::need_more) {
          expect(off == in.size(), "feed_header need_more with input left");
          out.last = head.state;
          continue;
        }
      }
      const auto step = dec.feed(in.subspan(off), target);
      expect(step.consumed <= in.size() - off, "consumed more than given");
      off += step.consumed;
      out.last = step.state;
      if (step.state == tofu::DecodeState::error) {
        expect(step.error != tofu::Status::success, "error without a status");
        expect(dec.failed(), "error state not sticky");
        const auto again = dec.feed(in.subspan(off), target);
        expect(again.state == tofu::DecodeState::error && again.consumed == 0, "feed after error consumed");
        out.error = step.error;
        out.mid_frame = dec.mid_frame();
        return out;
      }
      if (step.state == tofu::DecodeState::complete) {
        expect(!dec.mid_frame(), "mid_frame after complete");
        const std::size_t frame_end = pos + off;
        static std::vector<std::byte> re;  // reused: fewer allocations per input
        re.clear();
        tofu::encode_to(target, re);
        const auto src = original.subspan(frame_start, frame_end - frame_start);
        expect(std::equal(re.begin(), re.end(), src.begin(), src.end()), "re-encoded frame differs from its input bytes");
        expect(target.header.text_headers_len == target.text_headers.size_bytes(), "thl mismatch");
        expect(target.header.body_len == target.body_size(), "bl mismatch");
        expect(target.text_headers.size_bytes() <= limits.max_text_headers, "text headers over limit");
        expect(target.body_size() <= limits.max_body, "body over limit");
        if (!guard) exercise(target);
        out.frame_ends.push_back(frame_end);
        frame_start = frame_end;
        if (!staged) target.reset();
      } else {
        expect(off == in.size(), "need_more with input left");
        expect(dec.mid_frame() == (pos + off > frame_start), "mid_frame disagrees with consumed bytes");
      }
    }
    pos += in.size();
  }
  out.mid_frame = dec.mid_frame();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const unsigned split = data[0];
  const unsigned lim = data[1];
  const std::span<const std::byte> stream(reinterpret_cast<const std::byte*>(data + 2), size - 2);

  tofu::DecodeLimits limits;
  if ((lim & 0x80u) != 0) {  // small limits, to reach the over-limit paths
    limits.max_text_headers = (lim & 0x0Fu) * 4;
    limits.max_body = ((lim >> 4) & 0x07u) * 8;
  }

  const Outcome whole = run(stream, stream, 255, limits, false);

  // The chunked run reads from a private copy that is poisoned except for the chunk being fed.
  std::vector<std::byte> copy(stream.begin(), stream.end());
  poison(copy);
  const Outcome pieces = run(copy, stream, split == 255 ? 254 : split, limits, true);
  unpoison(copy);  // the vector frees (and writes) its memory
  const Outcome staged = run(stream, stream, split, limits, false, true);
  expect(whole.frame_ends == staged.frame_ends, "frames depend on feed_header staging");
  expect(whole.error == staged.error, "error depends on feed_header staging");
  expect(whole.mid_frame == staged.mid_frame, "mid_frame depends on feed_header staging");

  // Each frame equals its input bytes (checked in run), so equal boundaries mean equal frames.
  expect(whole.frame_ends == pieces.frame_ends, "frames depend on the split");
  expect(whole.last == pieces.last, "final state depends on the split");
  expect(whole.error == pieces.error, "error depends on the split");
  expect(whole.mid_frame == pieces.mid_frame, "mid_frame depends on the split");
  return 0;
}
