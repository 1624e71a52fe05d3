#include "common/text.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "common/error.h"

namespace ipm {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

namespace {

std::string last_segment(const std::string& s) {
  const size_t dot = s.rfind('.');
  return dot == std::string::npos ? s : s.substr(dot + 1);
}

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out(1);
  for (const char c : s) {
    if (c == '_' || c == '-') {
      if (!out.back().empty()) out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  if (out.back().empty()) out.pop_back();
  return out;
}

std::string initials(const std::string& s) {
  std::string out;
  for (const auto& w : words(s)) out += w[0];
  return out;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// How far apart two last segments are: 0 for an abbreviation or a prefix, at most 1 for a
// shared word, else their edit distance.
size_t segment_distance(const std::string& a, const std::string& b) {
  if (a == b) return 0;
  const std::vector<std::string> wa = words(a), wb = words(b);
  if ((wa.size() > 1 && initials(a) == b) || (wb.size() > 1 && initials(b) == a)) return 0;
  size_t d = edit_distance(a, b);
  const std::string& shorter = a.size() < b.size() ? a : b;
  const std::string& longer = a.size() < b.size() ? b : a;
  if (shorter.size() >= 3 && starts_with(longer, shorter)) return 0;
  for (const auto& x : wa) {
    for (const auto& y : wb) {
      if (x.size() >= 3 && x == y) d = std::min<size_t>(d, 1);
    }
  }
  return d;
}

}  // namespace

std::string nearest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::pair<size_t, size_t> best_d{static_cast<size_t>(-1), static_cast<size_t>(-1)};
  const std::string leaf = last_segment(word);
  for (const auto& c : candidates) {
    const std::pair<size_t, size_t> d{segment_distance(leaf, last_segment(c)),
                                      edit_distance(word, c)};
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";  // JSON has no NaN/Inf
  char buf[32];
  for (int prec = 15; prec <= 17; ++prec) {  // shortest of 15..17 digits that round-trips
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

double json_number_field(const std::string& line, const std::string& key,
                         const std::string& where) {
  const std::string tag = "\"" + key + "\":";
  const size_t at = line.find(tag);
  if (at == std::string::npos) throw Error(where + ": no \"" + key + "\" in '" + line + "'");
  const char* start = line.c_str() + at + tag.size();
  char* end = nullptr;
  const double v = std::strtod(start, &end);
  if (end == start) throw Error(where + ": \"" + key + "\" is not a number in '" + line + "'");
  return v;
}

void print_error_line(const std::string& line) {
  const std::string s = line + "\n";
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(STDERR_FILENO, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // stderr is gone: nothing better to do with an error message
    done += static_cast<size_t>(n);
  }
}

}  // namespace ipm
