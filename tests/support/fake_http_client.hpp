// SPDX-License-Identifier: MIT
#pragma once

#include "util/http.hpp"

#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace hb::test {

// An HttpClient that answers every request with one canned response and keeps the requests it
// was sent: for unit tests of code that makes HTTP requests (the http check, notification
// channels). End-to-end tests use the real client against TestHttpServer instead.
class FakeHttpClient final : public util::HttpClient {
public:
  explicit FakeHttpClient(util::HttpResponse response) : m_response(std::move(response)) {}

  util::HttpResponse perform(const util::HttpRequest& request) override
  {
    std::lock_guard lock(m_mutex);
    m_requests.push_back(request);
    return m_response;
  }

  // Returns the requests received so far, oldest first.
  std::vector<util::HttpRequest> requests() const
  {
    std::lock_guard lock(m_mutex);
    return m_requests;
  }

private:
  mutable std::mutex m_mutex;
  util::HttpResponse m_response;
  std::vector<util::HttpRequest> m_requests;
};

// Returns a response that arrived with `status` and `body` after `elapsed`.
inline util::HttpResponse http_answer(long status, std::string body = "",
                                      Duration elapsed = Duration(12))
{
  util::HttpResponse response;
  response.failure = util::HttpResponse::Failure::none;
  response.status = status;
  response.body = std::move(body);
  response.elapsed = elapsed;
  return response;
}

// Returns a response that never arrived, for `failure`, with `error` as the client's message.
inline util::HttpResponse http_failure(util::HttpResponse::Failure failure, std::string error,
                                       Duration elapsed = Duration(12))
{
  util::HttpResponse response;
  response.failure = failure;
  response.error = std::move(error);
  response.elapsed = elapsed;
  return response;
}

} // namespace hb::test
