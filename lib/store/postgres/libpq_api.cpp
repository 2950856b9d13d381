// SPDX-License-Identifier: MIT
#include "store/postgres/libpq_api.hpp"

#include "core/errors.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

#include <memory>
#include <string>

namespace hb::store::postgres {
namespace {

// libpq5's ABI, the soname the build would otherwise link against.
constexpr const char* k_libpq = "libpq.so.5";

struct Load {
  const Libpq* api = nullptr; // nullptr when the library could not be loaded
  std::string error;          // why not
};

template <typename Function>
bool resolve(void* library, const char* name, Function& out, std::string& error)
{
  void* symbol = dlsym(library, name);
  if (symbol == nullptr) {
    error = fmt::format("{} has no {}", k_libpq, name);
    return false;
  }
  out = reinterpret_cast<Function>(symbol);
  return true;
}

Load load()
{
  Load result;
  // Never closed: connections may be finished during static destruction.
  void* library = dlopen(k_libpq, RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    const char* why = dlerror();
    result.error = fmt::format("cannot load {} (is the package libpq5 installed?): {}", k_libpq,
                               why != nullptr ? why : "?");
    return result;
  }
  auto api = std::make_unique<Libpq>();
  std::string& e = result.error;
  const bool ok = resolve(library, "PQconnectdbParams", api->connectdb_params, e) &&
                  resolve(library, "PQstatus", api->status, e) &&
                  resolve(library, "PQerrorMessage", api->error_message, e) &&
                  resolve(library, "PQconnectionNeedsPassword", api->connection_needs_password, e) &&
                  resolve(library, "PQfinish", api->finish, e) &&
                  resolve(library, "PQsetNoticeProcessor", api->set_notice_processor, e) &&
                  resolve(library, "PQexec", api->exec, e) &&
                  resolve(library, "PQprepare", api->prepare, e) &&
                  resolve(library, "PQexecPrepared", api->exec_prepared, e) &&
                  resolve(library, "PQresultStatus", api->result_status, e) &&
                  resolve(library, "PQresultErrorField", api->result_error_field, e) &&
                  resolve(library, "PQclear", api->clear, e) &&
                  resolve(library, "PQntuples", api->ntuples, e) &&
                  resolve(library, "PQcmdTuples", api->cmd_tuples, e) &&
                  resolve(library, "PQgetisnull", api->get_is_null, e) &&
                  resolve(library, "PQgetvalue", api->get_value, e) &&
                  resolve(library, "PQgetlength", api->get_length, e) &&
                  resolve(library, "PQputCopyData", api->put_copy_data, e) &&
                  resolve(library, "PQputCopyEnd", api->put_copy_end, e) &&
                  resolve(library, "PQgetResult", api->get_result, e);
  if (ok) {
    result.api = api.release(); // leaked on purpose, like the library
  }
  return result;
}

} // namespace

const Libpq& libpq()
{
  static const Load* loaded = new Load(load()); // leaked on purpose: see load()
  if (loaded->api == nullptr) {
    throw StoreError(loaded->error);
  }
  return *loaded->api;
}

} // namespace hb::store::postgres
