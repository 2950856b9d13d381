// SPDX-License-Identifier: MIT
#pragma once

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hb::test {

// A real FIFO (mkfifo) that nobody writes to, for "refused, never waited on" tests. So that a
// regression fails the test instead of hanging it, a guard thread opens the FIFO for writing
// and closes it again, every 50 ms after `patience`, until the FIFO is destroyed: whoever is
// wrongly blocked opening or reading it then sees end-of-file and goes on (to a failed
// assertion: an empty file is not what the test expects).
class Fifo {
public:
  explicit Fifo(std::filesystem::path path,
                std::chrono::milliseconds patience = std::chrono::seconds(5))
      : m_path(std::move(path))
  {
    if (::mkfifo(m_path.c_str(), 0600) != 0) {
      throw std::system_error(errno, std::generic_category(), "mkfifo " + m_path.string());
    }
    m_guard = std::thread([this, patience] {
      std::unique_lock lock(m_mutex);
      if (m_changed.wait_for(lock, patience, [this] { return m_done; })) {
        return;
      }
      while (!m_changed.wait_for(lock, std::chrono::milliseconds(50), [this] { return m_done; })) {
        // Non-blocking: succeeds only while someone has it open for reading (ENXIO otherwise).
        const int fd = ::open(m_path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0) {
          ::close(fd);
        }
      }
    });
  }
  Fifo(const Fifo&) = delete;
  Fifo& operator=(const Fifo&) = delete;
  ~Fifo()
  {
    {
      std::lock_guard lock(m_mutex);
      m_done = true;
    }
    m_changed.notify_all();
    m_guard.join();
  }

  const std::filesystem::path& path() const { return m_path; }

private:
  std::filesystem::path m_path;
  std::mutex m_mutex;
  std::condition_variable m_changed;
  bool m_done = false;
  std::thread m_guard;
};

} // namespace hb::test
