// SPDX-License-Identifier: MIT
#include "output/diagnose_output.hpp"

#include "diagnose/diagnose.hpp"
#include "util/duration.hpp"
#include "util/file.hpp"
#include "util/time.hpp"

#include <fmt/format.h>

#include <sstream>

namespace hb::output {
namespace {

using diagnose::Level;

Tone tone_of(Level level)
{
  switch (level) {
  case Level::critical: return Tone::bad;
  case Level::warning: return Tone::warn;
  case Level::info: return Tone::muted;
  }
  return Tone::plain;
}

std::string upper(std::string_view text)
{
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

// Writes `text` word-wrapped to `width` columns, the first line after `first`, the following
// ones after `rest` (an indent). A word longer than a line stays whole: nothing is cut.
void wrap(std::ostream& out, std::string_view text, std::size_t width, std::string_view first,
          std::string_view rest)
{
  std::istringstream words{std::string(text)};
  std::string word;
  std::string line(first);
  std::size_t used = display_width(first);
  bool empty = true;
  while (words >> word) {
    const std::size_t w = display_width(word);
    if (!empty && used + 1 + w > width) {
      out << line << '\n';
      line = std::string(rest);
      used = display_width(rest);
      empty = true;
    }
    if (!empty) {
      line += ' ';
      ++used;
    }
    line += word;
    used += w;
    empty = false;
  }
  out << line << '\n';
}

std::string bytes(long long n) { return util::format_bytes(static_cast<std::uintmax_t>(n)); }

nlohmann::json nullable(const std::string& text)
{
  return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text);
}

nlohmann::json time_or_null(const std::optional<TimePoint>& t)
{
  return t ? nlohmann::json(util::format_rfc3339(*t)) : nlohmann::json(nullptr);
}

} // namespace

void print_diagnosis(const diagnose::Diagnosis& diagnosis, std::ostream& out, const Style& style)
{
  const std::size_t width = style.width() == 0 ? 80 : std::max<std::size_t>(style.width(), 40);
  const int critical = diagnosis.count(Level::critical);
  const int warning = diagnosis.count(Level::warning);
  const int info = diagnosis.count(Level::info);
  const std::string scope =
    diagnosis.target.empty()
      ? fmt::format("{} target{}", diagnosis.targets_examined,
                    diagnosis.targets_examined == 1 ? "" : "s")
      : fmt::format("target {}", diagnosis.target);
  if (diagnosis.findings.empty()) {
    wrap(out,
         fmt::format("No findings at or above {} over the last {} ({}): nothing needs "
                     "attention.",
                     to_string(diagnosis.threshold), util::format_duration(diagnosis.window),
                     scope),
         width, style.paint(symbol(Symbol::ok), Tone::good) + " ", "  ");
  } else {
    std::string counts;
    for (const auto& [n, word] : {std::pair{critical, "critical"}, std::pair{warning, "warning"},
                                  std::pair{info, "info"}}) {
      if (n > 0) {
        counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", n, word);
      }
    }
    wrap(out, fmt::format("{} over the last {} ({}).", counts,
                          util::format_duration(diagnosis.window), scope),
         width, "", "  ");
  }
  for (const diagnose::Finding& f : diagnosis.findings) {
    out << '\n';
    std::string head = style.paint(fmt::format("{:<8}", upper(to_string(f.severity))),
                                   tone_of(f.severity)) +
                       "  " + style.paint(f.id, Tone::bold);
    if (!f.target.empty()) {
      head += "  " + f.target + (f.check.empty() ? "" : " / " + f.check);
    }
    out << head << '\n';
    wrap(out, f.title, width, "  ", "  ");
    for (const std::string& line : f.evidence) {
      wrap(out, line, width, fmt::format("  {} ", symbol(Symbol::pending)), "    ");
    }
    if (!f.recommendation.empty()) {
      wrap(out, f.recommendation, width, fmt::format("  {} ", symbol(Symbol::arrow)), "    ");
    }
  }
  if (diagnosis.database_info) {
    const auto& db = *diagnosis.database_info;
    // A PostgreSQL server's WAL and free space are the server's, not this database's.
    std::string text =
      db.backend == "sqlite"
        ? fmt::format("Database {}: {} ({} free), WAL {}, schema {}", diagnosis.database,
                      bytes(db.size_bytes), bytes(db.free_bytes),
                      db.wal_bytes ? bytes(*db.wal_bytes) : std::string("none"), db.schema_version)
        : fmt::format("Database {} ({}): {}, schema {}", diagnosis.database, db.backend,
                      bytes(db.size_bytes), db.schema_version);
    text += db.last_prune ? fmt::format(", last prune {}", util::format_age(*db.last_prune,
                                                                           diagnosis.now))
                          : std::string(", never pruned");
    if (const auto growth = diagnose::growth_per_day(db)) {
      text += fmt::format(", about {}/day", bytes(*growth));
    }
    if (db.integrity) {
      text += fmt::format("; integrity {} ({}, {})",
                          *db.integrity == "ok" ? "ok" : "FAILED",
                          db.backend == "sqlite" ? "quick_check" : "every row read",
                          util::format_duration(db.integrity_took));
    } else {
      text += "; integrity not checked (a large file: --integrity reads it all)";
    }
    out << '\n';
    wrap(out, text + ".", width, "", "  ");
  } else if (!diagnosis.database_exists) {
    out << '\n';
    wrap(out, fmt::format("Database {} does not exist yet.", diagnosis.database), width, "", "  ");
  }
}

nlohmann::json diagnosis_to_json(const diagnose::Diagnosis& diagnosis)
{
  nlohmann::json findings = nlohmann::json::array();
  for (const diagnose::Finding& f : diagnosis.findings) {
    findings.push_back({{"id", f.id},
                        {"severity", to_string(f.severity)},
                        {"target", nullable(f.target)},
                        {"check", nullable(f.check)},
                        {"title", f.title},
                        {"evidence", f.evidence},
                        {"recommendation", f.recommendation}});
  }
  nlohmann::json database = nullptr;
  if (diagnosis.database_info) {
    const auto& db = *diagnosis.database_info;
    const auto growth = diagnose::growth_per_day(db);
    database = {{"backend", db.backend},
                {"schemaVersion", db.schema_version},
                {"sizeBytes", db.size_bytes},
                {"freeBytes", db.free_bytes},
                {"walBytes", db.wal_bytes ? nlohmann::json(*db.wal_bytes) : nlohmann::json(nullptr)},
                {"lastPrune", time_or_null(db.last_prune)},
                {"oldestExecution", time_or_null(db.oldest_execution)},
                {"rows", db.rows},
                {"rowsLastDay", db.rows_last_day},
                {"growthBytesPerDay", growth ? nlohmann::json(*growth) : nlohmann::json(nullptr)},
                {"integrity", db.integrity ? nlohmann::json(*db.integrity) : nlohmann::json(nullptr)},
                {"integrityMs", db.integrity ? nlohmann::json(db.integrity_took.count())
                                             : nlohmann::json(nullptr)}};
  }
  return {{"schema", 1},
          {"generatedAt", util::format_rfc3339(diagnosis.now)},
          {"window", util::format_duration_spec(diagnosis.window)},
          {"windowMs", diagnosis.window.count()},
          {"target", nullable(diagnosis.target)},
          {"threshold", to_string(diagnosis.threshold)},
          {"config", nullable(diagnosis.config_file)},
          {"database", diagnosis.database},
          {"databaseExists", diagnosis.database_exists},
          {"targetsExamined", diagnosis.targets_examined},
          {"counts",
           {{"critical", diagnosis.count(Level::critical)},
            {"warning", diagnosis.count(Level::warning)},
            {"info", diagnosis.count(Level::info)}}},
          {"exitCode", static_cast<int>(diagnosis.exit_code)},
          {"findings", findings},
          {"databaseInfo", database}};
}

} // namespace hb::output
