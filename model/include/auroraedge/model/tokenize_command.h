#pragma once

// The bodies of `auroraedge-cli tokenize` and `auroraedge-cli detokenize`,
// kept here so that they are tested without the CLI around them.

#include <iosfwd>
#include <string>

namespace auroraedge::model {

// Reads UTF-8 lines from `in` (split at '\n' only; the '\n' is not part of
// the line) and writes one compact JSON array of ids per line to `out`, e.g.
// "[9707,11,1879]". Special-token text is recognised only with allow_special
// (as in prompts). Returns 0 on success, 1 at the first line that is not
// valid UTF-8 (an error naming the line and byte goes to `err`, the lines
// before it are written), 2 when the tokenizer cannot be loaded.
int RunTokenizeCommand(const std::string& tokenizer_path, bool allow_special, std::istream& in,
                       std::ostream& out, std::ostream& err);

// The reverse: reads one JSON array of ids per line and writes the decoded
// text followed by '\n' per line (special tokens shown unless skip_special).
// Returns 0 on success, 1 at the first line that is not a JSON array of ids
// in [0, vocab size) (an error naming the line goes to `err`), 2 when the
// tokenizer cannot be loaded.
int RunDetokenizeCommand(const std::string& tokenizer_path, bool skip_special, std::istream& in,
                         std::ostream& out, std::ostream& err);

}  // namespace auroraedge::model
