// Clock: where "now" comes from. Live code gets a SystemClock; backtests and tests get
// a ManualClock they advance themselves, so replays are deterministic.
//
//   vigil::ManualClock clock(vigil::Timestamp::FromSeconds(0));
//   clock.Advance(vigil::kNanosPerMinute);
//
// Thread-safety: SystemClock is stateless; ManualClock uses an atomic and is safe to read
// while another thread advances it.
#pragma once

#include <atomic>

#include "vigil/core/timestamp.h"

namespace vigil {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Timestamp Now() const override;
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(Timestamp start) : now_(start.nanos()) {}
  Timestamp Now() const override { return Timestamp(now_.load()); }
  void Set(Timestamp t) { now_.store(t.nanos()); }
  void Advance(int64_t nanos) { now_.fetch_add(nanos); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace vigil
