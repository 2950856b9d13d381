// SPDX-License-Identifier: MIT
#pragma once

// Sending one mail over SMTP with libcurl (opened with dlopen, like the HTTP client). Not a
// seam: the email channel is tested against a real local SMTP server.

#include "util/chrono.hpp"

#include <atomic>
#include <string>
#include <vector>

namespace hb::util {

struct SmtpRequest {
  // smtp://host[:port] (STARTTLS per `starttls`) or smtps://host[:port] (TLS from the start).
  std::string url;
  // smtp:// only. required: STARTTLS or nothing is sent; optional: STARTTLS when the server
  // offers it, else in clear; off: never.
  enum class StartTls { required, optional, off };
  StartTls starttls = StartTls::required;
  bool verify_tls = true;
  std::string ca_file;  // extra CA bundle; empty: system default
  std::string username; // AUTH when not empty
  std::string password;
  std::string mail_from;                     // envelope sender, a bare address
  std::vector<std::string> recipients;       // bare addresses
  std::string message;                       // RFC 5322 text with CRLF line ends
  Duration timeout{10'000};                  // for the whole session
  const std::atomic<bool>* cancel = nullptr; // when it becomes true the session is aborted
};

struct SmtpResult {
  enum class Failure {
    none,    // the server accepted the mail
    bad_url, // not an smtp:// or smtps:// URL
    dns,
    connect,
    tls,         // handshake or certificate verification failed
    no_starttls, // STARTTLS required but the server does not offer it: nothing was sent
    login_denied,
    timeout,
    cancelled,
    refused, // the server answered a command with an error (reply_code says which)
    other,
  };
  Failure failure = Failure::other;
  long reply_code = 0; // the server's last reply code (250, 451, 550...), 0 when none came
  std::string error;   // for people; never the password
};

// Sends one mail. Never throws; never prints the session (curl's verbose mode stays off).
SmtpResult send_mail(const SmtpRequest& request);

} // namespace hb::util
