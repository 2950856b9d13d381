// SPDX-License-Identifier: MIT
#pragma once

// How the email channel writes a mail; sending it is make_email_sender's (senders.hpp).

#include "delivery/channel.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace hb::delivery {

// Returns the bare address of a From or To value: "Ops <ops@example.org>" -> "ops@example.org".
std::string mail_address(std::string_view value);

// Returns the mail for `messages` (one, or a group) as RFC 5322 text with CRLF line ends:
// Date (`now`), From, To, Subject ("[heartbeat] ALERT payments is failing"), Message-ID,
// MIME-Version, and a multipart/alternative body with a text/plain and a text/html part, both
// quoted-printable UTF-8. Header values are stripped of line breaks; HTML is escaped.
std::string compose_email(const config::Channel& channel, const std::vector<Message>& messages,
                          TimePoint now);

} // namespace hb::delivery
