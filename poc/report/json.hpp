#pragma once
// Stage reports are nlohmann-json ordered_json values (objects keep insertion order, so a report
// reads in the order the stage wrote it). Two things the library does not do for us: the file form
// rounds numbers to the 3 decimals the Markdown shows, and text() is the one-line form of a value
// for Markdown tables.
#include <string>

#include <nlohmann/json.hpp>

namespace poc {

using Json = nlohmann::ordered_json;

// Pretty JSON (2-space indentation), floating-point numbers rounded to 3 decimals like
// format_number; NaN and infinities become null.
std::string dump_report(const Json& j);
// A one-line human form for Markdown tables: "a: 1, b: 2", "x, y", plain scalars, "-" for null,
// "yes"/"no", "(none)" for an empty array or object.
std::string text(const Json& j);
// A number as reports print it: up to 3 decimals, trailing zeros removed.
std::string format_number(double d);

}  // namespace poc
