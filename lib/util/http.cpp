// SPDX-License-Identifier: MIT
#include "util/http.hpp"

#include "util/curl_api.hpp"
#include "util/duration.hpp"
#include "util/http_redirect.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#ifndef HB_VERSION
#define HB_VERSION "unknown"
#endif

namespace hb::util {
namespace {

// How often a running transfer looks at the cancel flag. curl_easy_perform() only calls its
// progress callback about once a second while a server is silent, which is too slow for a pulse
// that must stop at its deadline, so transfers run on a per-thread multi handle polled in slices.
constexpr int k_poll_slice_ms = 20;

constexpr std::string_view k_user_agent = "heartbeat/" HB_VERSION;

// One easy handle and one multi handle per thread. The multi handle owns the connection cache,
// so consecutive requests from a thread to the same host reuse a connection.
class ThreadHandles {
public:
  ThreadHandles()
      : m_multi(curl().multi_init())
      , m_easy(curl().easy_init())
  {
  }
  ~ThreadHandles()
  {
    if (m_easy != nullptr) {
      curl().easy_cleanup(m_easy);
    }
    if (m_multi != nullptr) {
      curl().multi_cleanup(m_multi);
    }
  }
  ThreadHandles(const ThreadHandles&) = delete;
  ThreadHandles& operator=(const ThreadHandles&) = delete;

  CURLM* multi() const { return m_multi; }
  CURL* easy() const { return m_easy; }

private:
  CURLM* m_multi;
  CURL* m_easy;
};

ThreadHandles& thread_handles()
{
  thread_local ThreadHandles handles;
  return handles;
}

// redact_url for text libcurl cannot parse. Errs on the side of showing less: userinfo ends at
// the last '@' before the first '/', and anything still containing '@' afterwards is hidden,
// since a password with a '/' in it would otherwise show.
std::string redact_unparseable(const std::string& url)
{
  std::string prefix;
  std::string rest = url;
  const std::size_t sep = url.find("://");
  if (sep != std::string::npos && sep > 0 &&
      std::all_of(url.begin(), url.begin() + static_cast<std::ptrdiff_t>(sep), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
      })) {
    prefix = url.substr(0, sep + 3);
    rest = url.substr(sep + 3);
  }
  const std::size_t slash = rest.find('/');
  const std::size_t at = slash == std::string::npos ? rest.rfind('@')
                         : slash == 0               ? std::string::npos
                                                    : rest.rfind('@', slash - 1);
  if (at != std::string::npos) {
    rest.erase(0, at + 1);
  }
  rest = rest.substr(0, rest.find_first_of("?#"));
  if (rest.find('@') != std::string::npos) {
    rest = "...";
  }
  return prefix + rest;
}

void replace_all(std::string& text, std::string_view from, std::string_view to)
{
  if (from.empty()) {
    return;
  }
  std::size_t pos = 0;
  while ((pos = text.find(from, pos)) != std::string::npos) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
}

// Removes from `message` every piece of `url` that may be secret: the URL itself (replaced by its
// redacted form), its userinfo, user, password, query and fragment.
void scrub_url(std::string& message, const std::string& url)
{
  if (url.empty()) {
    return;
  }
  replace_all(message, url, redact_url(url));
  UrlHandle parsed;
  if (!parsed.parse(url, CURLU_NON_SUPPORT_SCHEME)) {
    return;
  }
  std::vector<std::string> secrets;
  for (CURLUPart part : {CURLUPART_PASSWORD, CURLUPART_USER, CURLUPART_OPTIONS, CURLUPART_QUERY,
                         CURLUPART_FRAGMENT}) {
    if (auto value = parsed.get(part); value && !value->empty()) {
      secrets.push_back(*value);
    }
    if (auto value = parsed.get(part, CURLU_URLDECODE); value && !value->empty()) {
      secrets.push_back(*value);
    }
  }
  // Longest first, so that a password is not partly replaced through a shorter user name.
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& secret : secrets) {
    replace_all(message, secret, "***");
  }
}

struct Endpoint {
  std::string host;
  std::string port;
};

Endpoint endpoint_of(const std::string& url)
{
  UrlHandle parsed;
  if (!parsed.parse(url, CURLU_NON_SUPPORT_SCHEME)) {
    return {};
  }
  return {parsed.get(CURLUPART_HOST).value_or(""),
          parsed.get(CURLUPART_PORT, CURLU_DEFAULT_PORT).value_or("")};
}

std::string describe_endpoint(const Endpoint& endpoint)
{
  return endpoint.port.empty() ? endpoint.host : fmt::format("{}:{}", endpoint.host, endpoint.port);
}

HttpResponse::Failure failure_of(CURLcode code)
{
  using Failure = HttpResponse::Failure;
  switch (code) {
  case CURLE_OK:
    return Failure::none;
  case CURLE_URL_MALFORMAT:
    return Failure::bad_url;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
    return Failure::dns;
  case CURLE_COULDNT_CONNECT:
    return Failure::connect;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_SHUTDOWN_FAILED:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
  case CURLE_SSL_CLIENTCERT:
  case CURLE_USE_SSL_FAILED:
    return Failure::tls;
  case CURLE_OPERATION_TIMEDOUT:
    return Failure::timeout;
  case CURLE_ABORTED_BY_CALLBACK:
    return Failure::cancelled;
  case CURLE_WEIRD_SERVER_REPLY:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_TOO_MANY_REDIRECTS:
  case CURLE_UNSUPPORTED_PROTOCOL:
  case CURLE_PARTIAL_FILE:
  case CURLE_BAD_CONTENT_ENCODING:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
  case CURLE_HTTP3:
  case CURLE_QUIC_CONNECT_ERROR:
  case CURLE_HTTP_RETURNED_ERROR:
    return Failure::protocol;
  default:
    return Failure::other;
  }
}

struct BodySink {
  std::string* body;
  std::size_t max;
  bool truncated = false;
};

std::size_t write_body(char* data, std::size_t size, std::size_t count, void* user)
{
  auto* sink = static_cast<BodySink*>(user);
  const std::size_t length = size * count;
  const std::size_t room = sink->max - std::min(sink->max, sink->body->size());
  if (length <= room) {
    sink->body->append(data, length);
    return length;
  }
  // Keep what fits, then end the transfer: returning a short count makes libcurl stop with
  // CURLE_WRITE_ERROR, so an endless body cannot keep a check busy until its timeout.
  sink->body->append(data, room);
  sink->truncated = true;
  return room;
}

// Watches the response's header lines: libcurl 7.88 reports a transfer that ends inside the
// headers ("HTTP/1.1 200 OK\r\nContent-Ty" and then the connection closes) as a success with
// that status, although no complete response ever arrived.
struct HeaderWatch {
  bool complete = false; // the blank line that ends the last header block has arrived
  std::string retry_after; // the Retry-After value of the last header block, trimmed
};

std::string_view trim_space(std::string_view text)
{
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() &&
         (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

std::size_t watch_header(char* data, std::size_t size, std::size_t count, void* user)
{
  auto* watch = static_cast<HeaderWatch*>(user);
  const std::string_view line(data, size * count);
  if (line == "\r\n" || line == "\n") {
    watch->complete = true;
  } else if (line.rfind("HTTP/", 0) == 0) {
    // A new status line: an interim 1xx answer or a redirect's target starts another block.
    watch->complete = false;
    watch->retry_after.clear();
  } else if (constexpr std::string_view name = "retry-after:"; starts_with_nocase(line, name)) {
    // Kept for notification channels, which must wait as long as a rate-limited provider asks.
    watch->retry_after = std::string(trim_space(line.substr(name.size())).substr(0, 64));
  }
  return size * count;
}

class HeaderList {
public:
  HeaderList() = default;
  ~HeaderList() { curl().slist_free_all(m_list); }
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;

  // Returns false when libcurl ran out of memory.
  bool add(const std::string& line)
  {
    curl_slist* next = curl().slist_append(m_list, line.c_str());
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

bool is_header(const std::pair<std::string, std::string>& header, std::string_view name)
{
  return header.first.size() == name.size() && starts_with_nocase(header.first, name);
}

// Sets the options that depend on the method; returns false when libcurl refused one. `body`
// must outlive the transfer.
bool set_method(CURL* easy, const std::string& method, const std::string& body)
{
  bool ok = true;
  if (method == "HEAD") {
    ok = curl().easy_setopt(easy, CURLOPT_NOBODY, 1L) == CURLE_OK;
  } else if (method == "POST") {
    ok = curl().easy_setopt(easy, CURLOPT_POST, 1L) == CURLE_OK;
  } else if (method != "GET" && !method.empty()) {
    ok = curl().easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method.c_str()) == CURLE_OK;
  }
  if (ok && (method == "POST" || !body.empty())) {
    ok = curl().easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                            static_cast<curl_off_t>(body.size())) == CURLE_OK &&
         curl().easy_setopt(easy, CURLOPT_POSTFIELDS, body.c_str()) == CURLE_OK;
  }
  return ok;
}

// One request of a redirect chain, as it is sent.
struct Hop {
  std::string url;
  std::string method;
  bool send_headers = true; // the request's own headers: only to its original origin
  bool send_body = true;
};

// What one transfer (one request and its response) gave.
struct Transfer {
  bool set_up = false; // false: libcurl refused an option, nothing was sent
  bool cancelled = false;
  bool multi_failed = false;
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string retry_after;
  Duration elapsed{0};
  long os_errno = 0;
  std::string effective_url;
  std::optional<std::string> redirect_url; // the absolute URL `Location` names, on a 3xx
  std::string detail;                      // libcurl's error message
  bool headers_complete = false;
  bool request_sent = false;
};

// Sends `hop` of `request` on `easy` through `multi`, keeping the response body in `sink`.
Transfer transfer(CURL* easy, CURLM* multi, const HttpRequest& request, const Hop& hop,
                  long timeout_ms, long connect_timeout_ms, BodySink& sink)
{
  Transfer out;
  curl().easy_reset(easy);
  HeaderWatch header_watch;
  char error_buffer[CURL_ERROR_SIZE];
  error_buffer[0] = '\0';
  const std::string empty;
  const std::string& body = hop.send_body ? request.body : empty;

  HeaderList headers;
  bool ok = true;
  if (hop.send_headers) {
    for (const auto& [name, value] : request.headers) {
      // "Name;" is how libcurl is told to send a header with an empty value.
      ok = ok && headers.add(value.empty() ? name + ";" : fmt::format("{}: {}", name, value));
    }
  }
  const bool own_expect =
      hop.send_headers && std::any_of(request.headers.begin(), request.headers.end(),
                                      [](const auto& h) { return is_header(h, "Expect"); });
  if (!body.empty() && !own_expect) {
    // libcurl would otherwise wait up to a second for "100 Continue" before sending a body.
    ok = ok && headers.add("Expect:");
  }

  // Redirects are followed by perform(), one transfer per hop, so that each hop's headers and
  // body can be decided (plan_redirect); CURLINFO_REDIRECT_URL says where the next one goes.
  ok = ok && curl().easy_setopt(easy, CURLOPT_URL, hop.url.c_str()) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_USERAGENT, k_user_agent.data()) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, request.verify_tls ? 1L : 0L) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, request.verify_tls ? 2L : 0L) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_body) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_WRITEDATA, &sink) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_HEADERFUNCTION, watch_header) == CURLE_OK &&
       curl().easy_setopt(easy, CURLOPT_HEADERDATA, &header_watch) == CURLE_OK &&
       set_method(easy, hop.method, body);
  if (ok && !request.ca_file.empty()) {
    ok = curl().easy_setopt(easy, CURLOPT_CAINFO, request.ca_file.c_str()) == CURLE_OK;
  }
  if (ok && headers.get() != nullptr) {
    ok = curl().easy_setopt(easy, CURLOPT_HTTPHEADER, headers.get()) == CURLE_OK;
  }
  if (ok && curl().share != nullptr) {
    ok = curl().easy_setopt(easy, CURLOPT_SHARE, curl().share) == CURLE_OK;
  }
  if (!ok) {
    curl().easy_setopt(easy, CURLOPT_ERRORBUFFER, nullptr);
    return out;
  }
  out.set_up = true;

  if (curl().multi_add_handle(multi, easy) != CURLM_OK) {
    out.multi_failed = true;
  } else {
    int running = 1;
    while (true) {
      if (curl().multi_perform(multi, &running) != CURLM_OK) {
        out.multi_failed = true;
        break;
      }
      if (running == 0) {
        int queued = 0;
        while (CURLMsg* message = curl().multi_info_read(multi, &queued)) {
          if (message->msg == CURLMSG_DONE && message->easy_handle == easy) {
            out.code = message->data.result;
          }
        }
        break;
      }
      if (request.cancel != nullptr && request.cancel->load(std::memory_order_relaxed)) {
        out.cancelled = true;
        break;
      }
      if (curl().multi_poll(multi, nullptr, 0, k_poll_slice_ms, nullptr) != CURLM_OK) {
        out.multi_failed = true;
        break;
      }
    }
    // Removing an unfinished transfer closes its connection, so nothing half-read is reused.
    curl().multi_remove_handle(multi, easy);
  }

  curl().easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &out.status);
  curl_off_t total_us = 0;
  curl().easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total_us);
  out.elapsed = Duration(total_us / 1000);
  curl().easy_getinfo(easy, CURLINFO_OS_ERRNO, &out.os_errno);
  char* effective = nullptr;
  curl().easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &effective);
  out.effective_url = effective != nullptr ? effective : hop.url;
  char* redirect = nullptr;
  if (curl().easy_getinfo(easy, CURLINFO_REDIRECT_URL, &redirect) == CURLE_OK &&
      redirect != nullptr) {
    out.redirect_url = redirect;
  }
  long request_size = 0;
  curl().easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &request_size);
  out.request_sent = request_size > 0;
  out.headers_complete = header_watch.complete;
  out.retry_after = std::move(header_watch.retry_after);
  out.detail = error_buffer[0] != '\0' ? error_buffer : curl().easy_strerror(out.code);
  // The buffer lives on this stack frame; the handle outlives it.
  curl().easy_setopt(easy, CURLOPT_ERRORBUFFER, nullptr);
  return out;
}

// libcurl 8.6 and later end a transfer whose response headers are too large with
// CURLE_TOO_LARGE; the headers this file is built against (7.88) predate it, which ends it with
// CURLE_OUT_OF_MEMORY instead. libcurl4 keeps its numbers, so the later one is named here.
constexpr int k_curle_too_large = 100;

// Fills in `response.error` for the transfer `t` of `request` that failed as `response.failure`
// says (and corrects that failure where libcurl's code misleads), with credentials removed from
// any URL in it.
void describe_failure(HttpResponse& response, const Transfer& t, const HttpRequest& request,
                      long connect_timeout_ms, long timeout_ms)
{
  using Failure = HttpResponse::Failure;
  std::string detail = t.detail;
  scrub_url(detail, t.effective_url);
  scrub_url(detail, request.url);
  const Endpoint endpoint = endpoint_of(t.effective_url);
  if ((t.code == CURLE_OUT_OF_MEMORY || static_cast<int>(t.code) == k_curle_too_large) &&
      t.request_sent && !t.headers_complete) {
    // A header line past libcurl's limit (CURL_MAX_HTTP_HEADER), not a lack of memory here: the
    // server's reply is malformed, and the check fails like for any other malformed reply.
    response.failure = Failure::protocol;
    response.error = fmt::format("response header over {} bytes from {}", CURL_MAX_HTTP_HEADER,
                                 describe_endpoint(endpoint));
    return;
  }
  switch (response.failure) {
  case Failure::dns:
    response.error = fmt::format("could not resolve host \"{}\"", endpoint.host);
    break;
  case Failure::connect:
    response.error =
        t.os_errno != 0
            ? fmt::format(
                  "{} ({})",
                  std::error_code(static_cast<int>(t.os_errno), std::generic_category()).message(),
                  describe_endpoint(endpoint))
            : fmt::format("{} ({})", detail, describe_endpoint(endpoint));
    break;
  case Failure::timeout:
    response.error =
        fmt::format("timed out after {} ({})",
                    format_duration(std::strncmp(detail.c_str(), "Connection timed out", 20) == 0
                                        ? Duration(connect_timeout_ms)
                                        : Duration(timeout_ms)),
                    describe_endpoint(endpoint));
    break;
  case Failure::cancelled:
    response.error = "cancelled";
    break;
  default:
    response.error = detail;
    break;
  }
  if (response.failure == Failure::dns || response.failure == Failure::connect ||
      response.failure == Failure::timeout) {
    scrub_url(response.error, t.effective_url);
    scrub_url(response.error, request.url);
  }
}

Duration elapsed_since(std::chrono::steady_clock::time_point start)
{
  return std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - start);
}

HttpResponse fail(HttpResponse::Failure failure, std::string error)
{
  HttpResponse response;
  response.failure = failure;
  response.error = std::move(error);
  return response;
}

} // namespace

std::string redact_url(const std::string& url)
{
  // Userinfo needs an '@', a query a '?', a fragment a '#': a URL with none of them has nothing
  // to hide. Every HTTP result goes through here, so this spares libcurl's URL parser.
  if (has_http_scheme(url) && url.find_first_of("@?#") == std::string::npos) {
    return url;
  }
  if (curl_load().curl == nullptr) {
    return redact_unparseable(url);
  }
  UrlHandle parsed;
  if (!parsed.parse(url, CURLU_NON_SUPPORT_SCHEME)) {
    return redact_unparseable(url);
  }
  for (CURLUPart part : {CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_OPTIONS, CURLUPART_QUERY,
                         CURLUPART_FRAGMENT}) {
    parsed.clear(part);
  }
  auto out = parsed.get(CURLUPART_URL);
  return out ? *out : redact_unparseable(url);
}

std::optional<Duration> parse_retry_after(std::string_view value, TimePoint now)
{
  value = trim_space(value);
  if (value.empty()) {
    return std::nullopt;
  }
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    // Longer than a year's worth of digits is no request to honour, just a number to reject.
    if (value.size() > 9) {
      return std::nullopt;
    }
    return Duration(std::stoll(std::string(value)) * 1000);
  }
  // IMF-fixdate, the one form RFC 9110 lets senders use: "Sun, 06 Nov 1994 08:49:37 GMT".
  static constexpr std::array<std::string_view, 12> k_months = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char weekday[4] = {};
  char month[4] = {};
  int day = 0;
  int year = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  char zone[4] = {};
  int consumed = 0;
  const std::string text(value);
  if (std::sscanf(text.c_str(), "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d %3[A-Z]%n", weekday,
                  &day, month, &year, &hour, &minute, &second, zone, &consumed) != 8 ||
      static_cast<std::size_t>(consumed) != text.size() || std::strlen(weekday) != 3 ||
      text[3] != ',' || std::string_view(zone) != "GMT") {
    return std::nullopt;
  }
  const auto month_at = std::find(k_months.begin(), k_months.end(), std::string_view(month));
  if (month_at == k_months.end() || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60 || year < 1970) {
    return std::nullopt;
  }
  const int month_number = static_cast<int>(month_at - k_months.begin()) + 1;
  // Days from 1970-01-01 to the date (Howard Hinnant's days_from_civil), as timegm() would,
  // without the C library's time zone state.
  const int y = month_number <= 2 ? year - 1 : year;
  const int era = y / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (month_number + (month_number > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const long long days = static_cast<long long>(era) * 146097 + doe - 719468;
  const TimePoint at{Duration((days * 86400 + hour * 3600 + minute * 60 + second) * 1000LL)};
  return at > now ? std::chrono::duration_cast<Duration>(at - now) : Duration(0);
}

bool is_http_url(const std::string& url)
{
  if (!has_http_scheme(url)) {
    return false;
  }
  // libcurl reads "https:///path" as host "path"; a missing host is a typo to report.
  if (const std::size_t host_start = url.find("://") + 3;
      host_start >= url.size() || url[host_start] == '/') {
    return false;
  }
  if (curl_load().curl == nullptr) {
    return true; // perform() reports the missing library
  }
  UrlHandle parsed;
  if (!parsed.parse(url, 0)) {
    return false;
  }
  auto host = parsed.get(CURLUPART_HOST);
  return host && !host->empty();
}

HttpClient& default_http_client()
{
  // Leaked on purpose, like the library itself: abandoned check threads may still use it while
  // static destructors run.
  static auto* client = new CurlHttpClient();
  return *client;
}

HttpResponse CurlHttpClient::perform(const HttpRequest& request)
{
  using Failure = HttpResponse::Failure;
  const auto started = std::chrono::steady_clock::now();

  if (!has_http_scheme(request.url)) {
    return fail(Failure::bad_url,
                fmt::format("only http:// and https:// URLs are allowed, got \"{}\"",
                            redact_url(request.url)));
  }
  if (!is_http_url(request.url)) {
    return fail(Failure::bad_url, fmt::format("invalid URL \"{}\"", redact_url(request.url)));
  }
  for (const auto& header : request.headers) {
    if (header.first.empty() || has_line_break(header.first) || has_line_break(header.second) ||
        header.first.find(':') != std::string::npos) {
      // The value is not shown: headers carry credentials.
      return fail(Failure::other, fmt::format("invalid header \"{}\"", header.first));
    }
  }
  if (request.cancel != nullptr && request.cancel->load(std::memory_order_relaxed)) {
    return fail(Failure::cancelled, "cancelled");
  }

  if (const CurlLoad& load = curl_load(); load.curl == nullptr) {
    return fail(Failure::other, load.error);
  }
  ThreadHandles& handles = thread_handles();
  CURL* easy = handles.easy();
  CURLM* multi = handles.multi();
  if (easy == nullptr || multi == nullptr) {
    return fail(Failure::other, "could not create a libcurl handle");
  }

  const long timeout_ms =
      request.timeout.count() > 0 ? static_cast<long>(request.timeout.count()) : 0L;
  const long connect_timeout_ms = request.connect_timeout.count() > 0
                                      ? static_cast<long>(request.connect_timeout.count())
                                      : timeout_ms;
  // One deadline for the whole chain of redirects.
  const auto deadline = started + std::chrono::milliseconds(timeout_ms);

  HttpResponse response;
  Hop hop{request.url, request.method.empty() ? "GET" : request.method, true, true};
  Duration elapsed{0};
  for (int redirects = 0;; ++redirects) {
    long hop_timeout_ms = 0;
    long hop_connect_timeout_ms = connect_timeout_ms;
    if (timeout_ms > 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0) {
        response.failure = Failure::timeout;
        response.error = fmt::format("timed out after {} ({})", format_duration(request.timeout),
                                     describe_endpoint(endpoint_of(hop.url)));
        response.elapsed = elapsed_since(started);
        return response;
      }
      hop_timeout_ms = static_cast<long>(left);
      hop_connect_timeout_ms = std::min(connect_timeout_ms, hop_timeout_ms);
    }

    response.body.clear();
    BodySink sink{&response.body, request.max_body};
    const Transfer t =
        transfer(easy, multi, request, hop, hop_timeout_ms, hop_connect_timeout_ms, sink);
    if (!t.set_up) {
      return fail(Failure::other, "could not set up the request (libcurl refused an option)");
    }
    elapsed += t.elapsed;
    response.status = t.status;
    response.final_url = redact_url(t.effective_url);
    response.body_truncated = sink.truncated;
    response.retry_after = t.retry_after;
    response.elapsed = t.cancelled || elapsed == Duration(0) ? elapsed_since(started) : elapsed;

    if (t.cancelled) {
      response.failure = Failure::cancelled;
      response.error = "cancelled";
      return response;
    }
    if (t.multi_failed) {
      response.failure = Failure::other;
      response.error = "libcurl multi interface failure";
      return response;
    }
    if (!(t.code == CURLE_WRITE_ERROR && sink.truncated)) { // else cut off by max_body: fine
      response.failure = failure_of(t.code);
      if (response.failure == Failure::none && !t.headers_complete) {
        response.failure = Failure::protocol;
        response.error = "the response ended inside its headers";
        return response;
      }
      if (response.failure != Failure::none) {
        describe_failure(response, t, request, connect_timeout_ms, timeout_ms);
        return response;
      }
    }
    response.failure = Failure::none;

    if (request.max_redirects <= 0 || !is_followed_redirect(t.status) || !t.redirect_url) {
      return response;
    }
    const std::string& target = *t.redirect_url;
    if (redirects >= request.max_redirects) {
      response.failure = Failure::protocol;
      response.error = fmt::format("Maximum ({}) redirects followed", request.max_redirects);
      return response;
    }
    const RedirectPlan plan = plan_redirect(request, hop.url, hop.method, t.status, target);
    switch (plan.verdict) {
    case RedirectPlan::Verdict::not_http:
      response.failure = Failure::protocol;
      response.error =
          fmt::format("redirect to \"{}\" not followed: only http:// and https:// URLs are",
                      redact_url(target));
      return response;
    case RedirectPlan::Verdict::downgrade:
      response.failure = Failure::insecure_redirect;
      response.error =
          fmt::format("redirect from https to http refused (to \"{}\")", redact_url(target));
      return response;
    case RedirectPlan::Verdict::follow:
      break;
    }
    hop = Hop{target, plan.method, plan.same_origin, hop.send_body && plan.keep_body};
  }
}

} // namespace hb::util
