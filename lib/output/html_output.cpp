// SPDX-License-Identifier: MIT
#include "output/html_output.hpp"

#include "output/figures_output.hpp"
#include "output/status_output.hpp"

#include "core/errors.hpp"
#include "delivery/encoding.hpp"
#include "util/duration.hpp"
#include "util/file.hpp"
#include "util/text.hpp"
#include "util/time.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace hb::output {
namespace {

using delivery::html_escape;  // the one escaper, shared with the e-mail channel

constexpr Duration k_hour{3'600'000};

// The page's only styles. Colours follow the terminal's tones; a dark scheme when the browser
// asks for one.
constexpr std::string_view k_css = R"css(
:root{--fg:#1f2328;--bg:#fff;--muted:#656d76;--line:#d0d7de;--card:#f6f8fa;
--good:#1a7f37;--warn:#9a6700;--bad:#cf222e;--none:#d8dee4;--chart:#0969da}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#8d96a0;
--line:#30363d;--card:#161b22;--good:#3fb950;--warn:#d29922;--bad:#f85149;--none:#30363d;
--chart:#58a6ff}}
*{box-sizing:border-box}
body{margin:0;padding:24px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;
color:var(--fg);background:var(--bg)}
h1{font-size:22px;margin:0}h2{font-size:16px;margin:28px 0 8px}
header{display:flex;align-items:center;gap:14px;flex-wrap:wrap}
.reason{color:var(--muted)}
.dot{display:inline-block;width:12px;height:12px;border-radius:50%;background:var(--none);
vertical-align:middle;flex:none}
header .dot{width:22px;height:22px}
.dot.good{background:var(--good)}.dot.warn{background:var(--warn)}.dot.bad{background:var(--bad)}
header .dot.good{animation:beat 1.2s ease-in-out infinite}
@keyframes beat{0%,100%{transform:scale(1)}15%{transform:scale(1.25)}30%{transform:scale(1)}}
@media (prefers-reduced-motion:reduce){header .dot.good{animation:none}}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin-top:18px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 14px;
min-width:110px}
.card .n{font-size:22px;font-weight:600}.card .l{color:var(--muted);font-size:12px}
.good{color:var(--good)}.warn{color:var(--warn)}.bad{color:var(--bad)}.muted{color:var(--muted)}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:middle}
th{font-size:12px;color:var(--muted);font-weight:600;white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.state{white-space:nowrap}
td.msg{max-width:420px;overflow-wrap:anywhere}
.name{color:var(--muted);font-size:12px}
.none{color:var(--muted);margin:4px 0}
svg{display:block}
svg .c-good{fill:var(--good)}svg .c-warn{fill:var(--warn)}svg .c-bad{fill:var(--bad)}
svg .c-none{fill:var(--none)}
svg .trend{fill:none;stroke:var(--chart);stroke-width:1.5}
svg .axis{stroke:var(--line);stroke-width:1}
svg text{fill:var(--muted);font-size:10px}
footer{margin-top:32px;color:var(--muted);font-size:12px}
)css";

std::string tone_class(Tone tone)
{
  switch (tone) {
  case Tone::good:
    return "good";
  case Tone::warn:
    return "warn";
  case Tone::bad:
    return "bad";
  case Tone::muted:
    return "muted";
  case Tone::plain:
  case Tone::bold:
    break;
  }
  return "plain";
}

std::string time_cell(const std::optional<TimePoint>& t, TimePoint now)
{
  if (!t) {
    return "<span class=\"muted\">-</span>";
  }
  return fmt::format("<time datetime=\"{0}\" title=\"{0}\">{1}</time>", util::format_rfc3339(*t),
                     html_escape(util::format_age(*t, now)));
}

std::string card(std::string_view number, std::string_view label, Tone tone = Tone::plain)
{
  return fmt::format("<div class=\"card\"><div class=\"n {}\">{}</div><div class=\"l\">{}</div></div>",
                     tone_class(tone), html_escape(number), html_escape(label));
}

std::string score_html(const std::optional<health::Score>& score)
{
  if (!score) {
    return "<span class=\"muted\">-</span>";
  }
  return fmt::format("<span class=\"{}\">{:.0f}</span> <span class=\"name\">{}</span>",
                     tone_class(tone_of(score->band)), std::floor(score->value),
                     to_string(score->band));
}

TimePoint hour_of(TimePoint t)
{
  const auto ms = t.time_since_epoch().count();
  const auto hour = k_hour.count();
  return TimePoint(Duration((ms >= 0 ? ms : ms - hour + 1) / hour * hour));
}

// "14:00" (UTC) for an hour start.
std::string hour_label(TimePoint hour)
{
  const long long hours = hour.time_since_epoch().count() / k_hour.count();
  return fmt::format("{:02}:00", ((hours % 24) + 24) % 24);
}

// The last 24 hours, one cell each: green when every observation was up, red when all were
// down, amber for a mix, grey without any. The newest hour is still running.
std::string strip_svg(const status::HourlyTallies* hours, TimePoint now)
{
  std::map<TimePoint, health::Tally> by_hour;
  if (hours != nullptr) {
    for (const auto& [at, tally] : *hours) {
      by_hour[at] = tally;
    }
  }
  constexpr int cell = 7;
  std::string out = fmt::format(
    "<svg class=\"strip\" width=\"{0}\" height=\"18\" viewBox=\"0 0 {0} 18\" role=\"img\" "
    "aria-label=\"last 24 hours\">",
    status::k_dashboard_hours * cell);
  const TimePoint last = hour_of(now);
  for (int i = 0; i < status::k_dashboard_hours; ++i) {
    const TimePoint hour = last - k_hour * (status::k_dashboard_hours - 1 - i);
    const auto it = by_hour.find(hour);
    std::string tone = "none";
    std::string title = fmt::format("{}-{} UTC: no observation", hour_label(hour),
                                    hour_label(hour + k_hour));
    if (it != by_hour.end() && it->second.runs > 0) {
      const auto& t = it->second;
      tone = t.down == 0 ? "good" : t.down >= t.runs ? "bad" : "warn";
      title = fmt::format("{}-{} UTC: {} up, {} down", hour_label(hour), hour_label(hour + k_hour),
                          t.runs - t.down, t.down);
    }
    out += fmt::format("<rect class=\"c-{}\" x=\"{}\" y=\"1\" width=\"{}\" height=\"16\" rx=\"1\">"
                       "<title>{}</title></rect>",
                       tone, i * cell, cell - 1, title);
  }
  out += "</svg>";
  return out;
}

std::string ms_text(double ms)
{
  return util::format_duration(Duration(static_cast<long long>(std::llround(ms))));
}

// The mean latency of each of the last 24 hours as a line, broken where hours have no execution
// (nothing is drawn that was not measured), scaled to the slowest hour.
std::string latency_svg(const status::HourlyTallies* hours, TimePoint since, TimePoint now)
{
  std::vector<std::pair<TimePoint, double>> points;
  if (hours != nullptr) {
    for (const auto& [at, tally] : *hours) {
      if (tally.runs > 0 && tally.latency_sum_ms > 0) {
        points.emplace_back(at, static_cast<double>(tally.latency_sum_ms) / static_cast<double>(tally.runs));
      }
    }
  }
  if (points.empty()) {
    return "<span class=\"muted\">-</span>";
  }
  constexpr double width = 168;
  constexpr double height = 34;
  constexpr double top = 11;  // room for the label
  double highest = 0;
  double sum = 0;
  for (const auto& p : points) {
    highest = std::max(highest, p.second);
    sum += p.second;
  }
  const double span = static_cast<double>((hour_of(now) + k_hour - since).count());
  auto x_of = [&](TimePoint t) {
    return std::clamp(static_cast<double>((t - since).count()) / span * width, 0.0, width);
  };
  auto y_of = [&](double ms) { return top + (height - top) * (1.0 - ms / highest); };
  std::string out = fmt::format(
    "<svg class=\"latency\" width=\"{0:.0f}\" height=\"{1:.0f}\" viewBox=\"0 0 {0:.0f} {1:.0f}\" "
    "role=\"img\" aria-label=\"mean latency per hour, last 24 hours\">"
    "<title>mean latency per hour over 24 hours: average {2}, slowest hour {3}</title>"
    "<line class=\"axis\" x1=\"0\" y1=\"{1:.0f}\" x2=\"{0:.0f}\" y2=\"{1:.0f}\"/>"
    "<text x=\"0\" y=\"9\">max {3}</text>",
    width, height, html_escape(ms_text(sum / static_cast<double>(points.size()))),
    html_escape(ms_text(highest)));
  std::string line;
  std::size_t in_line = 0;
  auto flush = [&]() {
    if (in_line == 1) {
      // A lone hour: a dot, since a line needs two.
      const auto space = line.find(',');
      out += fmt::format("<circle class=\"c-none\" style=\"fill:var(--chart)\" cx=\"{}\" cy=\"{}\" r=\"1.5\"/>",
                         line.substr(0, space), line.substr(space + 1));
    } else if (in_line > 1) {
      out += fmt::format("<polyline class=\"trend\" points=\"{}\"/>", line);
    }
    line.clear();
    in_line = 0;
  };
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (i > 0 && points[i].first - points[i - 1].first > k_hour) {
      flush();
    }
    const double x = x_of(points[i].first + k_hour / 2);
    line += fmt::format("{}{:.1f},{:.1f}", in_line == 0 ? "" : " ", x, y_of(points[i].second));
    ++in_line;
  }
  flush();
  out += "</svg>";
  return out;
}

void append_counts(const status::StatusReport& report, std::string& out)
{
  const auto& c = report.counts;
  out += "<section class=\"cards\" aria-label=\"counts\">";
  out += card(std::to_string(c.targets), "targets");
  out += card(std::to_string(c.healthy), "healthy", c.healthy ? Tone::good : Tone::plain);
  out += card(std::to_string(c.warning), "warning", c.warning ? Tone::warn : Tone::plain);
  out += card(std::to_string(c.failing), "failing", c.failing ? Tone::bad : Tone::plain);
  if (c.stale) {
    out += card(std::to_string(c.stale), "stale", Tone::bad);
  }
  if (c.unknown) {
    out += card(std::to_string(c.unknown), "unknown", Tone::muted);
  }
  if (c.paused) {
    out += card(std::to_string(c.paused), "paused", Tone::muted);
  }
  if (c.agents) {
    out += card(fmt::format("{}/{}", c.agents_online, c.agents), "agents online",
                c.agents_offline ? Tone::bad : c.agents_degraded ? Tone::warn : Tone::good);
  }
  if (c.jobs) {
    out += card(fmt::format("{}/{}", c.jobs_ok, c.jobs), "jobs ok",
                c.jobs_failing ? Tone::bad : Tone::good);
  }
  const auto& f = report.overall;
  out += fmt::format("<div class=\"card\"><div class=\"n\">{}</div><div class=\"l\">fleet health score</div></div>",
                     score_html(f.score));
  out += card(uptime_text(f.uptime.day), "uptime 24h");
  out += card(uptime_text(f.uptime.week), "uptime 7d");
  out += card(uptime_text(f.uptime.month), "uptime 30d");
  const auto& i = f.incidents;
  out += card(std::to_string(i.incidents), "incidents 7d", i.open ? Tone::bad : Tone::plain);
  out += card(i.mttd ? human_duration(*i.mttd) : "-", "MTTD 7d");
  out += card(i.mttr ? human_duration(*i.mttr) : "-", "MTTR 7d");
  if (i.recovery_success) {
    out += card(fmt::format("{:.0f}%", *i.recovery_success * 100), "recovery success 7d");
  }
  out += "</section>\n";
}

void append_incidents(const status::Dashboard& d, std::string& out)
{
  out += "<section id=\"incidents\"><h2>Open incidents</h2>";
  if (d.open_incidents.empty()) {
    out += "<p class=\"none\">None.</p></section>\n";
    return;
  }
  out += "<table><thead><tr><th>TARGET</th><th>STATE</th><th>SINCE</th><th>CAUSE</th></tr></thead><tbody>";
  for (const auto& i : d.open_incidents) {
    out += fmt::format("<tr><td>{}</td><td class=\"bad\">{}</td><td>{}</td><td class=\"msg\">{}</td></tr>",
                       html_escape(i.target_id), html_escape(i.state), time_cell(i.since, d.report.now),
                       html_escape(i.cause));
  }
  out += "</tbody></table></section>\n";
}

void append_recovery(const status::StatusReport& report, std::string& out)
{
  if (!report.recovery) {
    return;
  }
  const auto& r = *report.recovery;
  const Tone tone = r.runs.state == health::RecoverRunsState::alive     ? Tone::good
                    : r.runs.state == health::RecoverRunsState::unknown ? Tone::muted
                                                                        : Tone::warn;
  out += fmt::format("<section id=\"recovery\"><h2>Recovery and escalations</h2>"
                     "<p>hb-recover: <span class=\"{}\">{}</span> {}; {} pending, {} suspended; "
                     "24h: {} recovered, {} failed</p>",
                     tone_class(tone), health::to_string(r.runs.state), html_escape(r.runs.reason),
                     r.pending, r.suspended, r.last_24h.succeeded, r.last_24h.failed);
  if (r.open_escalations.empty()) {
    out += "<p class=\"none\">No open escalation.</p></section>\n";
    return;
  }
  out += "<table><thead><tr><th>ESCALATION</th><th>TARGETS</th><th>OPENED</th><th>FAILED ATTEMPTS</th>"
         "<th>CAUSE</th></tr></thead><tbody>";
  for (const auto& e : r.open_escalations) {
    out += fmt::format("<tr><td class=\"bad\">#{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>"
                       "<td class=\"msg\">{}</td></tr>",
                       e.id, html_escape(fmt::format("{}", fmt::join(e.targets, ", "))),
                       time_cell(e.opened_at, report.now), e.failed_attempts,
                       html_escape(e.target_id.empty() ? "shared cause: " + e.cause : e.cause));
  }
  out += "</tbody></table></section>\n";
}

void append_targets(const status::Dashboard& d, std::string& out)
{
  const auto& report = d.report;
  out += "<section id=\"targets\"><h2>Targets</h2>";
  if (report.targets.empty()) {
    out += "<p class=\"none\">No targets yet: hb-pulse records the configured targets when it runs.</p></section>\n";
    return;
  }
  out += "<table><thead><tr><th>STATE</th><th>TARGET</th><th>SCORE</th><th>UP 24H</th>"
         "<th>UP 30D</th><th>LAST 24 HOURS</th><th>LATENCY 24H</th><th>LAST RUN</th>"
         "<th>MESSAGE</th></tr></thead><tbody>\n";
  for (const auto& row : report.targets) {
    const auto it = d.hours.find(row.info.id);
    const status::HourlyTallies* hours = it == d.hours.end() ? nullptr : &it->second;
    const std::string tone = tone_class(state_tone(row));
    std::string name = html_escape(row.info.id);
    if (!row.info.name.empty() && row.info.name != row.info.id) {
      name += "<div class=\"name\">" + html_escape(row.info.name) + "</div>";
    }
    out += fmt::format(
      "<tr data-target=\"{}\" data-state=\"{}\"><td class=\"state {}\"><span class=\"dot {}\"></span> {}</td>"
      "<td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
      "<td>{}</td><td>{}</td><td>{}</td><td class=\"msg\">{}</td></tr>\n",
      html_escape(row.info.id), html_escape(state_word(row)), tone, tone,
      html_escape(state_word(row)), name, score_html(row.figures.score),
      uptime_text(row.figures.uptime.day), uptime_text(row.figures.uptime.month),
      strip_svg(hours, report.now), latency_svg(hours, d.hours_since, report.now),
      html_escape(last_cell(row, report.now)), html_escape(row_message(row)));
  }
  out += "</tbody></table></section>\n";
}

void append_schedules(const status::StatusReport& report, std::string& out)
{
  if (report.schedules.empty()) {
    return;
  }
  out += "<section id=\"schedules\"><h2>Scheduled tasks</h2><table><thead><tr><th>TASK</th>"
         "<th>CRON</th><th>LAST RUN</th><th>RESULT</th><th>NEXT RUN</th></tr></thead><tbody>";
  for (const auto& row : report.schedules) {
    const auto& s = row.state;
    std::string result = "<span class=\"muted\">-</span>";
    if (s && s->last_status) {
      const char* tone = s->last_status == TaskRunStatus::succeeded ? "good"
                         : s->last_status == TaskRunStatus::skipped ? "warn"
                                                                    : "bad";
      result = fmt::format("<span class=\"{}\">{}</span>", tone, to_string(*s->last_status));
    }
    std::string next = row.info.enabled ? time_cell(row.next_run, report.now)
                                        : std::string("<span class=\"muted\">disabled</span>");
    if (row.overdue_since) {
      next = fmt::format("<span class=\"warn\">overdue since {}</span>",
                         util::format_rfc3339(*row.overdue_since));
    }
    out += fmt::format("<tr><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                       html_escape(row.info.name), html_escape(row.info.cron),
                       html_escape(row.info.timezone),
                       time_cell(s ? s->last_run_at : std::nullopt, report.now), result, next);
  }
  out += "</tbody></table></section>\n";
}

void append_notifications(const status::Dashboard& d, std::string& out)
{
  const auto& report = d.report;
  out += "<section id=\"notifications\"><h2>Notifications</h2>";
  if (d.notifications.empty() && report.channels.empty()) {
    out += "<p class=\"none\">None sent yet.</p></section>\n";
    return;
  }
  if (!report.channels.empty()) {
    out += "<table><thead><tr><th>CHANNEL</th><th>PENDING</th><th>HELD</th><th>SENT 24H</th>"
           "<th>FAILED 24H</th><th>LAST ERROR</th></tr></thead><tbody>";
    for (const auto& c : report.channels) {
      out += fmt::format("<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
                         "<td class=\"num\">{}</td><td class=\"num {}\">{}</td><td class=\"msg\">{}</td></tr>",
                         html_escape(c.channel), c.pending, c.held, c.sent,
                         c.failed ? "bad" : "", c.failed, html_escape(c.last_error));
    }
    out += "</tbody></table>";
  }
  if (!d.notifications.empty()) {
    out += "<h2>Last notifications</h2><table><thead><tr><th>CREATED</th><th>CHANNEL</th>"
           "<th>TARGET</th><th>EVENT</th><th>STATE</th><th>MESSAGE</th></tr></thead><tbody>";
    for (const auto& item : d.notifications) {
      const auto& n = item.notification;
      const char* tone = n.state == OutboxState::sent     ? "good"
                         : n.state == OutboxState::failed ? "bad"
                                                          : "muted";
      std::string state(to_string(n.state));
      if (!n.last_error.empty() && n.state != OutboxState::sent) {
        state += ": " + n.last_error;
      }
      out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td>"
                         "<td class=\"msg\">{}</td></tr>",
                         time_cell(n.created_at, report.now), html_escape(n.channel),
                         html_escape(item.event.target_id.empty() ? "(system)" : item.event.target_id),
                         html_escape(to_string(item.event.type)), tone, html_escape(state),
                         html_escape(item.event.message));
    }
    out += "</tbody></table>";
  }
  out += "</section>\n";
}

} // namespace

std::string status_to_html(const status::Dashboard& d)
{
  const auto& report = d.report;
  const auto& p = report.pulse;
  std::string out;
  out.reserve(4096 + report.targets.size() * 6000);
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
         // Nothing may be fetched: the page is whole as written.
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
         "style-src 'unsafe-inline'; img-src data:\">"
         "<meta http-equiv=\"refresh\" content=\"60\">";
  out += fmt::format("<title>heartbeat: {}</title><style>{}</style></head>\n<body>\n",
                     to_string(p.state), k_css);
  const std::string tone = tone_class(pulse_tone(p.state));
  out += fmt::format(
    "<header><span id=\"pulse\" class=\"dot {}\" data-state=\"{}\" role=\"img\" aria-label=\"pulse {}\"></span>"
    "<h1>heartbeat <span class=\"{}\">{}</span></h1><span class=\"reason\">{}{}</span></header>\n",
    tone, to_string(p.state), to_string(p.state), tone, to_string(p.state), html_escape(p.reason),
    p.running ? " (a pulse is running now)" : "");
  if (const auto& skew = report.clock_skew) {
    out += fmt::format("<p class=\"warn\">Clock skew: {} ahead of this clock by up to {}.</p>\n",
                       html_escape(fmt::format("{}", fmt::join(skew->found, ", "))),
                       html_escape(util::format_duration(skew->ahead)));
  }
  append_counts(report, out);
  append_incidents(d, out);
  append_recovery(report, out);
  append_targets(d, out);
  append_schedules(report, out);
  append_notifications(d, out);
  out += fmt::format("<footer>Written by hb-status --html (heartbeat {}) at <time datetime=\"{}\">{}</time> "
                     "from {}. Definitions of the figures: docs/health.md.</footer>\n</body></html>\n",
                     HB_VERSION, util::format_rfc3339(report.now), util::format_rfc3339(report.now),
                     html_escape(report.database));
  return out;
}

void write_page_file(const std::filesystem::path& path, std::string_view page)
{
  // A web server runs as its own user: the page must be readable by others.
  const std::string error = util::write_file_atomically(path, page, 0644);
  if (!error.empty()) {
    throw IoError(fmt::format("cannot write page {}: {}", path.string(), error));
  }
}

} // namespace hb::output
