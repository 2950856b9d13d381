// SPDX-License-Identifier: MIT
#pragma once

// The one ranking of health states. Every "worst of" in heartbeat uses it (pulse's health from
// its checks, hb-status's health from checks and beats), because two rankings disagreed: pulse
// ranked unknown equal to healthy, hb-status below it (issue 10).
//
//   unknown < healthy < warning < failing
//
// unknown means "no evidence yet", so it never outweighs evidence: a target whose checks have not
// run yet but whose agent beats healthy is healthy, and any bad observation beats both. How
// hb-status *shows* unknown is a separate matter, not a rank: it counts unknown targets apart and
// exits UNKNOWN (3, the Nagios convention) only when it knows nothing at all; a target that is
// unknown never raises its exit code above what the known targets say.

#include "core/types.hpp"

namespace hb::health {

// Returns the position of `health` in the order above: 0 for unknown up to 3 for failing.
constexpr int rank(Health health)
{
  switch (health) {
  case Health::unknown:
    return 0;
  case Health::healthy:
    return 1;
  case Health::warning:
    return 2;
  case Health::failing:
    return 3;
  }
  return 0;
}

// Returns true when `a` is strictly worse than `b`.
constexpr bool worse(Health a, Health b)
{
  return rank(a) > rank(b);
}

// Returns the worse of `a` and `b` (`a` when they are equal).
constexpr Health worst(Health a, Health b)
{
  return worse(b, a) ? b : a;
}

} // namespace hb::health
