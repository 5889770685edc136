#include "vigil/core/clock.h"

#include <chrono>

namespace vigil {

Timestamp SystemClock::Now() const {
  auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return Timestamp(std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count());
}

}  // namespace vigil
