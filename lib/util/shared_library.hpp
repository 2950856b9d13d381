// SPDX-License-Identifier: MIT
#pragma once

// Opening a shared library at run time (dlopen), for the libraries a short-lived tool should load
// only when it uses them: libcurl (util/curl_api) and libpq (store/postgres/libpq_api).

#include <string>

namespace hb::util {

// A library opened with dlopen and never closed: what it hands out may be used until the very
// end of the process, after static destructors.
class SharedLibrary {
public:
  // Opens `soname` ("libcurl.so.4"); on failure error() says why, naming `package` (the Debian
  // package that provides it).
  SharedLibrary(const char* soname, const char* package);

  bool loaded() const { return m_handle != nullptr; }
  const std::string& error() const { return m_error; }

  // Sets `out` to the function `name`; returns false, error() saying which, when there is none.
  template <typename Function>
  bool resolve(const char* name, Function& out)
  {
    void* symbol = find(name);
    if (symbol == nullptr) {
      return false;
    }
    out = reinterpret_cast<Function>(symbol);
    return true;
  }

private:
  void* find(const char* name);

  const char* m_soname;
  void* m_handle = nullptr;
  std::string m_error;
};

} // namespace hb::util
