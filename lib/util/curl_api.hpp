// SPDX-License-Identifier: MIT
#pragma once

// libcurl as util's HTTP files use it (http.cpp, http_redirect.cpp): opened with dlopen() on first
// use, and URL parsing with it. Includes curl's headers, which only lib/ is given: nothing outside
// util includes this.

#include <curl/curl.h>

#include <optional>
#include <string>
#include <string_view>

namespace hb::util {

// libcurl's entry points, resolved at run time. libcurl (with OpenSSL, nghttp2, LDAP, Kerberos,
// SSH, ...) is about 40 shared libraries, and loading them costs a short-lived process ~5 ms:
// most of the startup of hb-beat and hb-status, which never make a request. So the library is
// opened with dlopen() on the first use of anything here, and only then.
//
// Called through these pointers, the variadic setters lose the argument type checks of curl's
// typecheck-gcc.h macros: pass exactly the documented types (long, curl_off_t, char*, ...).
struct Curl {
  decltype(&::curl_global_init) global_init = nullptr;
  decltype(&::curl_share_init) share_init = nullptr;
  decltype(&::curl_share_setopt) share_setopt = nullptr;
  decltype(&::curl_share_cleanup) share_cleanup = nullptr;
  decltype(&::curl_multi_init) multi_init = nullptr;
  decltype(&::curl_multi_cleanup) multi_cleanup = nullptr;
  decltype(&::curl_multi_add_handle) multi_add_handle = nullptr;
  decltype(&::curl_multi_remove_handle) multi_remove_handle = nullptr;
  decltype(&::curl_multi_perform) multi_perform = nullptr;
  decltype(&::curl_multi_poll) multi_poll = nullptr;
  decltype(&::curl_multi_info_read) multi_info_read = nullptr;
  decltype(&::curl_easy_init) easy_init = nullptr;
  decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&::curl_easy_reset) easy_reset = nullptr;
  decltype(&::curl_easy_setopt) easy_setopt = nullptr;
  decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&::curl_easy_strerror) easy_strerror = nullptr;
  decltype(&::curl_url) url = nullptr;
  decltype(&::curl_url_cleanup) url_cleanup = nullptr;
  decltype(&::curl_url_set) url_set = nullptr;
  decltype(&::curl_url_get) url_get = nullptr;
  decltype(&::curl_free) free = nullptr;
  decltype(&::curl_slist_append) slist_append = nullptr;
  decltype(&::curl_slist_free_all) slist_free_all = nullptr;

  // The DNS cache shared by every thread's handle (nullptr if libcurl could not make one, in
  // which case each thread keeps its own). Never cleaned up: it must outlive every thread's
  // handle.
  CURLSH* share = nullptr;
};

struct CurlLoad {
  const Curl* curl = nullptr; // nullptr when the library could not be loaded
  std::string error;          // why not
};

// Loads libcurl once per process (thread-safe); everything that touches libcurl calls it first.
const CurlLoad& curl_load();

// libcurl, once curl_load() succeeded.
const Curl& curl();

// A parsed URL (curl_url). Needs curl_load() to have succeeded.
class UrlHandle {
public:
  UrlHandle()
      : m_url(curl().url())
  {
  }
  ~UrlHandle()
  {
    if (m_url != nullptr) {
      curl().url_cleanup(m_url);
    }
  }
  UrlHandle(const UrlHandle&) = delete;
  UrlHandle& operator=(const UrlHandle&) = delete;

  // Returns false when `url` is not a URL libcurl can parse.
  bool parse(const std::string& url, unsigned int flags)
  {
    return m_url != nullptr &&
           curl().url_set(m_url, CURLUPART_URL, url.c_str(), flags) == CURLUE_OK;
  }

  // Returns the part, or std::nullopt when it is absent.
  std::optional<std::string> get(CURLUPart part, unsigned int flags = 0) const
  {
    char* text = nullptr;
    if (curl().url_get(m_url, part, &text, flags) != CURLUE_OK || text == nullptr) {
      return std::nullopt;
    }
    std::string out(text);
    curl().free(text);
    return out;
  }

  void clear(CURLUPart part) { curl().url_set(m_url, part, nullptr, 0); }

private:
  CURLU* m_url;
};

// Returns true when `text` starts with `prefix`, ignoring ASCII case.
bool starts_with_nocase(std::string_view text, std::string_view prefix);

// Returns true when `url` starts with http:// or https://, ignoring case.
bool has_http_scheme(std::string_view url);

} // namespace hb::util
