// SPDX-License-Identifier: MIT
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace hb::output {

// A plain text table: columns padded to their widest cell (by display width, so coloured cells
// line up), two spaces apart, the last column left ragged.
class Table {
public:
  explicit Table(std::vector<std::string> header) : m_header(std::move(header)) {}
  void add(std::vector<std::string> row) { m_rows.push_back(std::move(row)); }
  bool empty() const { return m_rows.empty(); }
  // Cells may carry colour escapes (they are not counted in widths).
  // With `width` > 0, the last column is cut to fit lines into that many columns; when fewer
  // than 12 columns are left for it, it goes on a line of its own below, indented.
  void print(std::ostream& out, const std::string& indent = "", std::size_t width = 0) const;

private:
  std::vector<std::string> m_header;
  std::vector<std::vector<std::string>> m_rows;
};

} // namespace hb::output
