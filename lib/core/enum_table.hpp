// SPDX-License-Identifier: MIT
#pragma once

// The one way an enum gets its names: a constexpr table of {name, value} pairs, read both ways.

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

namespace hb {

template <typename E, std::size_t N>
std::optional<E> parse_enum(const std::array<std::pair<std::string_view, E>, N>& names,
                            std::string_view text)
{
  for (const auto& [name, value] : names) {
    if (name == text) {
      return value;
    }
  }
  return std::nullopt;
}

template <typename E, std::size_t N>
std::string_view enum_name(const std::array<std::pair<std::string_view, E>, N>& names, E value)
{
  for (const auto& [name, v] : names) {
    if (v == value) {
      return name;
    }
  }
  return "?";
}

} // namespace hb
