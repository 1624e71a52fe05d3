#include "io/csv_rows.h"

#include <charconv>

#include "common/error.h"

namespace ipm {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

}  // namespace

CsvRows::CsvRows(const std::filesystem::path& file, char delimiter)
    : file_(file), delimiter_(delimiter) {
  IPM_CHECK(!std::filesystem::is_directory(file_), file_.string() << ": is a directory");
  in_.open(file_, std::ios::binary);
  IPM_CHECK(in_.is_open(), file_.string() << ": cannot open");
}

bool CsvRows::next(std::vector<std::string_view>& cells) {
  while (std::getline(in_, buf_)) {
    ++line_;
    if (trim(buf_).empty()) continue;
    cells.clear();
    std::string_view rest(buf_);
    for (;;) {
      const size_t cut = rest.find(delimiter_);
      cells.push_back(trim(rest.substr(0, cut)));
      if (cut == std::string_view::npos) break;
      rest.remove_prefix(cut + 1);
    }
    return true;
  }
  IPM_CHECK(in_.eof(), file_.string() << ": read error after line " << line_);
  return false;
}

std::string CsvRows::where() const { return file_.string() + ":" + std::to_string(line_); }

bool parse_number(std::string_view cell, double& value) {
  if (cell.empty()) return false;
  const char* first = cell.data();
  const char* last = first + cell.size();
  if (*first == '+') ++first;  // from_chars refuses a leading '+', spreadsheets write it
  // Integers first: exact, and the common case (pixels, labels).
  int64_t i = 0;
  auto r = std::from_chars(first, last, i);
  if (r.ec == std::errc() && r.ptr == last) {
    value = static_cast<double>(i);
    return true;
  }
  r = std::from_chars(first, last, value);
  return r.ec == std::errc() && r.ptr == last;
}

}  // namespace ipm
