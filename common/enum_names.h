// One table of names per enum, so parsing, printing, the allowed values in messages and the
// generated key docs (docs/keys.md) all read the same list: a value added to the table is
// accepted everywhere at once.
// defines: ipm::EnumName, ipm::enum_from_name, ipm::enum_to_name, ipm::enum_name_list,
//          ipm::parse_enum
//
// An enum E takes part by declaring, in its own namespace,
//   const std::vector<EnumName<E>>& enum_names(E);   // the argument is only a tag
// which the templates below find by argument-dependent lookup.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/text.h"

namespace ipm {

template <typename E>
struct EnumName {
  E value;
  const char* name;  // as written in suite files and metrics
};

template <typename E>
std::optional<E> enum_from_name(const std::string& name) {
  for (const auto& n : enum_names(E{})) {
    if (name == n.name) return n.value;
  }
  return std::nullopt;
}

template <typename E>
const char* enum_to_name(E value) {
  for (const auto& n : enum_names(E{})) {
    if (n.value == value) return n.name;
  }
  return "?";  // only for a value cast from an integer outside the enum
}

template <typename E>
std::vector<std::string> enum_name_list() {
  std::vector<std::string> v;
  for (const auto& n : enum_names(E{})) v.push_back(n.name);
  return v;
}

// The value named `name`; otherwise ipm::Error "<what> = "<name>" is not one of a, b (did you
// mean "a"?)".
template <typename E>
E parse_enum(const std::string& name, const std::string& what) {
  if (const auto v = enum_from_name<E>(name)) return *v;
  const std::vector<std::string> names = enum_name_list<E>();
  throw Error(what + " = \"" + name + "\" is not one of " + join(names, ", ") +
              " (did you mean \"" + nearest(name, names) + "\"?)");
}

}  // namespace ipm
