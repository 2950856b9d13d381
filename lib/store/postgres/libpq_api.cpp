// SPDX-License-Identifier: MIT
#include "store/postgres/libpq_api.hpp"

#include "core/errors.hpp"
#include "util/shared_library.hpp"


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

Load load()
{
  Load result;
  // Never closed: connections may be finished during static destruction.
  util::SharedLibrary library(k_libpq, "libpq5");
  if (!library.loaded()) {
    result.error = library.error();
    return result;
  }
  auto api = std::make_unique<Libpq>();
  const bool ok = library.resolve("PQconnectdbParams", api->connectdb_params) &&
                  library.resolve("PQstatus", api->status) &&
                  library.resolve("PQerrorMessage", api->error_message) &&
                  library.resolve("PQconnectionNeedsPassword", api->connection_needs_password) &&
                  library.resolve("PQfinish", api->finish) &&
                  library.resolve("PQsetNoticeProcessor", api->set_notice_processor) &&
                  library.resolve("PQexec", api->exec) &&
                  library.resolve("PQprepare", api->prepare) &&
                  library.resolve("PQexecPrepared", api->exec_prepared) &&
                  library.resolve("PQresultStatus", api->result_status) &&
                  library.resolve("PQresultErrorField", api->result_error_field) &&
                  library.resolve("PQclear", api->clear) &&
                  library.resolve("PQntuples", api->ntuples) &&
                  library.resolve("PQcmdTuples", api->cmd_tuples) &&
                  library.resolve("PQgetisnull", api->get_is_null) &&
                  library.resolve("PQgetvalue", api->get_value) &&
                  library.resolve("PQgetlength", api->get_length) &&
                  library.resolve("PQputCopyData", api->put_copy_data) &&
                  library.resolve("PQputCopyEnd", api->put_copy_end) &&
                  library.resolve("PQgetResult", api->get_result);
  if (ok) {
    result.api = api.release(); // leaked on purpose, like the library
  } else {
    result.error = library.error();
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
