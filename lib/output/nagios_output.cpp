// SPDX-License-Identifier: MIT
#include "output/nagios_output.hpp"

#include "checks/perfdata.hpp"
#include "util/duration.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <vector>

namespace hb::output {
namespace {

// One line of long output is cut here: a hostile message cannot crowd out the others.
constexpr std::size_t k_max_line = 300;

std::string_view state_word(ExitCode code)
{
  switch (code) {
  case ExitCode::ok:
    return "OK";
  case ExitCode::warning:
    return "WARNING";
  case ExitCode::critical:
    return "CRITICAL";
  default:
    return "UNKNOWN";
  }
}

// Text from outside (names, messages) on one line: valid UTF-8, no control characters, and no
// '|', which would start the performance data.
std::string plain(std::string_view text, std::size_t max_bytes)
{
  std::string clean = checks::sanitize_text(text, checks::KeepNewlines::no);
  std::string out;
  out.reserve(clean.size());
  for (const char c : clean) {
    if (c == '|') {
      out += "\xC2\xA6";  // U+00A6 BROKEN BAR
    } else {
      out += c;
    }
  }
  return checks::truncate_utf8(out, max_bytes);
}

std::string pulse_word(pulse::PulseState state)
{
  switch (state) {
  case pulse::PulseState::alive:
    return "pulse alive";
  case pulse::PulseState::warning:
    return "pulse stale";
  case pulse::PulseState::error:
    return "pulse failed";
  case pulse::PulseState::unknown:
    return "pulse unknown";
  }
  return "pulse unknown";
}

std::string summary(const status::StatusReport& report)
{
  const auto& c = report.counts;
  std::vector<std::string> parts;
  if (report.exit_code == ExitCode::unknown && report.pulse.state == pulse::PulseState::unknown) {
    parts.push_back(report.pulse.reason);
  }
  std::vector<std::string> counts;
  for (const auto& [n, word] : {std::pair<int, const char*>{c.failing, "failing"},
                                {c.stale, "stale"},
                                {c.warning, "warning"},
                                {c.unknown, "unknown"},
                                {c.paused, "paused"},
                                {c.healthy, "healthy"}}) {
    if (n > 0) {
      counts.push_back(fmt::format("{} {}", n, word));
    }
  }
  parts.push_back(c.targets == 0 ? std::string("no targets")
                                 : fmt::format("{} target{}: {}", c.targets,
                                               c.targets == 1 ? "" : "s", fmt::join(counts, ", ")));
  parts.push_back(pulse_word(report.pulse.state));
  int tasks_failing = 0;
  for (const auto& task : report.schedules) {
    tasks_failing += task.failing ? 1 : 0;
  }
  if (tasks_failing > 0) {
    parts.push_back(fmt::format("{} task{} failing", tasks_failing, tasks_failing == 1 ? "" : "s"));
  }
  if (report.recovery) {
    if (report.recovery->runs.state == health::RecoverRunsState::stale) {
      parts.push_back("hb-recover stale");
    } else if (report.recovery->runs.state == health::RecoverRunsState::error) {
      parts.push_back("hb-recover failed");
    }
  }
  return plain(fmt::format("{}", fmt::join(parts, "; ")), 1000);
}

// 'label'=value[UOM];[warn];[crit];[min];[max], trailing empty fields dropped.
std::string perf(std::string_view label, const std::string& value, std::string_view warn,
                 std::string_view crit, std::string_view min, std::string_view max)
{
  std::string out = fmt::format("{}={};{};{};{};{}", label, value, warn, crit, min, max);
  while (!out.empty() && out.back() == ';') {
    out.pop_back();
  }
  return out;
}

std::string perfdata(const status::StatusReport& report)
{
  const auto& c = report.counts;
  const std::string total = std::to_string(c.targets);
  std::vector<std::string> items;
  items.push_back(perf("targets", total, "", "", "0", ""));
  items.push_back(perf("healthy", std::to_string(c.healthy), "", "", "0", total));
  // The thresholds say what the state is judged by: any warning target is a warning, any
  // failing or stale one critical.
  items.push_back(perf("warning", std::to_string(c.warning), "0", "", "0", total));
  items.push_back(perf("failing", std::to_string(c.failing), "", "0", "0", total));
  items.push_back(perf("stale", std::to_string(c.stale), "", "0", "0", total));
  items.push_back(perf("unknown", std::to_string(c.unknown), "", "", "0", total));
  items.push_back(perf("paused", std::to_string(c.paused), "", "", "0", total));
  items.push_back(perf("agents_offline", std::to_string(c.agents_offline), "", "0", "0",
                       std::to_string(c.agents)));
  items.push_back(perf("jobs_failing", std::to_string(c.jobs_failing), "", "0", "0",
                       std::to_string(c.jobs)));
  if (report.overall.score) {
    // The band edges (good from 70, poor below 40): for graphs; the score does not change the
    // state.
    items.push_back(perf("score", fmt::format("{:.1f}", report.overall.score->value), "70:", "40:",
                         "0", "100"));
  }
  if (const auto& last = report.pulse.last; last && last->started_at <= report.now) {
    const auto age = std::chrono::round<std::chrono::seconds>(report.now - last->started_at);
    const auto stale_after =
      std::chrono::duration_cast<std::chrono::seconds>(last->interval + last->interval / 2);
    items.push_back(perf("pulse_age", fmt::format("{}s", age.count()), "",
                         std::to_string(stale_after.count()), "0", ""));
  }
  int failed = 0;
  for (const auto& ch : report.channels) {
    failed += ch.failed;
  }
  items.push_back(perf("notifications_failed_24h", std::to_string(failed), "", "", "0", ""));
  if (report.recovery) {
    items.push_back(perf("escalations", std::to_string(report.recovery->open_escalations.size()),
                         "", "", "0", ""));
  }
  return fmt::format("{}", fmt::join(items, " "));
}

struct Problem {
  int level = 0;  // 2 critical, 1 warning
  std::string text;
};

std::string level_word(int level) { return level >= 2 ? "CRITICAL" : "WARNING"; }

std::vector<Problem> problems(const status::StatusReport& report)
{
  std::vector<Problem> out;
  if (report.pulse.state == pulse::PulseState::warning
      || report.pulse.state == pulse::PulseState::error) {
    out.push_back({2, fmt::format("CRITICAL: pulse: {}", report.pulse.reason)});
  }
  for (const auto& row : report.targets) {
    const int level = status::problem_level(row);
    if (level == 0) {
      continue;
    }
    std::string what = row.stale ? "stale" : std::string(to_string(row.health));
    if (row.beat && row.beat->state != "unknown") {
      what = row.beat->state;
    }
    std::string text = fmt::format("{}: {}", level_word(level), row.info.id);
    if (row.info.name != row.info.id) {
      text += fmt::format(" ({})", row.info.name);
    }
    text += fmt::format(" {}", what);
    if (row.since) {
      text += fmt::format(" since {}", util::format_age(*row.since, report.now));
    }
    if (!row.message.empty()) {
      text += fmt::format(": {}", row.message);
    }
    out.push_back({level, std::move(text)});
  }
  for (const auto& task : report.schedules) {
    if (task.failing) {
      out.push_back({2, fmt::format("CRITICAL: task {}: its last run failed", task.info.name)});
    } else if (task.retrying) {
      out.push_back({1, fmt::format("WARNING: task {}: its last run failed, a retry is due",
                                    task.info.name)});
    }
  }
  if (report.recovery && (report.recovery->runs.state == health::RecoverRunsState::stale
                          || report.recovery->runs.state == health::RecoverRunsState::error)) {
    out.push_back({1, fmt::format("WARNING: hb-recover: {}", report.recovery->runs.reason)});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Problem& a, const Problem& b) { return a.level > b.level; });
  return out;
}

} // namespace

std::string status_to_nagios(const status::StatusReport& report)
{
  std::string out = fmt::format("HEARTBEAT {} - {} | {}\n", state_word(report.exit_code),
                                summary(report), perfdata(report));
  std::vector<std::string> lines;
  std::size_t all = out.size();
  for (const auto& problem : problems(report)) {
    lines.push_back(plain(problem.text, k_max_line) + '\n');
    all += lines.back().size();
  }
  if (all <= k_nagios_max_output) {
    for (const auto& line : lines) {
      out += line;
    }
    return out;
  }
  // Room for the last line, "... and 99999 more".
  const std::size_t reserve = 32;
  std::size_t shown = 0;
  while (shown < lines.size()
         && out.size() + lines[shown].size() + reserve <= k_nagios_max_output) {
    out += lines[shown];
    ++shown;
  }
  out += fmt::format("... and {} more\n", lines.size() - shown);
  return out;
}

std::string nagios_unknown(std::string_view reason)
{
  return fmt::format("HEARTBEAT UNKNOWN - {}\n", plain(reason, k_nagios_max_output - 100));
}

} // namespace hb::output
