// Small text helpers for messages and output files.
// defines: ipm::edit_distance, ipm::nearest, ipm::join, ipm::json_number, ipm::json_string,
//          ipm::json_number_field, ipm::print_error_line
#pragma once

#include <string>
#include <vector>

namespace ipm {

// Levenshtein distance, for "did you mean" suggestions.
size_t edit_distance(const std::string& a, const std::string& b);

// The candidate `word` most likely meant ("" when there are none), for "did you mean".
// Dotted names ("train.learning_rate") are compared by their last segment first: an
// abbreviation (lr for learning_rate: the initials of the '_' words) or a prefix (ema_samp)
// is an exact match, a shared word (warmup in ema_warmup) as close as one typo, else the
// segments' edit distance; ties go to the edit distance of the whole name, then to the
// earlier candidate.
std::string nearest(const std::string& word, const std::vector<std::string>& candidates);

// "a, b, c" for {"a", "b", "c"}.
std::string join(const std::vector<std::string>& parts, const std::string& sep);

// Shortest text that reads back to exactly the same double ("%.17g" but trimmed).
std::string json_number(double v);

// A JSON string literal with escapes.
std::string json_string(const std::string& s);

// The number after "key": in one line of JSON that we wrote (a flat object of numbers and
// strings); throws ipm::Error naming `where` and the key when it is missing or not a number.
double json_number_field(const std::string& line, const std::string& key, const std::string& where);

// Writes `line` and a newline to stderr in one write(): the ranks of a job share one log
// (mpirun and srun merge their output), and a line written in pieces can be cut by another
// rank's output (std::cerr is unbuffered: every << is a write of its own).
void print_error_line(const std::string& line);

}  // namespace ipm
