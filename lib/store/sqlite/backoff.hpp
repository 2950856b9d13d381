// SPDX-License-Identifier: MIT
#pragma once

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include <unistd.h>

namespace hb::store::sqlite {

// How long a tool waits for another process that holds the database: SQLite's busy timeout, and
// the limit of the waits SQLite's busy handler does not cover (Backoff).
inline constexpr std::chrono::milliseconds k_busy_timeout{30'000};

// Paces retries of something another process holds where SQLite's busy handler does not wait
// for us (switching to WAL, taking the creation lock): from 1 ms, doubling up to 50 ms, with
// jitter so that processes started in the same instant do not retry in step; at most `limit` in
// all.
class Backoff {
public:
  explicit Backoff(std::chrono::milliseconds limit = k_busy_timeout)
      : m_deadline(std::chrono::steady_clock::now() + limit)
      , m_random(static_cast<unsigned>(::getpid()) ^
                 static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()))
  {
  }

  // Sleeps before the next attempt and returns true; returns false, without sleeping, once the
  // limit has passed.
  bool wait()
  {
    const auto now = std::chrono::steady_clock::now();
    if (now >= m_deadline) {
      return false;
    }
    std::uniform_int_distribution<long> jitter(0, m_step.count());
    const auto pause = std::min<std::chrono::steady_clock::duration>(
        m_step / 2 + std::chrono::microseconds(jitter(m_random)), m_deadline - now);
    std::this_thread::sleep_for(pause);
    m_step = std::min(m_step * 2, std::chrono::microseconds(50'000));
    return true;
  }

private:
  std::chrono::steady_clock::time_point m_deadline;
  std::chrono::microseconds m_step{1'000};
  std::minstd_rand m_random;
};

} // namespace hb::store::sqlite
