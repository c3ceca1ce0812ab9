#pragma once

// Checks run on each real vocabulary (the demo's and Qwen's): the same
// properties, different tokenizations.

#include <memory>

#include "auroraedge/model/tokenizer.h"
#include "test_support.h"

namespace auroraedge::model::constrained::testing {

// A schema that uses every supported keyword: nested objects, optional
// properties, bounded and unbounded strings, integers either side of zero,
// arrays of enums, booleans and null.
extern const char kRichSchema[];

// Every demo record (the record schema's whole finite language).
std::vector<std::string> AllDemoRecords();

// Seeded random walks through the demo record schema: at every step the mask
// is exactly the set of tokens that keep the output a prefix of some record
// (and eos exactly at a whole record).
void CheckRecordMasksAgainstEveryRecord(const std::shared_ptr<const TokenVocabulary>& vocabulary,
                                        int walks);

// Each record as the tokenizer encodes it is allowed token by token and
// ends complete: the model's own spelling is never masked.
void CheckTokenizedRecordsAreAllowed(const Tokenizer& tokenizer,
                                     const std::shared_ptr<const TokenVocabulary>& vocabulary);

// Seeded random walks through kRichSchema: every output parses and
// validates (valijson); replayed, eos was allowed at every prefix that is
// already a whole valid compact document.
void CheckRichSchemaWalks(const std::shared_ptr<const TokenVocabulary>& vocabulary, int walks,
                          int random_steps);

}  // namespace auroraedge::model::constrained::testing
