// SPDX-License-Identifier: MIT
#pragma once

// libpq as connection.cpp uses it: opened with dlopen() on first use. Includes libpq's header,
// which only lib/ is given: nothing outside store/postgres includes this.

#include <libpq-fe.h>

namespace hb::store::postgres {

// libpq's entry points, resolved at run time. libpq brings ~20 shared libraries (Kerberos, LDAP,
// OpenSSL, ...), and loading them with every tool costs each short-lived process milliseconds and
// a SQLite fleet's hb-beat a third of its rate, for a backend most hosts never use. So libpq is
// opened only when a postgresql:// location is first connected to.
struct Libpq {
  decltype(&::PQconnectdbParams) connectdb_params = nullptr;
  decltype(&::PQstatus) status = nullptr;
  decltype(&::PQerrorMessage) error_message = nullptr;
  decltype(&::PQconnectionNeedsPassword) connection_needs_password = nullptr;
  decltype(&::PQfinish) finish = nullptr;
  decltype(&::PQsetNoticeProcessor) set_notice_processor = nullptr;
  decltype(&::PQexec) exec = nullptr;
  decltype(&::PQprepare) prepare = nullptr;
  decltype(&::PQexecPrepared) exec_prepared = nullptr;
  decltype(&::PQresultStatus) result_status = nullptr;
  decltype(&::PQresultErrorField) result_error_field = nullptr;
  decltype(&::PQclear) clear = nullptr;
  decltype(&::PQntuples) ntuples = nullptr;
  decltype(&::PQcmdTuples) cmd_tuples = nullptr;
  decltype(&::PQgetisnull) get_is_null = nullptr;
  decltype(&::PQgetvalue) get_value = nullptr;
  decltype(&::PQgetlength) get_length = nullptr;
  decltype(&::PQputCopyData) put_copy_data = nullptr;
  decltype(&::PQputCopyEnd) put_copy_end = nullptr;
  decltype(&::PQgetResult) get_result = nullptr;
};

// Loads libpq once per process (thread-safe) and returns it; throws hb::StoreError (exit 74),
// naming the package, when it cannot be loaded.
const Libpq& libpq();

} // namespace hb::store::postgres
