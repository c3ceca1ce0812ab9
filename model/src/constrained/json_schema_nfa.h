#pragma once

#include <string_view>

#include "auroraedge/model/constrained_grammar.h"
#include "byte_nfa.h"

namespace auroraedge::model::constrained {

// The compact JSON texts that satisfy `schema_text` (the subset described in
// README.md), as a fragment of `nfa`. Throws ConstraintError naming the JSON
// path and keyword of whatever is unsupported or unsatisfiable.
NfaFragment JsonSchemaNfa(std::string_view schema_text, ByteNfa& nfa, const GrammarLimits& limits);

}  // namespace auroraedge::model::constrained
