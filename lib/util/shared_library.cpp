// SPDX-License-Identifier: MIT
#include "util/shared_library.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

namespace hb::util {

SharedLibrary::SharedLibrary(const char* soname, const char* package)
  : m_soname(soname), m_handle(dlopen(soname, RTLD_NOW | RTLD_LOCAL))
{
  if (m_handle == nullptr) {
    const char* why = dlerror();
    m_error = fmt::format("cannot load {} (is the package {} installed?): {}", soname, package,
                          why != nullptr ? why : "?");
  }
}

void* SharedLibrary::find(const char* name)
{
  void* symbol = m_handle != nullptr ? dlsym(m_handle, name) : nullptr;
  if (symbol == nullptr && m_error.empty()) {
    m_error = fmt::format("{} has no {}", m_soname, name);
  }
  return symbol;
}

} // namespace hb::util
