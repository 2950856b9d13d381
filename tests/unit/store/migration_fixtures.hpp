// SPDX-License-Identifier: MIT
#pragma once

// Rows that both backends' migration tests load into a database of the schema before the one
// that allows a single open escalation per target and per shared cause.

namespace hb::test {

// Escalations as overlapping runs could leave them before one open per target and cause was
// enforced: a shared cause and a target each opened twice, with their `escalated` events.
constexpr const char* k_duplicate_escalations = R"sql(
INSERT INTO escalations (id, target_id, cause, targets, opened_at, resolved_at)
VALUES (1, '', 'connect 127.0.0.1:9', '["a","b","c"]', 1000, NULL),
       (2, '', 'connect 127.0.0.1:9', '["a","b","c"]', 1000, NULL),
       (3, '', 'dns example.invalid', '["d","e","f"]', 1000, NULL),
       (4, 'api', '', '["api"]', 2000, NULL),
       (5, 'api', '', '["api"]', 3000, NULL),
       (6, 'api', '', '["api"]', 500, 600);
INSERT INTO recovery_state (target_id, failed_attempts, escalation_id) VALUES ('api', 3, 5);
INSERT INTO events (id, target_id, at, type, old_state, new_state, message)
VALUES (10, '', 1000, 'escalated', 'failing', 'escalated', 'one'),
       (11, '', 1000, 'escalated', 'failing', 'escalated', 'one again'),
       (12, '', 1000, 'escalated', 'failing', 'escalated', 'two'),
       (13, 'api', 2000, 'escalated', 'recovering', 'escalated', 'api'),
       (14, 'api', 3000, 'escalated', 'recovering', 'escalated', 'api again');
)sql";

} // namespace hb::test
