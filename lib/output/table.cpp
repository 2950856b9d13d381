// SPDX-License-Identifier: MIT
#include "output/table.hpp"

#include "output/style.hpp"

#include <algorithm>

namespace hb::output {

void Table::print(std::ostream& out, const std::string& indent, std::size_t width) const
{
  std::vector<std::size_t> widths(m_header.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], display_width(row[i]));
    }
  };
  measure(m_header);
  for (const auto& row : m_rows) {
    measure(row);
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line = indent;
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      const bool last = i + 1 == row.size();
      if (last && width > 0) {
        const std::size_t used = display_width(line);
        if (used + display_width(row[i]) <= width) {
          line += row[i];
        } else if (used + 12 <= width) {
          line += truncate(row[i], width - used);
        } else if (width > 8) {
          // No room left on the line: the cell goes below it, indented.
          while (!line.empty() && line.back() == ' ') {
            line.pop_back();
          }
          line += "\n" + indent + "    " + truncate(row[i], width - 4 - indent.size());
        }
        break;
      }
      line += row[i];
      if (!last) {
        line += std::string(widths[i] - display_width(row[i]) + 2, ' ');
      }
    }
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    out << line << '\n';
  };
  print_row(m_header);
  for (const auto& row : m_rows) {
    print_row(row);
  }
}

} // namespace hb::output
