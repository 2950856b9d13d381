// SPDX-License-Identifier: MIT
#include "checks/perfdata.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <string>

namespace {

using hb::checks::KeepNewlines;
using hb::Metric;
using hb::checks::parse_plugin_output;
using hb::checks::PluginOutput;
using hb::checks::sanitize_text;

const Metric& metric_named(const PluginOutput& out, const std::string& name)
{
  for (const auto& metric : out.metrics) {
    if (metric.name == name) {
      return metric;
    }
  }
  FAIL("no metric named \"" << name << "\"");
  throw std::logic_error("unreachable");
}

bool is_valid_utf8(const std::string& text)
{
  return sanitize_text(text, KeepNewlines::yes) == text;
}

} // namespace

TEST_CASE("parse_plugin_output")
{
  SECTION("summary only")
  {
    const PluginOutput out = parse_plugin_output("DISK OK\n");
    CHECK(out.summary == "DISK OK");
    CHECK(out.long_output.empty());
    CHECK(out.metrics.empty());
    CHECK(out.perfdata_errors.empty());
  }

  SECTION("summary with one perfdata item, all five fields")
  {
    const PluginOutput out =
        parse_plugin_output("DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968\n");
    CHECK(out.summary == "DISK OK - free space: / 3326 MB (56%);");
    REQUIRE(out.metrics.size() == 1);
    const Metric& m = out.metrics[0];
    CHECK(m.name == "/");
    CHECK(m.value == 2643);
    CHECK(m.unit == "MB");
    CHECK(m.warn == "5948");
    CHECK(m.crit == "5958");
    CHECK(m.min == 0.0);
    CHECK(m.max == 5968.0);
    CHECK(out.perfdata_errors.empty());
  }

  SECTION("multi-line output with perfdata on the first line and after a '|' in the long output")
  {
    const PluginOutput out =
        parse_plugin_output("DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968\n"
                            "/ 15272 MB (77%);\n"
                            "/boot 68 MB (69%);\n"
                            "/home 69357 MB (27%);\n"
                            "/var/log 819 MB (84%); | /boot=68MB;88;93;0;98\n"
                            "/home=69357MB;253404;253409;0;253414 \n"
                            "/var/log=818MB;970;975;0;980\n");
    CHECK(out.summary == "DISK OK - free space: / 3326 MB (56%);");
    CHECK(out.long_output ==
          "/ 15272 MB (77%);\n/boot 68 MB (69%);\n/home 69357 MB (27%);\n/var/log 819 MB (84%);");
    REQUIRE(out.metrics.size() == 4);
    CHECK(out.metrics[0].name == "/");
    CHECK(out.metrics[1].name == "/boot");
    CHECK(out.metrics[2].name == "/home");
    CHECK(out.metrics[2].value == 69357);
    CHECK(out.metrics[2].max == 253414.0);
    CHECK(out.metrics[3].name == "/var/log");
    CHECK(out.metrics[3].crit == "975");
    CHECK(out.perfdata_errors.empty());
  }

  SECTION("perfdata only in the long output")
  {
    const PluginOutput out = parse_plugin_output("OK\ndetail one\ndetail two | a=1\nb=2;3");
    CHECK(out.summary == "OK");
    CHECK(out.long_output == "detail one\ndetail two");
    REQUIRE(out.metrics.size() == 2);
    CHECK(out.metrics[0].name == "a");
    CHECK(out.metrics[1].name == "b");
    CHECK(out.metrics[1].warn == "3");
  }

  SECTION("several items on the first line")
  {
    const PluginOutput out = parse_plugin_output(
        "PING OK - Packet loss = 0%, RTA = 0.05 ms|rta=0.050000ms;3000.000000;5000.000000;0.000000 "
        "pl=0%;80;100;0");
    CHECK(out.summary == "PING OK - Packet loss = 0%, RTA = 0.05 ms");
    REQUIRE(out.metrics.size() == 2);
    CHECK(out.metrics[0].value == Approx(0.05));
    CHECK(out.metrics[0].unit == "ms");
    CHECK(out.metrics[0].warn == "3000.000000");
    CHECK(out.metrics[0].min == 0.0);
    CHECK_FALSE(out.metrics[0].max.has_value());
    CHECK(out.metrics[1].unit == "%");
  }

  SECTION("quoted labels with spaces, '=' and doubled quotes")
  {
    const PluginOutput out =
        parse_plugin_output("OK | 'free space'=10 'it''s'=5;;;0 'a=b'=1 '''quoted'''=2");
    CHECK(out.perfdata_errors.empty());
    REQUIRE(out.metrics.size() == 4);
    CHECK(out.metrics[0].name == "free space");
    CHECK(out.metrics[1].name == "it's");
    CHECK(out.metrics[1].min == 0.0);
    CHECK(out.metrics[2].name == "a=b");
    CHECK(out.metrics[3].name == "'quoted'");
  }

  SECTION("empty fields and trailing semicolons")
  {
    const PluginOutput out = parse_plugin_output("OK | a=1;;;0; b=2;;5 c=3; d=4;;;;; e=5;;;;");
    CHECK(out.perfdata_errors.empty());
    REQUIRE(out.metrics.size() == 5);
    CHECK(out.metrics[0].warn.empty());
    CHECK(out.metrics[0].crit.empty());
    CHECK(out.metrics[0].min == 0.0);
    CHECK_FALSE(out.metrics[0].max.has_value());
    CHECK(metric_named(out, "b").crit == "5");
    CHECK(metric_named(out, "c").value == 3);
    CHECK(metric_named(out, "d").value == 4);
    CHECK(metric_named(out, "e").value == 5);
  }

  SECTION("range thresholds are kept as written")
  {
    const PluginOutput out = parse_plugin_output("OK | load=1.5;@10:20;~:30 x=1;10:;5");
    REQUIRE(out.metrics.size() == 2);
    CHECK(out.metrics[0].warn == "@10:20");
    CHECK(out.metrics[0].crit == "~:30");
    CHECK(out.metrics[1].warn == "10:");
  }

  SECTION("units, negative and fractional values")
  {
    const PluginOutput out = parse_plugin_output(
        "OK | t=0.5s l=12ms u=7us p=99.5% b=1B k=2KB kb=3kB g=4GB tb=5TB c=12345c n=-3.5 z=.5");
    CHECK(out.perfdata_errors.empty());
    REQUIRE(out.metrics.size() == 12);
    CHECK(metric_named(out, "t").unit == "s");
    CHECK(metric_named(out, "kb").unit == "kB");
    CHECK(metric_named(out, "c").unit == "c");
    CHECK(metric_named(out, "n").value == -3.5);
    CHECK(metric_named(out, "n").unit.empty());
    CHECK(metric_named(out, "z").value == 0.5);
  }

  SECTION("min and max may repeat the value's unit")
  {
    const PluginOutput out = parse_plugin_output("OK | a=5MB;;;0MB;10MB");
    REQUIRE(out.metrics.size() == 1);
    CHECK(out.metrics[0].min == 0.0);
    CHECK(out.metrics[0].max == 10.0);
  }

  SECTION("an unknown value \"U\" is skipped without an error")
  {
    const PluginOutput out = parse_plugin_output("OK | x=U;1;2 y=1");
    REQUIRE(out.metrics.size() == 1);
    CHECK(out.metrics[0].name == "y");
    CHECK(out.perfdata_errors.empty());
  }

  SECTION("malformed items are skipped and described")
  {
    const PluginOutput out = parse_plugin_output(
        "OK | garbage a=abc b=nan c=inf d=1xyz =5 e= f=1 f=2 g=1;2;3;4;5;6 h=1e999");
    CHECK(out.metrics.size() == 1);
    CHECK(out.metrics[0].name == "f");
    CHECK(out.metrics[0].value == 1);
    CHECK(
        out.perfdata_errors ==
        std::vector<std::string>{
            R"(perfdata item "garbage": expected 'label'=value)",
            R"(perfdata item "a=abc": value "abc" is not a number)",
            R"(perfdata item "b=nan": value "nan" is not a finite number)",
            R"(perfdata item "c=inf": value "inf" is not a finite number)",
            R"(perfdata item "d=1xyz": unknown unit "xyz" (expected none, s, ms, us, %, B, KB, MB, GB, TB or c))",
            R"(perfdata item "=5": empty label)",
            R"(perfdata item "e=": missing value)",
            R"(perfdata item "f=2": duplicate label)",
            R"(perfdata item "g=1;2;3;4;5;6": more than 5 fields (expected value[UOM];warn;crit;min;max))",
            R"(perfdata item "h=1e999": value "1e999" is not a number)",
        });
  }

  SECTION("bad thresholds and limits are dropped but the metric is kept")
  {
    const PluginOutput out = parse_plugin_output("OK | a=1;x;y;foo;5kg");
    REQUIRE(out.metrics.size() == 1);
    CHECK(out.metrics[0].warn.empty());
    CHECK(out.metrics[0].crit.empty());
    CHECK_FALSE(out.metrics[0].min.has_value());
    CHECK_FALSE(out.metrics[0].max.has_value());
    CHECK(
        out.perfdata_errors ==
        std::vector<std::string>{
            R"(perfdata item "a=1;x;y;foo;5kg": warning threshold "x" is not a range (kept the metric without it))",
            R"(perfdata item "a=1;x;y;foo;5kg": critical threshold "y" is not a range (kept the metric without it))",
            R"(perfdata item "a=1;x;y;foo;5kg": min "foo" is not a number (kept the metric without it))",
            R"(perfdata item "a=1;x;y;foo;5kg": max "5kg" is not a number (kept the metric without it))",
        });
  }

  SECTION("an unterminated quote ends the perfdata")
  {
    const PluginOutput out = parse_plugin_output("OK | a=1 'open label=5 b=2");
    REQUIRE(out.metrics.size() == 1);
    CHECK(out.perfdata_errors ==
          std::vector<std::string>{
              R"(perfdata item "'open label=5 b=2": unterminated quote in the label)"});
  }

  SECTION("a quoted label must be followed by '='")
  {
    const PluginOutput out = parse_plugin_output("OK | 'a'b=1 c=2");
    REQUIRE(out.metrics.size() == 1);
    CHECK(out.metrics[0].name == "c");
    CHECK(
        out.perfdata_errors ==
        std::vector<std::string>{R"(perfdata item "'a'b=1": expected '=' after the quoted label)"});
  }

  SECTION("errors are capped")
  {
    std::string text = "OK |";
    for (int i = 0; i < 30; ++i) {
      text += " junk" + std::to_string(i);
    }
    const PluginOutput out = parse_plugin_output(text);
    REQUIRE(out.perfdata_errors.size() == hb::checks::k_max_perfdata_errors + 1);
    CHECK(out.perfdata_errors.back() == "... and 10 more perfdata errors");
  }

  SECTION("metrics are capped")
  {
    std::string text = "OK |";
    for (std::size_t i = 0; i < hb::checks::k_max_metrics + 3; ++i) {
      text += " m" + std::to_string(i) + "=1";
    }
    const PluginOutput out = parse_plugin_output(text);
    CHECK(out.metrics.size() == hb::checks::k_max_metrics);
    CHECK(out.perfdata_errors.size() == 3);
    CHECK(out.perfdata_errors[0] == R"(perfdata item "m500=1": more than 500 metrics)");
  }

  SECTION("CRLF line ends")
  {
    const PluginOutput out = parse_plugin_output("OK | a=1\r\nmore\r\n");
    CHECK(out.summary == "OK");
    CHECK(out.long_output == "more");
    REQUIRE(out.metrics.size() == 1);
    CHECK(out.perfdata_errors.empty());
  }

  SECTION("empty input and whitespace")
  {
    CHECK(parse_plugin_output("").summary.empty());
    CHECK(parse_plugin_output("   \n\n").summary.empty());
    const PluginOutput bar = parse_plugin_output("|");
    CHECK(bar.summary.empty());
    CHECK(bar.metrics.empty());
    CHECK(bar.perfdata_errors.empty());
  }

  SECTION("invalid UTF-8 and control characters are replaced in the summary")
  {
    const PluginOutput out = parse_plugin_output("OK \xff"
                                                 " done\x01\tnow\x7f");
    CHECK(out.summary == "OK \xEF\xBF\xBD done  now");
    CHECK(is_valid_utf8(out.summary));
    const PluginOutput overlong = parse_plugin_output("a\xC0\xAF b\xED\xA0\x80 c\xF4\x90\x80\x80");
    CHECK(is_valid_utf8(overlong.summary));
    CHECK(overlong.summary.find("\xC0") == std::string::npos);
  }

  SECTION("valid UTF-8 is kept")
  {
    const PluginOutput out =
        parse_plugin_output("OK: température 21 °C, 東京 🙂 | 'tëmp'=21");
    CHECK(out.summary == "OK: température 21 °C, 東京 🙂");
    REQUIRE(out.metrics.size() == 1);
    CHECK(out.metrics[0].name == "tëmp");
  }

  SECTION("the summary is one line of at most 1000 bytes")
  {
    const std::string huge(5'000'000, 'x');
    const PluginOutput out = parse_plugin_output(huge + "\nsecond");
    CHECK(out.summary.size() == hb::checks::k_max_summary);
    CHECK(out.summary.substr(out.summary.size() - 3) == "...");
    CHECK(out.long_output == "second");

    std::string wide;
    for (int i = 0; i < 600; ++i) {
      wide += "é";
    }
    const PluginOutput cut = parse_plugin_output(wide);
    CHECK(cut.summary.size() <= hb::checks::k_max_summary);
    CHECK(is_valid_utf8(cut.summary));
  }

  SECTION("the long output is capped")
  {
    const PluginOutput out = parse_plugin_output("OK\n" + std::string(100'000, 'y'));
    CHECK(out.long_output.size() == hb::checks::k_max_long_output);
  }

  SECTION("random garbage never throws and always yields valid UTF-8")
  {
    std::mt19937 random(12345);
    const std::string alphabet = "ab=;'| \n\r\t0123456789.-+eU%sBKMc~@:\xff\xc3\xa9\x00";
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    std::uniform_int_distribution<std::size_t> length(0, 200);
    std::uniform_int_distribution<int> byte(0, 255);
    for (int round = 0; round < 3000; ++round) {
      std::string text;
      const std::size_t size = length(random);
      for (std::size_t i = 0; i < size; ++i) {
        text += round % 3 == 0 ? static_cast<char>(byte(random)) : alphabet[pick(random)];
      }
      PluginOutput out;
      REQUIRE_NOTHROW(out = parse_plugin_output(text));
      CHECK(is_valid_utf8(out.summary));
      CHECK(is_valid_utf8(out.long_output));
      for (const auto& metric : out.metrics) {
        CHECK(is_valid_utf8(metric.name));
        CHECK(std::isfinite(metric.value));
      }
      for (const auto& error : out.perfdata_errors) {
        CHECK(is_valid_utf8(error));
      }
    }
  }
}

TEST_CASE("sanitize_text")
{
  SECTION("replaces each invalid byte with U+FFFD")
  {
    CHECK(sanitize_text("a\x80z", KeepNewlines::no) == "a\xEF\xBF\xBDz");
    CHECK(sanitize_text("\xE2\x82", KeepNewlines::no) == "\xEF\xBF\xBD\xEF\xBF\xBD");
  }

  SECTION("keeps newlines and tabs only when asked")
  {
    CHECK(sanitize_text("a\nb\tc\r\nd", KeepNewlines::yes) == "a\nb\tc\nd");
    CHECK(sanitize_text("a\nb\tc\r\nd", KeepNewlines::no) == "a b c  d");
  }

  SECTION("replaces ESC and the other C0 and C1 controls with spaces")
  {
    CHECK(sanitize_text("\033[2Jx\x7f", KeepNewlines::yes) == " [2Jx ");
    // U+0085 (NEL) and U+009B (an 8-bit CSI to some terminals), validly encoded.
    CHECK(sanitize_text("a\xC2\x85" "b\xC2\x9B" "2J", KeepNewlines::yes) == "a b 2J");
  }

  SECTION("replaces every bidirectional formatting character with a space")
  {
    // U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069: each would reorder what follows.
    for (const std::string bidi : {"\xD8\x9C", "\xE2\x80\x8E", "\xE2\x80\x8F", "\xE2\x80\xAA",
                                   "\xE2\x80\xAB", "\xE2\x80\xAC", "\xE2\x80\xAD", "\xE2\x80\xAE",
                                   "\xE2\x81\xA6", "\xE2\x81\xA7", "\xE2\x81\xA8", "\xE2\x81\xA9"}) {
      INFO("bytes: " << bidi.size());
      CHECK(sanitize_text("ok " + bidi + "gpj.exe", KeepNewlines::no) == "ok  gpj.exe");
      CHECK(sanitize_text(bidi, KeepNewlines::yes) == " ");
    }
  }

  SECTION("keeps the characters next to them")
  {
    // U+2029 and U+2065 (unassigned) border the ranges; Hebrew, accents and emoji stay as they
    // are.
    const std::string kept = "\xE2\x80\xA9\xE2\x81\xA5 \xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D caf\xC3\xA9 "
                             "\xF0\x9F\x92\x93 \xC2\xA0\xD8\x9B";
    CHECK(sanitize_text(kept, KeepNewlines::no) == kept);
  }
}

TEST_CASE("truncate_utf8")
{
  using hb::checks::truncate_utf8;

  SECTION("leaves short text alone")
  {
    CHECK(truncate_utf8("short", 5) == "short");
  }

  SECTION("cuts at a character boundary and marks the cut")
  {
    CHECK(truncate_utf8("abcdefgh", 6) == "abc...");
    CHECK(truncate_utf8("ab\xC3\xA9xyz", 6) == "ab...");
    CHECK(truncate_utf8("abcdef", 2) == "ab");
  }
}
