#include "slurm/shell_quote.h"

#include "common/error.h"

namespace ipm {

bool is_plain_word_char(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
         c == '_' || c == '-' || c == '.' || c == '/' || c == ':' || c == '=' || c == ',' ||
         c == '+' || c == '@' || c == '%';
}

namespace {

bool all_plain(const std::string& s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (!is_plain_word_char(c)) return false;
  }
  return true;
}

}  // namespace

std::string shell_quote(const std::string& s) {
  if (all_plain(s)) return s;
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'') {
      out += "'\\''";  // close, an escaped quote, reopen
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string sbatch_quote(const std::string& s) {
  for (const char c : s) {
    IPM_CHECK(!(static_cast<unsigned char>(c) < 0x20 || c == 0x7f),
              "value " << shell_quote(s) << " holds a control character, which an #SBATCH "
                                            "line cannot carry");
  }
  if (all_plain(s)) return s;
  std::string out = "\"";
  for (const char c : s) {
    if (c == '\\' || c == '"' || c == '#') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace ipm
