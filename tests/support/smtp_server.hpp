// SPDX-License-Identifier: MIT
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <sys/types.h>
#include <vector>

namespace hb::test {

// A real SMTP server on 127.0.0.1 for the email channel's tests: tests/support/smtp_server.py
// on Debian's python3-aiosmtpd, started in the background for the object's lifetime. Recipients
// starting with "reject" are refused with 550, "busy" with 451.
class SmtpTestServer {
public:
  struct Options {
    // Offer STARTTLS and require it before MAIL FROM, with a self-signed certificate for
    // 127.0.0.1 and localhost made by the openssl command (ca_file() trusts it).
    bool starttls = false;
  };

  // Starts the server in `folder` and returns once it listens. Throws std::runtime_error (with
  // the server's own output) when it cannot start: a machine without python3-aiosmtpd fails the
  // test, it is never skipped.
  explicit SmtpTestServer(std::filesystem::path folder);
  SmtpTestServer(std::filesystem::path folder, Options options);
  ~SmtpTestServer();
  SmtpTestServer(const SmtpTestServer&) = delete;
  SmtpTestServer& operator=(const SmtpTestServer&) = delete;

  int port() const { return m_port; }
  // "smtp://127.0.0.1:PORT"
  std::string url() const;
  std::string ca_file() const;
  // The mails accepted so far, oldest first: {mail_from, rcpt_tos, tls, content_type, headers,
  // parts: [{content_type, charset, text}]}.
  std::vector<nlohmann::json> messages() const;
  // The raw bytes of mail `n` (1-based) as received.
  std::string raw(int n) const;

private:
  std::filesystem::path m_folder;
  pid_t m_pid = -1;
  int m_port = 0;
};

} // namespace hb::test
