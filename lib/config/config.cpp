// SPDX-License-Identifier: MIT
// Loading the config: reading files and includes, running discovery, then resolving every target
// against the defaults and the check sets. Files are all read before anything is resolved, so a
// check set defined in any file is visible to targets in every file.
#include "config/config.hpp"
#include "config/readers.hpp"
#include "config/heartbeat.hpp"
#include "config/notify.hpp"
#include "config/recovery.hpp"
#include "config/retention.hpp"
#include "config/schedules.hpp"

#include "core/config_node.hpp"
#include "core/errors.hpp"
#include "util/duration.hpp"
#include "util/file.hpp"
#include "util/process.hpp"
#include "util/redact.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <map>
#include <set>
#include <utility>
#include <type_traits>
#include <variant>

namespace hb::config {

Duration positive_duration(const ConfigNode& parent, std::string_view key, Duration fallback,
                           std::string_view example)
{
  auto node = parent[key];
  if (node.is_null()) {
    return fallback;
  }
  const Duration d = node.as_duration();
  if (d <= Duration(0)) {
    node.fail(fmt::format("a positive duration like \"{}\"", example));
  }
  return d;
}

std::string parse_timezone(const ConfigNode& node)
{
  if (!node.is_string()) {
    node.fail(R"(an IANA timezone like "America/New_York")");
  }
  std::string name = node.as_string();
  if (!is_valid_timezone(name)) {
    node.fail(R"(an IANA timezone like "America/New_York")");
  }
  return name;
}

ActiveHours parse_daily_window(const ConfigNode& node, std::string_view expected)
{
  if (!node.is_object()) {
    node.fail(expected);
  }
  node.reject_unknown_keys({"start", "end"});
  auto read_time = [&](std::string_view key, std::string_view example) {
    auto value = node[key];
    if (value.is_null()) {
      node.fail_message(fmt::format("missing \"{}\"", key));
    }
    std::optional<int> minute;
    if (value.is_string()) {
      minute = parse_clock_time(value.raw().get<std::string>());
    }
    if (!minute) {
      value.fail(fmt::format("a time like \"{}\"", example));
    }
    return *minute;
  };
  const int start = read_time("start", "09:00");
  if (start == 24 * 60) {
    node["start"].fail(R"(a start time from "00:00" to "23:59")");
  }
  return ActiveHours{start, read_time("end", "21:00")};
}

std::optional<ActiveHours> parse_active_hours(const ConfigNode& node)
{
  if (node.is_string() && node.raw().get<std::string>() == "always") {
    return std::nullopt;
  }
  return parse_daily_window(node, R"({"start": "09:00", "end": "21:00"} or "always")");
}

namespace {

namespace fs = std::filesystem;
// Whatever JSON type ConfigNode views, so documents and nodes always agree.
using Json = std::remove_cvref_t<decltype(std::declval<const ConfigNode&>().raw())>;

constexpr std::string_view k_main_keys[] = {
  "$schema", "database", "pulse", "defaults", "check_sets", "targets", "include", "discovery",
  "schedules", "channels", "notify", "maintenance", "recovery", "retention",
};
constexpr std::string_view k_included_keys[] = {"$schema", "targets", "check_sets", "include",
                                                "schedules"};
constexpr std::string_view k_target_keys[] = {
  "id",       "name",        "kind",         "tags",   "paused", "interval", "active_hours",
  "timezone", "stale_after", "new_target_grace", "checks", "use",  "vars", "heartbeat", "recovery",
  "quiet_hours", "repeat_every", "depends_on", "impact",
};
constexpr std::string_view k_builtin_vars[] = {"id", "name"};

// Config files and includes are a few KiB, a large fleet's a few hundred; the cap only keeps a
// mistaken path (/dev/zero, a log file) from taking all memory.
constexpr std::size_t k_config_file_limit = 4 * 1024 * 1024;

constexpr Duration k_default_discovery_timeout{30'000};
// Discovery may list thousands of tenants; the cap only guards against a runaway program.
constexpr std::size_t k_discovery_output_cap = 16 * 1024 * 1024;
// Standard error is the command's to log to as much as it likes (it is read to the end, never
// an error); only its start is kept, for the first line that names a failure.
constexpr std::size_t k_discovery_stderr_kept = 64 * 1024;

// One JSON text: a config file or a discovery command's output. ConfigNodes point into `json`,
// so documents live in a deque (stable addresses) for the whole load.
struct Document {
  std::string name;  // as shown in messages
  fs::path dir;      // relative paths in it resolve against this
  Json json;
};

struct DiscoveryCommand {
  std::string name;  // discovery[0] ("/usr/local/bin/list-tenants")
  // Resolved only when the command runs, so that a tool that does not run discovery does not
  // need the secrets its arguments may refer to.
  std::vector<ConfigNode> arguments;
  Duration timeout{k_default_discovery_timeout};
};

// A file on the include chain, for cycle detection and the message that reports one.
struct Visit {
  fs::path canonical;
  std::string name;
};

bool is_blank(const std::string& text)
{
  return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

// Where a parse error happened, 1-based, from the count of bytes nlohmann had read (the last one
// being the byte that broke the parse).
std::pair<std::size_t, std::size_t> line_and_column(const std::string& text, std::size_t byte)
{
  const std::size_t offset = std::min(byte > 0 ? byte - 1 : 0, text.size());
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return {line, offset - line_start + 1};
}

// nlohmann's message without its exception id, position and "last read" echo (which repeats the
// text already located by line:column and can be long):
// "[json.exception.parse_error.101] parse error at line 3, column 1: syntax error while parsing
// object key - unexpected '}'; expected string literal" -> "unexpected '}'; expected string
// literal".
std::string reduce_parse_message(const std::string& what)
{
  std::string message = what;
  if (auto dash = message.find(" - "); dash != std::string::npos) {
    message = message.substr(dash + 3);
  } else if (auto colon = message.find(": "); colon != std::string::npos) {
    message = message.substr(colon + 2);
  }
  if (auto last_read = message.find("; last read: '"); last_read != std::string::npos) {
    const auto expected = message.rfind("'; expected ");
    const std::string tail =
      expected != std::string::npos && expected > last_read ? message.substr(expected + 1) : "";
    message = message.substr(0, last_read) + tail;
  }
  return message;
}

struct JsonError {
  std::size_t line = 0;
  std::size_t column = 0;
  std::string message;
};

// Parses JSON with comments; returns the error's position and message instead of throwing.
std::variant<Json, JsonError> parse_json(const std::string& text)
{
  try {
    return Json::parse(text, nullptr, /*allow_exceptions=*/true,
                                 /*ignore_comments=*/true);
  } catch (const Json::parse_error& e) {
    auto [line, column] = line_and_column(text, e.byte);
    return JsonError{line, column, reduce_parse_message(e.what())};
  } catch (const Json::exception& e) {
    return JsonError{1, 1, reduce_parse_message(e.what())};
  }
}

// Parses a whole config file's text; throws ConfigError "<name>:<line>:<column>: invalid JSON:
// <message>", or a clear message for an empty file.
Json parse_config_text(const std::string& text, const std::string& name)
{
  if (is_blank(text)) {
    throw ConfigError(fmt::format("{}: the file is empty (expected a JSON object)", name));
  }
  auto parsed = parse_json(text);
  if (auto* error = std::get_if<JsonError>(&parsed)) {
    throw ConfigError(
      fmt::format("{}:{}:{}: invalid JSON: {}", name, error->line, error->column, error->message));
  }
  return std::move(std::get<Json>(parsed));
}

std::string location(const ConfigNode& node)
{
  return node.path().empty() ? node.file() : fmt::format("{}: {}", node.file(), node.path());
}

bool has_glob_characters(std::string_view pattern)
{
  return pattern.find_first_of("*?[") != std::string_view::npos;
}

// Escapes glob(3) metacharacters so a directory name is matched literally.
std::string escape_glob(const std::string& text)
{
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

std::string first_line(const std::string& text)
{
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      end = text.size();
    }
    std::string line = text.substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.pop_back();
    }
    if (!line.empty()) {
      return line.size() > 200 ? line.substr(0, 197) + "..." : line;
    }
    start = end + 1;
  }
  return {};
}

// The `database` setting, resolved against `dir`; "" when absent.
std::string parse_database(const ConfigNode& node, const fs::path& dir)
{
  if (node.is_null()) {
    return {};
  }
  if (!node.is_string() && !node.is_object()) {
    node.fail("a file path like \"/var/lib/heartbeat/heartbeat.db\"");
  }
  const std::string value = node.as_string();
  if (value.empty()) {
    node.fail("a file path like \"/var/lib/heartbeat/heartbeat.db\"");
  }
  // A location with a scheme ("sqlite:///...", "postgresql://...") is not a path: the store
  // reads it (and refuses the schemes it does not serve), so it is passed on unresolved.
  if (value.find("://") != std::string::npos) {
    return value;
  }
  const fs::path path(value);
  return path.is_absolute() ? value : (dir / path).lexically_normal().string();
}

PulseSettings parse_pulse(const ConfigNode& node)
{
  PulseSettings pulse;
  if (node.is_null()) {
    return pulse;
  }
  node.reject_unknown_keys(
    {"interval", "deadline", "concurrency", "task_concurrency", "ping_url", "ping_start"});
  pulse.interval = positive_duration(node, "interval", pulse.interval, "5m");
  pulse.deadline = positive_duration(node, "deadline", pulse.deadline, "120s");
  pulse.concurrency = static_cast<int>(node.get_int("concurrency", pulse.concurrency, 1, 1024));
  pulse.task_concurrency =
    static_cast<int>(node.get_int("task_concurrency", pulse.task_concurrency, 1, 64));
  parse_ping(node, pulse);
  return pulse;
}

TargetDefaults parse_defaults(const ConfigNode& node)
{
  TargetDefaults defaults;
  if (node.is_null()) {
    return defaults;
  }
  std::vector<std::string_view> keys = {"interval", "active_hours", "timezone", "stale_after",
                                        "new_target_grace"};
  keys.insert(keys.end(), std::begin(k_notify_target_keys), std::end(k_notify_target_keys));
  node.reject_unknown_keys(keys);
  defaults.interval = positive_duration(node, "interval", defaults.interval, "30m");
  if (auto hours = node["active_hours"]; !hours.is_null()) {
    defaults.active_hours = parse_active_hours(hours);
  }
  if (auto zone = node["timezone"]; !zone.is_null()) {
    defaults.timezone = parse_timezone(zone);
  }
  defaults.stale_after = positive_duration(node, "stale_after", defaults.stale_after, "24h");
  defaults.new_target_grace = node.get_duration("new_target_grace", defaults.new_target_grace);
  return defaults;
}

std::vector<DiscoveryCommand> parse_discovery(const ConfigNode& node)
{
  std::vector<DiscoveryCommand> commands;
  if (node.is_null()) {
    return commands;
  }
  if (!node.is_array()) {
    node.fail(
      R"(an array of discovery commands like [{"command": ["/usr/local/bin/list-tenants"]}])");
  }
  const auto entries = node.elements();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const ConfigNode& entry = entries[i];
    entry.reject_unknown_keys({"command", "timeout"});
    auto command = entry["command"];
    if (command.is_null()) {
      entry.fail_message("missing \"command\"");
    }
    if (!command.is_array() || command.raw().empty()) {
      command.fail(R"(a non-empty array of strings like ["/usr/local/bin/list-tenants"])");
    }
    DiscoveryCommand discovery;
    discovery.arguments = command.elements();
    for (const auto& argument : discovery.arguments) {
      if (!argument.is_string() && !argument.is_object()) {
        argument.fail("a string");
      }
    }
    // Named by argv[0] as written, never as resolved, so a secret cannot reach a message.
    const ConfigNode& program = discovery.arguments.front();
    discovery.name = fmt::format("discovery[{}] (\"{}\")", i,
                                 program.is_string() ? program.raw().get<std::string>()
                                                     : program.shown_value());
    discovery.timeout = positive_duration(entry, "timeout", k_default_discovery_timeout, "30s");
    commands.push_back(std::move(discovery));
  }
  return commands;
}

class Loader {
public:
  explicit Loader(const LoadOptions& options)
    : m_registry(options.registry != nullptr ? *options.registry : checks::Registry::builtin()),
      m_discovery(options.discovery)
  {
  }

  // `canonical` is empty for config text that is not on disk. Every error leaves through here,
  // and so does the config: both with the secrets resolved so far hidden (a discovery command's
  // stderr, a spawn error naming a secret argv[0], a discovered target quoting a value).
  Config load(const std::string& text, const std::string& name, const fs::path& dir,
              const fs::path& canonical)
  {
    try {
      Config config = load_unredacted(text, name, dir, canonical);
      config.redactor = util::Redactor(m_secrets);
      return config;
    } catch (const ConfigError& e) {
      throw ConfigError(util::Redactor(m_secrets).redact(e.what()));
    } catch (const TemporaryError& e) {
      throw TemporaryError(util::Redactor(m_secrets).redact(e.what()));
    }
  }

private:
  Config load_unredacted(const std::string& text, const std::string& name, const fs::path& dir,
                         const fs::path& canonical)
  {
    m_main_dir = dir;
    const Document& main = add_document(name, dir, parse_config_text(text, name));
    const ConfigNode root(main.json, main.name, "", &m_secrets);
    if (!root.is_object()) {
      root.fail("a JSON object at the top level");
    }
    root.reject_unknown_keys(std::vector<std::string_view>(std::begin(k_main_keys),
                                                           std::end(k_main_keys)));

    Config config;
    config.database = parse_database(root["database"], dir);
    config.pulse = parse_pulse(root["pulse"]);
    m_defaults = parse_defaults(root["defaults"]);
    config.defaults = m_defaults;
    m_notify_defaults = parse_notify_defaults(root["defaults"], m_defaults.timezone);
    config.notify.defaults = m_notify_defaults.settings;
    parse_notifications(root, channel_names_in_order(text), config);
    config.recovery = parse_recovery(root["recovery"], config);
    config.retention = parse_retention(root["retention"]);
    config.notify.escalation_channels = config.recovery.escalation_channels;
    const auto discovery = parse_discovery(root["discovery"]);

    std::vector<Visit> chain;
    if (!canonical.empty()) {
      m_loaded.insert(canonical);
      chain.push_back({canonical, name});
    }
    collect(main, chain);
    validate_check_sets();

    for (const auto& node : m_target_nodes) {
      config.targets.push_back(parse_target(node));
    }
    // Static targets are resolved first so that a config error is reported without waiting for
    // (or being masked by) a slow or failing discovery command.
    if (m_discovery != RunDiscovery::no) {
      for (const auto& command : discovery) {
        std::vector<ConfigNode> nodes;
        try {
          nodes = run_discovery(command);
        } catch (const TemporaryError& e) {
          if (m_discovery != RunDiscovery::keep_going) {
            throw;
          }
          config.discovery_failures.push_back(util::Redactor(m_secrets).redact(e.what()));
          continue;
        }
        for (const auto& node : nodes) {
          config.targets.push_back(parse_target(node));
        }
      }
    }
    // Without (successful) discovery, a schedule or a dependency may name a target discovery
    // would have found.
    const bool all_targets_known =
      (m_discovery != RunDiscovery::no && config.discovery_failures.empty()) || discovery.empty();
    parse_schedules(config, all_targets_known);
    check_dependencies(config, m_dependencies, all_targets_known);
    config.notify.targets = std::move(m_notify_targets);
    return config;
  }

  // Schedules come after all targets, discovered ones included, so `target` can refer to any.
  void parse_schedules(Config& config, bool all_targets_known) const
  {
    std::map<std::string, std::string> seen;
    for (const auto& node : m_schedule_nodes) {
      Schedule schedule = parse_schedule(node, m_defaults);
      if (auto it = seen.find(schedule.name); it != seen.end()) {
        node["name"].fail_message(fmt::format("duplicate schedule name \"{}\" (first defined at {})",
                                              schedule.name, it->second));
      }
      if (all_targets_known && !schedule.target.empty()
          && config.find_target(schedule.target) == nullptr) {
        node["target"].fail_message(
          fmt::format("unknown target \"{}\" (no target has this id)", schedule.target));
      }
      seen.emplace(schedule.name, schedule.source);
      config.schedules.push_back(std::move(schedule));
    }
  }

  const Document& add_document(std::string name, fs::path dir, Json json)
  {
    m_documents.push_back(Document{std::move(name), std::move(dir), std::move(json)});
    return m_documents.back();
  }

  // How a file is named in messages: relative to the main config's directory when inside it.
  std::string display_name(const fs::path& absolute) const
  {
    const fs::path relative = absolute.lexically_relative(m_main_dir);
    if (!relative.empty() && *relative.begin() != "..") {
      return relative.string();
    }
    return absolute.string();
  }

  // Gathers the check sets, targets and includes of one file (recursively for includes).
  void collect(const Document& document, std::vector<Visit>& chain)
  {
    const ConfigNode root(document.json, document.name, "", &m_secrets);
    const bool is_main = &document == &m_documents.front();
    if (!is_main) {
      if (!root.is_object()) {
        root.fail("a JSON object at the top level");
      }
      for (const auto& [key, node] : root.members()) {
        const bool main_only = std::find(std::begin(k_main_keys), std::end(k_main_keys), key)
                               != std::end(k_main_keys);
        const bool allowed = std::find(std::begin(k_included_keys), std::end(k_included_keys),
                                       key) != std::end(k_included_keys);
        if (main_only && !allowed) {
          node.fail_message(fmt::format(
            "only the main config file may set \"{}\" (an included file may contain "
            "\"targets\", \"check_sets\", \"schedules\" and \"include\")",
            key));
        }
      }
      root.reject_unknown_keys(std::vector<std::string_view>(std::begin(k_included_keys),
                                                             std::end(k_included_keys)));
    }
    if (auto schema = root["$schema"]; !schema.is_null() && !schema.is_string()) {
      schema.fail("a string");
    }
    if (auto sets = root["check_sets"]; !sets.is_null()) {
      if (!sets.is_object()) {
        sets.fail(R"(an object of named check lists like {"web": [...]})");
      }
      for (const auto& [name, node] : sets.members()) {
        if (auto it = m_check_sets.find(name); it != m_check_sets.end()) {
          node.fail_message(fmt::format("duplicate check set \"{}\" (first defined at {})", name,
                                        location(it->second)));
        }
        if (name.empty()) {
          node.fail_message("a check set needs a non-empty name");
        }
        m_check_sets.emplace(name, node);
      }
    }
    if (auto targets = root["targets"]; !targets.is_null()) {
      if (!targets.is_array()) {
        targets.fail("an array of targets");
      }
      for (const auto& node : targets.elements()) {
        m_target_nodes.push_back(node);
      }
    }
    if (auto schedules = root["schedules"]; !schedules.is_null()) {
      if (!schedules.is_array()) {
        schedules.fail("an array of schedules");
      }
      for (const auto& node : schedules.elements()) {
        m_schedule_nodes.push_back(node);
      }
    }
    if (auto include = root["include"]; !include.is_null()) {
      std::vector<ConfigNode> patterns;
      if (include.is_string()) {
        patterns.push_back(include);
      } else if (include.is_array()) {
        patterns = include.elements();
      } else {
        include.fail(R"(a glob pattern like "conf.d/*.json" or an array of them)");
      }
      for (const auto& pattern : patterns) {
        include_pattern(document, pattern, chain);
      }
    }
  }

  void include_pattern(const Document& from, const ConfigNode& node, std::vector<Visit>& chain)
  {
    if (!node.is_string() || node.raw().get<std::string>().empty()) {
      node.fail(R"(a glob pattern like "conf.d/*.json")");
    }
    const std::string pattern = node.raw().get<std::string>();
    std::vector<fs::path> files;
    if (!has_glob_characters(pattern)) {
      const fs::path path = (from.dir / pattern).lexically_normal();
      // Only a name that is really absent is "no such file": a symlink loop or a directory we
      // may not search is said as such when the file is read.
      struct stat info {};
      if (::stat(path.c_str(), &info) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
        node.fail_message(fmt::format("no such file \"{}\"", pattern));
      }
      files.push_back(path);
    } else {
      const std::string full =
        fs::path(pattern).is_absolute() ? pattern : escape_glob(from.dir.string()) + "/" + pattern;
      glob_t matches{};
      const int rc = ::glob(full.c_str(), GLOB_MARK, nullptr, &matches);
      if (rc == 0) {
        for (std::size_t i = 0; i < matches.gl_pathc; ++i) {
          const std::string match = matches.gl_pathv[i];
          // GLOB_MARK appends '/' to directories, which a pattern like "conf.d/*" also matches.
          if (!match.empty() && match.back() != '/') {
            files.push_back(fs::path(match).lexically_normal());
          }
        }
      }
      globfree(&matches);
      if (rc != 0 && rc != GLOB_NOMATCH) {
        node.fail_message(
          fmt::format("cannot expand \"{}\" (a directory is not readable)", pattern));
      }
      std::sort(files.begin(), files.end());
    }
    for (const auto& file : files) {
      include_file(node, file, chain);
    }
  }

  void include_file(const ConfigNode& node, const fs::path& path, std::vector<Visit>& chain)
  {
    const std::string name = display_name(path);
    std::error_code error;
    fs::path canonical = fs::canonical(path, error);
    if (error) {
      canonical = path;
    }
    auto on_chain = std::find_if(chain.begin(), chain.end(),
                                 [&](const Visit& v) { return v.canonical == canonical; });
    if (on_chain != chain.end()) {
      std::string cycle;
      for (const auto& visit : chain) {
        cycle += visit.name + " -> ";
      }
      node.fail_message(fmt::format("include cycle: {}{}", cycle, name));
    }
    // A file reached twice without a cycle (two patterns, or a diamond) is read once.
    if (!m_loaded.insert(canonical).second) {
      return;
    }
    util::FileRead file = util::read_regular_file(path, k_config_file_limit, "config files");
    if (!file.content) {
      node.fail_message(fmt::format("cannot read \"{}\": {}", name, file.error));
    }
    const Document& document =
      add_document(name, path.parent_path(), parse_config_text(*file.content, name));
    chain.push_back({canonical, name});
    collect(document, chain);
    chain.pop_back();
  }

  // Every set is checked for shape even when no target uses it, so a broken set is found when
  // it is written rather than when a target first uses it. Placeholders are left unresolved.
  void validate_check_sets() const
  {
    std::vector<std::string_view> common(std::begin(checks::k_common_check_keys),
                                         std::end(checks::k_common_check_keys));
    for (const auto& [name, set] : m_check_sets) {
      if (!set.is_array()) {
        set.fail("an array of checks");
      }
      for (const auto& check : set.elements()) {
        if (!check.is_object()) {
          check.fail("a check object");
        }
        auto type_node = check["type"];
        if (type_node.is_null()) {
          check.fail_message("missing \"type\"");
        }
        if (!type_node.is_string()) {
          type_node.fail("a check type name");
        }
        const checks::CheckType* type = m_registry.find(type_node.raw().get<std::string>());
        if (type == nullptr) {
          // Throws the registry's own message, with its suggestions.
          (void)m_registry.parse(check);
        } else {
          auto allowed = common;
          allowed.insert(allowed.end(), type->keys.begin(), type->keys.end());
          check.reject_unknown_keys(allowed);
        }
      }
    }
  }

  std::vector<ConfigNode> run_discovery(const DiscoveryCommand& command)
  {
    util::ProcessSpec spec;
    for (const auto& argument : command.arguments) {
      spec.argv.push_back(argument.as_string());
    }
    spec.timeout = command.timeout;
    spec.output_cap = k_discovery_output_cap;
    spec.stderr_mode = util::ProcessSpec::Stderr::separate;
    spec.error_output_cap = k_discovery_stderr_kept;
    const util::ProcessResult result = util::run_process(spec);
    switch (result.end) {
    case util::ProcessResult::End::spawn_failed:
      // util::run_process already says "cannot run ..." and why.
      throw TemporaryError(fmt::format("{}: {}", command.name,
                                       result.error.empty() ? "cannot run" : result.error));
    case util::ProcessResult::End::timed_out:
      throw TemporaryError(fmt::format("{}: timed out after {}", command.name,
                                       util::format_duration(command.timeout)));
    case util::ProcessResult::End::signaled:
      throw TemporaryError(
        fmt::format("{}: killed by signal {}", command.name, result.term_signal));
    case util::ProcessResult::End::cancelled:
      throw TemporaryError(fmt::format("{}: cancelled", command.name));
    case util::ProcessResult::End::exited:
      break;
    }
    if (result.exit_code != 0) {
      const std::string reason = first_line(result.error_output);
      throw TemporaryError(fmt::format("{}: exited with code {}{}", command.name, result.exit_code,
                                       reason.empty() ? "" : ": " + reason));
    }
    if (result.truncated) {
      throw ConfigError(fmt::format("{}: printed more than {} MiB", command.name,
                                    k_discovery_output_cap / (1024 * 1024)));
    }
    if (is_blank(result.output)) {
      throw ConfigError(fmt::format(
        "{}: printed nothing (expected a JSON array of targets or {{\"targets\": [...]}})",
        command.name));
    }
    auto parsed = parse_json(result.output);
    if (auto* error = std::get_if<JsonError>(&parsed)) {
      throw ConfigError(fmt::format("{}: printed invalid JSON at line {}, column {}: {}",
                                    command.name, error->line, error->column, error->message));
    }
    const Document& document =
      add_document(command.name, m_main_dir, std::move(std::get<Json>(parsed)));
    const ConfigNode root(document.json, document.name, "", &m_secrets);
    const Json* list = nullptr;
    if (root.is_array()) {
      list = &document.json;
    } else if (root.is_object()) {
      root.reject_unknown_keys({"targets"});
      auto targets = root["targets"];
      if (targets.is_null()) {
        root.fail_message("missing \"targets\"");
      }
      if (!targets.is_array()) {
        targets.fail("an array of targets");
      }
      list = &targets.raw();
    } else {
      root.fail(R"(a JSON array of targets or {"targets": [...]})");
    }
    // Both shapes are reported as "targets[N]" so messages read the same either way.
    std::vector<ConfigNode> nodes;
    for (std::size_t i = 0; i < list->size(); ++i) {
      nodes.emplace_back((*list)[i], document.name, fmt::format("targets[{}]", i), &m_secrets);
    }
    return nodes;
  }

  Target parse_target(const ConfigNode& node)
  {
    if (!node.is_object()) {
      node.fail("a target object");
    }
    node.reject_unknown_keys(
      std::vector<std::string_view>(std::begin(k_target_keys), std::end(k_target_keys)));
    Target target;
    auto id = node["id"];
    if (id.is_null()) {
      node.fail_message("missing \"id\"");
    }
    if (!id.is_string() || !is_valid_target_id(id.raw().get<std::string>())) {
      id.fail("a target id of lowercase letters, digits, '_', '.' or '-' (at most 100 "
              "characters)");
    }
    target.id = id.raw().get<std::string>();
    target.source = location(node);
    if (auto it = m_target_sources.find(target.id); it != m_target_sources.end()) {
      id.fail_message(fmt::format("duplicate target id \"{}\" (first defined at {})", target.id,
                                  it->second));
    }
    m_target_sources.emplace(target.id, target.source);

    target.name = target.id;
    if (auto name = node["name"]; !name.is_null()) {
      target.name = name.as_string();
      if (target.name.empty()) {
        name.fail("a non-empty name");
      }
    }
    if (auto kind = node["kind"]; !kind.is_null()) {
      auto parsed = kind.is_string() ? parse_target_kind(kind.raw().get<std::string>())
                                     : std::nullopt;
      if (!parsed) {
        kind.fail(R"("tenant", "service", "agent" or "job")");
      }
      target.kind = *parsed;
    }
    if (auto tags = node["tags"]; !tags.is_null()) {
      if (!tags.is_array()) {
        tags.fail(R"(an array of tags like ["prod", "eu"])");
      }
      for (const auto& tag : tags.elements()) {
        if (!tag.is_string() || !is_valid_target_id(tag.raw().get<std::string>())) {
          tag.fail("a tag of lowercase letters, digits, '_', '.' or '-' (at most 100 characters)");
        }
        std::string value = tag.raw().get<std::string>();
        if (std::find(target.tags.begin(), target.tags.end(), value) == target.tags.end()) {
          target.tags.push_back(std::move(value));
        }
      }
    }
    target.paused = node.get_bool("paused", false);
    target.interval = positive_duration(node, "interval", m_defaults.interval, "30m");
    target.active_hours = m_defaults.active_hours;
    if (auto hours = node["active_hours"]; !hours.is_null()) {
      target.active_hours = parse_active_hours(hours);
    }
    target.timezone = m_defaults.timezone;
    if (auto zone = node["timezone"]; !zone.is_null()) {
      target.timezone = parse_timezone(zone);
    }
    target.stale_after = positive_duration(node, "stale_after", m_defaults.stale_after, "24h");
    target.new_target_grace = node.get_duration("new_target_grace", m_defaults.new_target_grace);
    target.heartbeat = parse_heartbeat(node["heartbeat"], target.kind);
    target.recovery = parse_target_recovery(node["recovery"]);
    m_notify_targets[target.id] =
      parse_target_notify(node, m_notify_defaults, target.id, target.timezone, m_dependencies);

    ConfigNode::Vars vars;
    if (auto given = node["vars"]; !given.is_null()) {
      if (!given.is_object()) {
        given.fail(R"(an object of strings like {"host": "acme.example.com"})");
      }
      for (const auto& [key, value] : given.members()) {
        if (std::find(std::begin(k_builtin_vars), std::end(k_builtin_vars), key)
            != std::end(k_builtin_vars)) {
          value.fail_message(fmt::format(
            "\"{}\" is a built-in variable (the target's {}); choose another name", key, key));
        }
        if (key.empty() || key.find('}') != std::string::npos) {
          value.fail_message(fmt::format("\"{}\" cannot be used as a variable name", key));
        }
        if (!value.is_string() && !value.is_object()) {
          value.fail("a string");
        }
        vars.emplace(key, value.as_string());
      }
    }
    vars.emplace("id", target.id);
    vars.emplace("name", target.name);

    // Check name -> where it was defined, for duplicate messages.
    std::map<std::string, std::string, std::less<>> check_sources;
    auto add_check = [&](const ConfigNode& spec) {
      checks::CheckDef def = m_registry.parse(spec);
      if (auto it = check_sources.find(def.name); it != check_sources.end()) {
        spec["name"].fail_message(fmt::format("duplicate check name \"{}\" (first defined at {})",
                                              def.name, it->second));
      }
      check_sources.emplace(def.name, location(spec));
      target.checks.push_back(std::move(def));
    };

    if (auto use = node["use"]; !use.is_null()) {
      std::vector<ConfigNode> names;
      if (use.is_string()) {
        names.push_back(use);
      } else if (use.is_array()) {
        names = use.elements();
      } else {
        use.fail(R"(a check set name or an array of them, like ["web"])");
      }
      std::set<std::string, std::less<>> used;
      const std::string context = fmt::format("used by target \"{}\"", target.id);
      for (const auto& name_node : names) {
        if (!name_node.is_string()) {
          name_node.fail("a check set name");
        }
        const std::string set_name = name_node.raw().get<std::string>();
        auto found = m_check_sets.find(set_name);
        if (found == m_check_sets.end()) {
          name_node.fail_message(unknown_set_message(set_name));
        }
        if (!used.insert(set_name).second) {
          name_node.fail_message(fmt::format("check set \"{}\" is already used", set_name));
        }
        // Parsed once per using target: the placeholders resolve differently for each.
        for (const auto& check : found->second.elements()) {
          add_check(check.with_vars(&vars, context));
        }
      }
    }
    if (auto inline_checks = node["checks"]; !inline_checks.is_null()) {
      if (!inline_checks.is_array()) {
        inline_checks.fail("an array of checks");
      }
      for (const auto& check : inline_checks.elements()) {
        add_check(check);
      }
    }
    return target;
  }

  std::string unknown_set_message(const std::string& name) const
  {
    std::vector<std::string_view> known;
    for (const auto& entry : m_check_sets) {
      known.push_back(entry.first);
    }
    if (known.empty()) {
      return fmt::format("unknown check set \"{}\" (no check sets are defined)", name);
    }
    const std::string suggestion = closest_match(name, known);
    if (!suggestion.empty()) {
      return fmt::format("unknown check set \"{}\" (did you mean \"{}\"?)", name, suggestion);
    }
    return fmt::format("unknown check set \"{}\" (defined: {})", name, fmt::join(known, ", "));
  }

  const checks::Registry& m_registry;
  RunDiscovery m_discovery;
  fs::path m_main_dir;
  TargetDefaults m_defaults;
  NotifyDefaults m_notify_defaults;
  std::map<std::string, TargetNotifySettings> m_notify_targets;
  std::vector<Dependencies> m_dependencies;  // of every target that has any, for the cycle check
  std::deque<Document> m_documents;
  std::set<fs::path> m_loaded;
  std::map<std::string, ConfigNode, std::less<>> m_check_sets;
  std::vector<ConfigNode> m_target_nodes;
  std::vector<ConfigNode> m_schedule_nodes;
  std::map<std::string, std::string, std::less<>> m_target_sources;
  ConfigNode::Secrets m_secrets;  // every secret value resolved so far, for Config::redactor
};

// The main config file's text; throws ConfigError naming the file as the user gave it.
std::string read_main_file(const fs::path& given, const fs::path& absolute)
{
  util::FileRead file = util::read_regular_file(absolute, k_config_file_limit, "config files");
  if (!file.content) {
    throw ConfigError(
      fmt::format("cannot read config file \"{}\": {}", given.string(), file.error));
  }
  return std::move(*file.content);
}

} // namespace

Config load(const std::filesystem::path& path, const LoadOptions& options)
{
  const fs::path absolute = fs::absolute(path).lexically_normal();
  const std::string text = read_main_file(path, absolute);
  std::error_code canonical_error;
  fs::path canonical = fs::canonical(absolute, canonical_error);
  if (canonical_error) {
    canonical = absolute;
  }
  Loader loader(options);
  Config config =
    loader.load(text, absolute.filename().string(), absolute.parent_path(), canonical);
  config.file = absolute;
  return config;
}

Config load_from_string(const std::string& text, const std::string& name,
                        const LoadOptions& options)
{
  Loader loader(options);
  Config config = loader.load(text, name, fs::current_path(), {});
  config.file = name;
  return config;
}

std::string read_database_setting(const std::filesystem::path& path)
{
  const fs::path absolute = fs::absolute(path).lexically_normal();
  const std::string text = read_main_file(path, absolute);
  const std::string name = absolute.filename().string();
  const Json json = parse_config_text(text, name);
  const ConfigNode root(json, name, "");
  if (!root.is_object()) {
    root.fail("a JSON object at the top level");
  }
  return parse_database(root["database"], absolute.parent_path());
}

} // namespace hb::config
