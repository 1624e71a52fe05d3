// Quoting for the two languages an sbatch script is read in: POSIX sh (the body) and
// sbatch's own parser of "#SBATCH" lines.
// defines: ipm::shell_quote, ipm::sbatch_quote
#pragma once

#include <string>

namespace ipm {

// A POSIX shell word that reads back as exactly `s`: single quotes, each ' as '\''. Nothing
// inside single quotes is special (not $, `, \, ;, # nor a newline). Strings made only of
// characters that are never special come back unquoted, which keeps scripts readable.
std::string shell_quote(const std::string& s);

// The value of an "#SBATCH --opt=VALUE" line. sbatch splits these lines itself: a space
// ends the value, '#' starts a comment, '"' toggles quoting and '\' escapes the next
// character; the shell never sees them. Plain values come back as they are, others inside
// "..." with '\', '"' and '#' escaped. A line cannot hold a newline: throws ipm::Error for
// control characters (the caller validates values first and names the key).
std::string sbatch_quote(const std::string& s);

// True for characters that need no quoting in either language.
bool is_plain_word_char(char c);

}  // namespace ipm
