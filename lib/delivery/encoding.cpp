// SPDX-License-Identifier: MIT
#include "delivery/encoding.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cctype>

namespace hb::delivery {
namespace {

bool is_unreserved(unsigned char c)
{
  return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~';
}

} // namespace

std::string base64(std::string_view data)
{
  static constexpr std::string_view k_alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const unsigned n = static_cast<unsigned char>(data[i]) << 16U |
                       static_cast<unsigned char>(data[i + 1]) << 8U |
                       static_cast<unsigned char>(data[i + 2]);
    out += k_alphabet[n >> 18U & 63U];
    out += k_alphabet[n >> 12U & 63U];
    out += k_alphabet[n >> 6U & 63U];
    out += k_alphabet[n & 63U];
  }
  if (const std::size_t rest = data.size() - i; rest > 0) {
    unsigned n = static_cast<unsigned char>(data[i]) << 16U;
    if (rest == 2) {
      n |= static_cast<unsigned char>(data[i + 1]) << 8U;
    }
    out += k_alphabet[n >> 18U & 63U];
    out += k_alphabet[n >> 12U & 63U];
    out += rest == 2 ? k_alphabet[n >> 6U & 63U] : '=';
    out += '=';
  }
  return out;
}

std::string percent_encode(std::string_view text)
{
  std::string out;
  for (const char c : text) {
    if (is_unreserved(static_cast<unsigned char>(c))) {
      out += c;
    } else {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields)
{
  const auto encode = [](std::string_view text) {
    std::string out;
    for (const char c : text) {
      if (c == ' ') {
        out += '+';
      } else if (is_unreserved(static_cast<unsigned char>(c))) {
        out += c;
      } else {
        out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
      }
    }
    return out;
  };
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) {
      out += '&';
    }
    out += encode(name);
    out += '=';
    out += encode(value);
  }
  return out;
}

std::string quoted_printable(std::string_view text)
{
  constexpr std::size_t k_max_line = 76;
  std::string out;
  std::size_t column = 0;
  const auto put = [&](std::string_view piece) {
    // A soft line break ("=" at the end of a line) keeps every line within the limit.
    if (column + piece.size() > k_max_line - 1) {
      out += "=\r\n";
      column = 0;
    }
    out += piece;
    column += piece.size();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      continue;
    }
    if (c == '\n') {
      // Trailing white space on a line would be lost in transit: encode it.
      if (!out.empty() && (out.back() == ' ' || out.back() == '\t')) {
        const char last = out.back();
        out.pop_back();
        --column;
        put(fmt::format("={:02X}", static_cast<unsigned char>(last)));
      }
      out += "\r\n";
      column = 0;
      continue;
    }
    if ((c >= 33 && c <= 126 && c != '=') || c == ' ' || c == '\t') {
      // A "." alone at the start of a line would end the SMTP DATA early in a careless relay.
      if (column == 0 && c == '.') {
        put("=2E");
      } else {
        put(std::string_view(text.data() + i, 1));
      }
    } else {
      put(fmt::format("={:02X}", c));
    }
  }
  if (!out.empty() && (out.back() == ' ' || out.back() == '\t')) {
    const char last = out.back();
    out.pop_back();
    --column;
    put(fmt::format("={:02X}", static_cast<unsigned char>(last)));
  }
  return out;
}

std::string header_text(std::string_view text)
{
  std::string flat;
  bool ascii = true;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      flat += ' ';
    } else {
      flat += c;
      ascii = ascii && u < 0x80;
    }
  }
  if (ascii) {
    return flat;
  }
  // Encoded words of at most 75 characters, each holding whole UTF-8 characters.
  std::string out;
  std::size_t start = 0;
  while (start < flat.size()) {
    std::size_t end = start;
    while (end < flat.size()) {
      std::size_t next = end + 1;
      while (next < flat.size() && (static_cast<unsigned char>(flat[next]) & 0xC0U) == 0x80U) {
        ++next;
      }
      if ((next - start + 2) / 3 * 4 > 75 - 12) {
        break;
      }
      end = next;
    }
    if (end == start) {
      end = flat.size();
    }
    if (!out.empty()) {
      out += ' ';
    }
    out += "=?UTF-8?B?" + base64(std::string_view(flat).substr(start, end - start)) + "?=";
    start = end;
  }
  return out;
}

std::string html_escape(std::string_view text)
{
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&#39;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data)
{
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data(),
           &length) == nullptr) {
    return {};
  }
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out += fmt::format("{:02x}", digest[i]);
  }
  return out;
}

} // namespace hb::delivery
