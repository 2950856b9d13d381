// SPDX-License-Identifier: MIT
#include "util/curl_api.hpp"

#include "util/shared_library.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <mutex>

namespace hb::util {
namespace {

// The DNS cache shared by every thread's handle, so that 1,000 checks against one host from 32
// threads resolve it once rather than once per thread. libcurl requires the locks; connections
// are deliberately not shared (each thread keeps its own, which needs no locking).
std::array<std::mutex, CURL_LOCK_DATA_LAST>& share_locks()
{
  // Leaked on purpose: thread-local handles detach from the share during thread exit, which may
  // run after static destructors.
  static auto* locks = new std::array<std::mutex, CURL_LOCK_DATA_LAST>();
  return *locks;
}

void lock_share(CURL* /*handle*/, curl_lock_data data, curl_lock_access /*access*/, void* /*user*/)
{
  share_locks()[static_cast<std::size_t>(data) % CURL_LOCK_DATA_LAST].lock();
}

void unlock_share(CURL* /*handle*/, curl_lock_data data, void* /*user*/)
{
  share_locks()[static_cast<std::size_t>(data) % CURL_LOCK_DATA_LAST].unlock();
}

// The soname the build linked against before loading became lazy: libcurl4's ABI.
constexpr const char* k_curl_library = "libcurl.so.4";

CurlLoad load_curl()
{
  CurlLoad result;
  // Never closed: thread-local handles are cleaned up during thread exit, after static
  // destructors may have run.
  SharedLibrary library(k_curl_library, "libcurl4");
  if (!library.loaded()) {
    result.error = library.error();
    return result;
  }
  auto api = std::make_unique<Curl>(); // released (leaked on purpose, like the library) once usable
  const bool ok = library.resolve("curl_global_init", api->global_init) &&
                  library.resolve("curl_share_init", api->share_init) &&
                  library.resolve("curl_share_setopt", api->share_setopt) &&
                  library.resolve("curl_share_cleanup", api->share_cleanup) &&
                  library.resolve("curl_multi_init", api->multi_init) &&
                  library.resolve("curl_multi_cleanup", api->multi_cleanup) &&
                  library.resolve("curl_multi_add_handle", api->multi_add_handle) &&
                  library.resolve("curl_multi_remove_handle", api->multi_remove_handle) &&
                  library.resolve("curl_multi_perform", api->multi_perform) &&
                  library.resolve("curl_multi_poll", api->multi_poll) &&
                  library.resolve("curl_multi_info_read", api->multi_info_read) &&
                  library.resolve("curl_easy_init", api->easy_init) &&
                  library.resolve("curl_easy_cleanup", api->easy_cleanup) &&
                  library.resolve("curl_easy_reset", api->easy_reset) &&
                  library.resolve("curl_easy_setopt", api->easy_setopt) &&
                  library.resolve("curl_easy_getinfo", api->easy_getinfo) &&
                  library.resolve("curl_easy_strerror", api->easy_strerror) &&
                  library.resolve("curl_url", api->url) &&
                  library.resolve("curl_url_cleanup", api->url_cleanup) &&
                  library.resolve("curl_url_set", api->url_set) &&
                  library.resolve("curl_url_get", api->url_get) &&
                  library.resolve("curl_free", api->free) &&
                  library.resolve("curl_slist_append", api->slist_append) &&
                  library.resolve("curl_slist_free_all", api->slist_free_all);
  if (!ok) {
    result.error = library.error();
    return result;
  }
  if (const CURLcode code = api->global_init(CURL_GLOBAL_DEFAULT); code != CURLE_OK) {
    result.error = fmt::format("libcurl failed to initialise: {}", api->easy_strerror(code));
    return result;
  }
  share_locks();
  if (CURLSH* s = api->share_init(); s != nullptr) {
    if (api->share_setopt(s, CURLSHOPT_LOCKFUNC, lock_share) == CURLSHE_OK &&
        api->share_setopt(s, CURLSHOPT_UNLOCKFUNC, unlock_share) == CURLSHE_OK &&
        api->share_setopt(s, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) == CURLSHE_OK) {
      api->share = s;
    } else {
      api->share_cleanup(s);
    }
  }
  result.curl = api.release();
  return result;
}

} // namespace

const CurlLoad& curl_load()
{
  // Leaked on purpose: thread-local handles use it during thread exit, which may come after
  // static destructors.
  static const CurlLoad* load = new CurlLoad(load_curl());
  return *load;
}

const Curl& curl()
{
  return *curl_load().curl;
}

bool starts_with_nocase(std::string_view text, std::string_view prefix)
{
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

bool has_http_scheme(std::string_view url)
{
  return starts_with_nocase(url, "http://") || starts_with_nocase(url, "https://");
}

} // namespace hb::util
