#include "json_schema_nfa.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "auroraedge/model/constrained_grammar.h"
#include "json_value_nfa.h"

namespace auroraedge::model::constrained {
namespace {

using Json = nlohmann::ordered_json;

// Keywords that only describe and never constrain: accepted anywhere.
const std::set<std::string> kAnnotations = {"title",    "description", "$schema", "$id",
                                            "$comment", "examples",    "default"};
const std::set<std::string> kTypeKeywords[] = {
    /* object */ {"properties", "required", "additionalProperties"},
    /* array */ {"items", "minItems", "maxItems", "uniqueItems"},
    /* string */ {"minLength", "maxLength"},
    /* integer */ {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"},
    /* boolean */ {},
    /* null */ {},
};
const char* const kTypeNames[] = {"object", "array", "string", "integer", "boolean", "null"};
enum TypeIndex { kObject, kArray, kString, kInteger, kBoolean, kNull, kNumTypes };

std::string Child(const std::string& path, const std::string& key) {
  const bool plain = !key.empty() && key.find_first_not_of(
                                         "abcdefghijklmnopqrstuvwxyz"
                                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789_$") == std::string::npos;
  return plain ? path + "." + key : path + "[" + Json(key).dump() + "]";
}

[[noreturn]] void Refuse(const std::string& path, const std::string& problem) {
  throw ConstraintError(path + ": " + problem);
}

bool HasType(const Json& value, int type) {
  switch (type) {
    case kObject:
      return value.is_object();
    case kArray:
      return value.is_array();
    case kString:
      return value.is_string();
    case kInteger:
      return value.is_number_integer() ||
             (value.is_number_float() && std::floor(value.get<double>()) == value.get<double>());
    case kBoolean:
      return value.is_boolean();
    case kNull:
      return value.is_null();
  }
  return false;
}

class SchemaCompiler {
 public:
  SchemaCompiler(ByteNfa& nfa, const GrammarLimits& limits) : nfa_(nfa), limits_(limits) {}

  NfaFragment Value(const Json& schema, const std::string& path, int depth) {
    if (!schema.is_object()) Refuse(path, "a schema must be a JSON object, got " + schema.dump());
    if (depth > limits_.max_depth) {
      Refuse(path, "nested more than " + std::to_string(limits_.max_depth) + " schemas deep");
    }
    if (schema.contains("anyOf")) return AnyOf(schema, path, depth);
    const int type = Type(schema, path);
    if (schema.contains("enum") || schema.contains("const")) return Enum(schema, type, path);
    if (type < 0) {
      Refuse(path,
             "no \"type\", \"enum\", \"const\" or \"anyOf\": a schema for any JSON value "
             "is not supported");
    }
    CheckKeywords(schema, type, path);
    switch (type) {
      case kObject:
        return Object(schema, path, depth);
      case kArray:
        return Array(schema, path, depth);
      case kString:
        return String(schema, path);
      case kInteger:
        return Integer(schema, path);
      case kBoolean:
        return nfa_.Choice({nfa_.Literal("true"), nfa_.Literal("false")});
      default:
        return nfa_.Literal("null");
    }
  }

 private:
  // The index of the schema's "type", or -1 when it has none.
  int Type(const Json& schema, const std::string& path) {
    if (!schema.contains("type")) return -1;
    const Json& type = schema["type"];
    for (int t = 0; t < kNumTypes; ++t) {
      if (type == kTypeNames[t]) return t;
    }
    Refuse(Child(path, "type"), type.dump() +
                                    " is not supported (supported: \"object\", \"array\", "
                                    "\"string\", \"integer\", \"boolean\", \"null\")");
  }

  void CheckKeywords(const Json& schema, int type, const std::string& path) {
    for (const auto& [keyword, value] : schema.items()) {
      if (keyword == "type" || kAnnotations.count(keyword) || kTypeKeywords[type].count(keyword)) {
        continue;
      }
      Refuse(Child(path, keyword), "keyword \"" + keyword + "\" is not supported for type \"" +
                                       kTypeNames[type] + "\"" + Supported(type));
    }
  }

  static std::string Supported(int type) {
    std::string list;
    for (const std::string& keyword : kTypeKeywords[type]) {
      list += (list.empty() ? "" : ", ") + keyword;
    }
    return list.empty() ? " (it takes none)" : " (supported: " + list + ")";
  }

  // anyOf: the output of any one of the listed schemas (their languages'
  // union; an output several allow is one output). Alone in its schema, so
  // that no keyword beside it must be distributed over the alternatives.
  NfaFragment AnyOf(const Json& schema, const std::string& path, int depth) {
    for (const auto& [keyword, value] : schema.items()) {
      if (keyword != "anyOf" && !kAnnotations.count(keyword)) {
        Refuse(Child(path, keyword), "keyword \"" + keyword +
                                         "\" is not supported beside anyOf (put it in each "
                                         "alternative)");
      }
    }
    const Json& alternatives = schema["anyOf"];
    const std::string where = Child(path, "anyOf");
    if (!alternatives.is_array() || alternatives.empty()) {
      Refuse(where, "must be a non-empty array of schemas");
    }
    std::vector<NfaFragment> options;
    for (size_t i = 0; i < alternatives.size(); ++i) {
      options.push_back(Value(alternatives[i], where + "[" + std::to_string(i) + "]", depth + 1));
    }
    return nfa_.Choice(options);
  }

  // enum / const: the listed values, written compact, those of the schema's
  // type when it names one.
  NfaFragment Enum(const Json& schema, int type, const std::string& path) {
    for (const auto& [keyword, value] : schema.items()) {
      if (keyword != "type" && keyword != "enum" && keyword != "const" &&
          !kAnnotations.count(keyword)) {
        Refuse(Child(path, keyword),
               "keyword \"" + keyword + "\" is not supported together with enum or const");
      }
    }
    if (schema.contains("enum") && schema.contains("const")) {
      Refuse(path, "enum and const together are not supported");
    }
    const bool is_enum = schema.contains("enum");
    const std::string where = Child(path, is_enum ? "enum" : "const");
    Json values = Json::array();
    if (is_enum) {
      values = schema["enum"];
    } else {
      values.push_back(schema["const"]);
    }
    if (!values.is_array() || values.empty()) {
      Refuse(where, "must be a non-empty array: an empty enum allows nothing");
    }
    std::vector<NfaFragment> options;
    for (const Json& value : values) {
      if (type < 0 || HasType(value, type)) options.push_back(nfa_.Literal(value.dump()));
    }
    if (options.empty()) {
      Refuse(where, std::string("no value is of type \"") + kTypeNames[type] +
                        "\": nothing can satisfy it");
    }
    return nfa_.Choice(options);
  }

  // minLength-style counts: a non-negative integer up to max_repeat.
  int Count(const Json& schema, const char* keyword, int absent, const std::string& path) {
    if (!schema.contains(keyword)) return absent;
    const Json& value = schema[keyword];
    if (!value.is_number_integer() || value.get<int64_t>() < 0) {
      Refuse(Child(path, keyword), "must be a non-negative integer, got " + value.dump());
    }
    if (value.get<int64_t>() > limits_.max_repeat) {
      Refuse(Child(path, keyword),
             value.dump() + " is over the limit of " + std::to_string(limits_.max_repeat));
    }
    return value.get<int>();
  }

  // Properties in the schema's order, each written once; required ones
  // always, optional ones or not. Two lanes of states, "no member yet" and
  // "after a member" (which needs a comma first), share each value.
  NfaFragment Object(const Json& schema, const std::string& path, int depth) {
    const Json properties = schema.value("properties", Json::object());
    if (!properties.is_object()) Refuse(Child(path, "properties"), "must be an object");
    if (schema.contains("additionalProperties") && !schema["additionalProperties"].is_boolean()) {
      Refuse(Child(path, "additionalProperties"),
             "only true or false is supported (the output never has other properties)");
    }
    const std::set<std::string> required = Required(schema, properties, path);
    const NfaFragment open = nfa_.Literal("{");
    const NfaFragment close = nfa_.Literal("}");
    int none = close.start;  // entry of the "no member yet" lane past the last property
    int some = close.start;  // entry of the "after a member" lane
    std::vector<std::pair<std::string, const Json*>> members;
    for (const auto& [key, value] : properties.items()) members.emplace_back(key, &value);
    for (auto it = members.rbegin(); it != members.rend(); ++it) {
      const std::string key = Json(it->first).dump() + ":";
      const NfaFragment value =
          Value(*it->second, Child(Child(path, "properties"), it->first), depth + 1);
      nfa_.AddEpsilon(value.end, some);
      const NfaFragment first = nfa_.Literal(key);
      const NfaFragment later = nfa_.Literal("," + key);
      nfa_.AddEpsilon(first.end, value.start);
      nfa_.AddEpsilon(later.end, value.start);
      const int none_here = nfa_.AddState();
      const int some_here = nfa_.AddState();
      nfa_.AddEpsilon(none_here, first.start);
      nfa_.AddEpsilon(some_here, later.start);
      if (!required.count(it->first)) {
        nfa_.AddEpsilon(none_here, none);
        nfa_.AddEpsilon(some_here, some);
      }
      none = none_here;
      some = some_here;
    }
    nfa_.AddEpsilon(open.end, none);
    return {open.start, close.end};
  }

  std::set<std::string> Required(const Json& schema, const Json& properties,
                                 const std::string& path) {
    std::set<std::string> required;
    if (!schema.contains("required")) return required;
    const Json& names = schema["required"];
    if (!names.is_array()) Refuse(Child(path, "required"), "must be an array of property names");
    for (size_t i = 0; i < names.size(); ++i) {
      const std::string where = Child(path, "required") + "[" + std::to_string(i) + "]";
      if (!names[i].is_string()) Refuse(where, "must be a property name, got " + names[i].dump());
      if (!properties.contains(names[i].get<std::string>())) {
        Refuse(where, names[i].dump() +
                          " is not in properties: the output has only the listed properties, so "
                          "nothing can satisfy it");
      }
      required.insert(names[i].get<std::string>());
    }
    return required;
  }

  NfaFragment Array(const Json& schema, const std::string& path, int depth) {
    if (!schema.contains("items")) {
      Refuse(path, "an array needs \"items\" (a schema for every item)");
    }
    if (schema.contains("uniqueItems") && schema["uniqueItems"] != false) {
      Refuse(Child(path, "uniqueItems"), "true is not supported");
    }
    const int min = Count(schema, "minItems", 0, path);
    const int max = Count(schema, "maxItems", -1, path);
    if (max >= 0 && min > max) {
      Refuse(path, "minItems " + std::to_string(min) + " is above maxItems " + std::to_string(max) +
                       ": nothing can satisfy it");
    }
    const std::string items_path = Child(path, "items");
    const auto item = [&] { return Value(schema["items"], items_path, depth + 1); };
    if (max == 0) return nfa_.Literal("[]");
    const NfaFragment list =
        nfa_.Sequence({item(), nfa_.Repeat(
                                   [&] {
                                     return nfa_.Sequence({nfa_.Literal(","), item()});
                                   },
                                   std::max(min - 1, 0), max < 0 ? -1 : max - 1)});
    return nfa_.Sequence(
        {nfa_.Literal("["), min == 0 ? nfa_.Optional(list) : list, nfa_.Literal("]")});
  }

  NfaFragment String(const Json& schema, const std::string& path) {
    const int min = Count(schema, "minLength", 0, path);
    const int max = Count(schema, "maxLength", -1, path);
    if (max >= 0 && min > max) {
      Refuse(path, "minLength " + std::to_string(min) + " is above maxLength " +
                       std::to_string(max) + ": nothing can satisfy it");
    }
    return JsonString(nfa_, min, max);
  }

  NfaFragment Integer(const Json& schema, const std::string& path) {
    int64_t low = std::numeric_limits<int64_t>::min();
    int64_t high = std::numeric_limits<int64_t>::max();
    Bound(schema, "minimum", path, +1, false, &low);
    Bound(schema, "exclusiveMinimum", path, +1, true, &low);
    Bound(schema, "maximum", path, -1, false, &high);
    Bound(schema, "exclusiveMaximum", path, -1, true, &high);
    if (low > high) {
      Refuse(path, "no integer lies between the lower bound " + std::to_string(low) +
                       " and the upper bound " + std::to_string(high));
    }
    return JsonIntegerRange(nfa_, low, high);
  }

  // Tightens *bound by the keyword: direction +1 for lower bounds, -1 for
  // upper ones; exclusive bounds exclude their own value. Integers are
  // written within int64: a lower bound above it, or an upper one below it,
  // leaves nothing.
  static void Bound(const Json& schema, const char* keyword, const std::string& path, int direction,
                    bool exclusive, int64_t* bound) {
    if (!schema.contains(keyword)) return;
    const Json& value = schema[keyword];
    const std::string where = Child(path, keyword);
    if (!value.is_number() || !std::isfinite(value.get<double>())) {
      Refuse(where, "must be a finite number, got " + value.dump());
    }
    const auto out_of_range = [&] {
      Refuse(where, value.dump() + " leaves no integer in the range this compiler writes (" +
                        std::to_string(std::numeric_limits<int64_t>::min()) + " to " +
                        std::to_string(std::numeric_limits<int64_t>::max()) + ")");
    };
    int64_t candidate;
    if (value.is_number_unsigned() && value.get<uint64_t>() > INT64_MAX) {
      if (direction > 0) out_of_range();
      candidate = std::numeric_limits<int64_t>::max();
    } else if (value.is_number_integer() && !exclusive) {
      candidate = value.get<int64_t>();
    } else {
      const double limit = value.get<double>();
      double integer = direction > 0 ? std::ceil(limit) : std::floor(limit);
      if (exclusive && integer == limit) integer += direction;
      constexpr double kTwoTo63 = 9223372036854775808.0;
      if (integer >= kTwoTo63) {
        if (direction > 0) out_of_range();
        candidate = std::numeric_limits<int64_t>::max();
      } else if (integer < -kTwoTo63) {
        if (direction < 0) out_of_range();
        candidate = std::numeric_limits<int64_t>::min();
      } else {
        candidate = static_cast<int64_t>(integer);
      }
    }
    *bound = direction > 0 ? std::max(*bound, candidate) : std::min(*bound, candidate);
  }

  ByteNfa& nfa_;
  const GrammarLimits& limits_;
};

}  // namespace

NfaFragment JsonSchemaNfa(std::string_view schema_text, ByteNfa& nfa, const GrammarLimits& limits) {
  Json schema;
  // Refused while parsing, before a deep document exists: writing or
  // destroying one recursively could overflow the stack.
  const auto nesting_limit = [&limits](int depth, Json::parse_event_t, Json&) {
    if (depth > limits.max_json_nesting) {
      throw ConstraintError("$: the schema nests JSON more than " +
                            std::to_string(limits.max_json_nesting) + " levels deep");
    }
    return true;
  };
  try {
    schema = Json::parse(schema_text, nesting_limit);
  } catch (const Json::parse_error& e) {
    throw ConstraintError(std::string("$: the schema is not valid JSON (") + e.what() + ")");
  }
  return SchemaCompiler(nfa, limits).Value(schema, "$", 0);
}

}  // namespace auroraedge::model::constrained
