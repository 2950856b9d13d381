// SPDX-License-Identifier: MIT
#include "util/smtp.hpp"

#include "util/curl_api.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace hb::util {
namespace {

// How often a running session looks at the cancel flag (see http.cpp).
constexpr int k_poll_slice_ms = 20;

struct Upload {
  const std::string* data;
  std::size_t offset = 0;
};

std::size_t read_message(char* buffer, std::size_t size, std::size_t count, void* user)
{
  auto* upload = static_cast<Upload*>(user);
  const std::size_t n = std::min(size * count, upload->data->size() - upload->offset);
  std::memcpy(buffer, upload->data->data() + upload->offset, n);
  upload->offset += n;
  return n;
}

// Discards what a server sends back outside the protocol (nothing, for SMTP).
std::size_t ignore_body(char* /*data*/, std::size_t size, std::size_t count, void* /*user*/)
{
  return size * count;
}

// The sockets libcurl holds open for the session (CURLOPT_SOCKOPTFUNCTION adds each one, and
// CURLOPT_CLOSESOCKETFUNCTION removes it as libcurl closes it), so that a cancelled session can
// be cut off without touching a number the system has since given to another file.
int record_socket(void* user, curl_socket_t socket, curlsocktype /*purpose*/)
{
  static_cast<std::vector<curl_socket_t>*>(user)->push_back(socket);
  return CURL_SOCKOPT_OK;
}

int close_socket(void* user, curl_socket_t socket)
{
  auto* sockets = static_cast<std::vector<curl_socket_t>*>(user);
  sockets->erase(std::remove(sockets->begin(), sockets->end(), socket), sockets->end());
  return ::close(socket);
}

class Handles {
public:
  Handles()
      : m_multi(curl().multi_init())
      , m_easy(curl().easy_init())
  {
  }
  ~Handles()
  {
    if (m_easy != nullptr) {
      curl().easy_cleanup(m_easy);
    }
    if (m_multi != nullptr) {
      curl().multi_cleanup(m_multi);
    }
  }
  Handles(const Handles&) = delete;
  Handles& operator=(const Handles&) = delete;

  CURLM* multi() const { return m_multi; }
  CURL* easy() const { return m_easy; }

private:
  CURLM* m_multi;
  CURL* m_easy;
};

class List {
public:
  List() = default;
  ~List() { curl().slist_free_all(m_list); }
  List(const List&) = delete;
  List& operator=(const List&) = delete;

  bool add(const std::string& item)
  {
    curl_slist* next = curl().slist_append(m_list, item.c_str());
    if (next == nullptr) {
      return false;
    }
    m_list = next;
    return true;
  }
  curl_slist* get() const { return m_list; }

private:
  curl_slist* m_list = nullptr;
};

bool has_line_break(std::string_view text)
{
  return text.find_first_of("\r\n") != std::string_view::npos;
}

SmtpResult::Failure failure_of(CURLcode code, long reply_code)
{
  using Failure = SmtpResult::Failure;
  switch (code) {
  case CURLE_OK:
    return Failure::none;
  case CURLE_URL_MALFORMAT:
  case CURLE_UNSUPPORTED_PROTOCOL:
    return Failure::bad_url;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
    return Failure::dns;
  case CURLE_COULDNT_CONNECT:
    return Failure::connect;
  case CURLE_USE_SSL_FAILED:
    return Failure::no_starttls;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
    return Failure::tls;
  case CURLE_LOGIN_DENIED:
    return Failure::login_denied;
  case CURLE_OPERATION_TIMEDOUT:
    return Failure::timeout;
  case CURLE_ABORTED_BY_CALLBACK:
    return Failure::cancelled;
  default:
    // libcurl ends a refused MAIL FROM, RCPT TO or DATA with a send error or a "weird server
    // reply"; the reply code says it was the server's answer, not the network.
    return reply_code >= 400 ? Failure::refused : Failure::other;
  }
}

void replace_all(std::string& text, std::string_view from, std::string_view to)
{
  if (from.empty()) {
    return;
  }
  std::size_t at = 0;
  while ((at = text.find(from, at)) != std::string::npos) {
    text.replace(at, from.size(), to);
    at += to.size();
  }
}

SmtpResult fail(SmtpResult::Failure failure, std::string error)
{
  SmtpResult result;
  result.failure = failure;
  result.error = std::move(error);
  return result;
}

} // namespace

SmtpResult send_mail(const SmtpRequest& request)
{
  using Failure = SmtpResult::Failure;
  const bool implicit_tls = starts_with_nocase(request.url, "smtps://");
  if (!implicit_tls && !starts_with_nocase(request.url, "smtp://")) {
    return fail(Failure::bad_url, "only smtp:// and smtps:// URLs are allowed");
  }
  if (has_line_break(request.mail_from) ||
      std::any_of(request.recipients.begin(), request.recipients.end(),
                  [](const std::string& r) { return has_line_break(r); })) {
    return fail(Failure::other, "an address holds a line break");
  }
  if (request.recipients.empty()) {
    return fail(Failure::other, "no recipients");
  }
  if (request.cancel != nullptr && request.cancel->load(std::memory_order_relaxed)) {
    return fail(Failure::cancelled, "cancelled");
  }
  if (const CurlLoad& load = curl_load(); load.curl == nullptr) {
    return fail(Failure::other, load.error);
  }
  // Everything the handles point at is declared first, so that it outlives them: cleaning up
  // the handles still closes sockets through close_socket.
  List recipients;
  bool ok = true;
  for (const auto& recipient : request.recipients) {
    ok = ok && recipients.add("<" + recipient + ">");
  }
  const std::string mail_from = "<" + request.mail_from + ">";
  Upload upload{&request.message};
  std::vector<curl_socket_t> sockets;
  Handles handles;
  CURL* easy = handles.easy();
  CURLM* multi = handles.multi();
  if (easy == nullptr || multi == nullptr) {
    return fail(Failure::other, "could not create a libcurl handle");
  }
  char error_buffer[CURL_ERROR_SIZE];
  error_buffer[0] = '\0';
  const long timeout_ms =
      request.timeout.count() > 0 ? static_cast<long>(request.timeout.count()) : 0L;
  long use_ssl = CURLUSESSL_ALL;
  if (!implicit_tls) {
    switch (request.starttls) {
    case SmtpRequest::StartTls::required:
      use_ssl = CURLUSESSL_ALL;
      break;
    case SmtpRequest::StartTls::optional:
      use_ssl = CURLUSESSL_TRY;
      break;
    case SmtpRequest::StartTls::off:
      use_ssl = CURLUSESSL_NONE;
      break;
    }
  }

  // CURLOPT_VERBOSE stays off: the session holds AUTH, whose secrets must never be printed.
  ok = ok && curl().easy_setopt(easy, CURLOPT_URL, request.url.c_str()) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "smtp,smtps") == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_USE_SSL, use_ssl) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, request.verify_tls ? 1L : 0L) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, request.verify_tls ? 2L : 0L) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_MAIL_FROM, mail_from.c_str()) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_MAIL_RCPT, recipients.get()) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_UPLOAD, 1L) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_READFUNCTION, read_message) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_READDATA, &upload) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_INFILESIZE_LARGE,
                          static_cast<curl_off_t>(request.message.size())) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_WRITEFUNCTION, ignore_body) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_SOCKOPTFUNCTION, record_socket) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_SOCKOPTDATA, &sockets) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, close_socket) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, &sockets) == CURLE_OK;
  if (ok && !request.ca_file.empty()) {
    ok = curl().easy_setopt(easy, CURLOPT_CAINFO, request.ca_file.c_str()) == CURLE_OK;
  }
  if (ok && !request.username.empty()) {
    ok = curl().easy_setopt(easy, CURLOPT_USERNAME, request.username.c_str()) == CURLE_OK &&
         curl().easy_setopt(easy, CURLOPT_PASSWORD, request.password.c_str()) == CURLE_OK;
  }
  if (!ok) {
    curl().easy_setopt(easy, CURLOPT_ERRORBUFFER, nullptr);
    return fail(Failure::other, "could not set up the mail (libcurl refused an option)");
  }

  CURLcode code = CURLE_OK;
  bool cancelled = false;
  bool multi_failed = curl().multi_add_handle(multi, easy) != CURLM_OK;
  while (!multi_failed) {
    int running = 0;
    if (curl().multi_perform(multi, &running) != CURLM_OK) {
      multi_failed = true;
      break;
    }
    if (running == 0) {
      int queued = 0;
      while (CURLMsg* message = curl().multi_info_read(multi, &queued)) {
        if (message->msg == CURLMSG_DONE && message->easy_handle == easy) {
          code = message->data.result;
        }
      }
      break;
    }
    if (request.cancel != nullptr && request.cancel->load(std::memory_order_relaxed)) {
      cancelled = true;
      break;
    }
    if (curl().multi_poll(multi, nullptr, 0, k_poll_slice_ms, nullptr) != CURLM_OK) {
      multi_failed = true;
      break;
    }
  }
  if (cancelled) {
    // Removing a handle mid-session makes libcurl say QUIT and wait for the answer, up to the
    // whole timeout, from a server that may never answer: shut the sockets first, so that the
    // goodbye fails at once and the connection is closed.
    for (const curl_socket_t socket : sockets) {
      ::shutdown(socket, SHUT_RDWR);
    }
  }
  curl().multi_remove_handle(multi, easy);

  SmtpResult result;
  curl().easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &result.reply_code);
  std::string detail = error_buffer[0] != '\0' ? error_buffer : curl().easy_strerror(code);
  curl().easy_setopt(easy, CURLOPT_ERRORBUFFER, nullptr);
  if (cancelled) {
    return fail(Failure::cancelled, "cancelled");
  }
  if (multi_failed) {
    return fail(Failure::other, "libcurl multi interface failure");
  }
  result.failure = failure_of(code, result.reply_code);
  if (result.failure == Failure::none) {
    return result;
  }
  if (request.password.size() >= 4) {
    replace_all(detail, request.password, "***");
  }
  switch (result.failure) {
  case Failure::no_starttls:
    result.error = "the server does not offer STARTTLS, which is required: nothing was sent";
    break;
  case Failure::login_denied:
    result.error = fmt::format("login denied ({})", detail);
    break;
  case Failure::refused:
    result.error =
        fmt::format("the server refused the mail ({}, reply {})", detail, result.reply_code);
    break;
  default:
    result.error = detail;
    break;
  }
  return result;
}

} // namespace hb::util
