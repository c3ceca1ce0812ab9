#include "auroraedge/model/stop_string_matcher.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using auroraedge::model::StopStringMatcher;

namespace {

struct Outcome {
  std::string text;
  bool stopped = false;
};

Outcome Feed(StopStringMatcher& matcher, const std::vector<std::string>& pieces) {
  Outcome outcome;
  for (const std::string& piece : pieces) {
    const StopStringMatcher::Result result = matcher.Push(piece);
    outcome.text += result.text;
    if (result.stopped) {
      outcome.stopped = true;
      return outcome;
    }
  }
  outcome.text += matcher.Flush();
  return outcome;
}

}  // namespace

TEST_CASE("Stop strings: found across token boundaries and not emitted") {
  StopStringMatcher matcher({"END"});
  const Outcome outcome = Feed(matcher, {"part ok", " E", "N", "D and more"});
  CHECK(outcome.stopped);
  CHECK(outcome.text == "part ok ");
}

TEST_CASE("Stop strings: text that might start a stop string is held back, then released") {
  StopStringMatcher matcher({"###"});
  auto result = matcher.Push("a #");
  CHECK(result.text == "a ");
  result = matcher.Push("#");
  CHECK(result.text.empty());
  result = matcher.Push("b");
  CHECK(result.text == "##b");
  CHECK_FALSE(result.stopped);
}

TEST_CASE("Stop strings: held-back text comes out on flush when the stream ends otherwise") {
  StopStringMatcher matcher({"stop here"});
  CHECK(matcher.Push("done, stop").text == "done, ");
  CHECK(matcher.Flush() == "stop");
}

TEST_CASE("Stop strings: the earliest of several wins") {
  StopStringMatcher matcher({"cd", "b"});
  const Outcome outcome = Feed(matcher, {"abcd"});
  CHECK(outcome.stopped);
  CHECK(outcome.text == "a");
}

TEST_CASE("Stop strings: nothing is pushed through after a stop") {
  StopStringMatcher matcher({"x"});
  CHECK(matcher.Push("ax").stopped);
  CHECK(matcher.Push("more").text.empty());
}

TEST_CASE("Stop strings: without stop strings everything passes at once") {
  StopStringMatcher matcher({});
  CHECK(matcher.Push("abc").text == "abc");
}

TEST_CASE("Stop strings: multi-byte characters are never split") {
  StopStringMatcher matcher({"\xC3\xA9t\xC3\xA9"});  // "été"
  const auto result = matcher.Push("caf\xC3\xA9");   // "café": "é" might start "été"
  CHECK(result.text == "caf");
  const Outcome outcome = Feed(matcher, {"t\xC3\xA9!"});
  CHECK(outcome.stopped);
}

TEST_CASE("Stop strings: bad stop strings are refused, naming the entry") {
  CHECK_THROWS_WITH(StopStringMatcher({"ok", ""}), Catch::Contains("stop[1]"));
  CHECK_THROWS_WITH(StopStringMatcher({"\xA9"}),
                    Catch::Contains("stop[0]") && Catch::Contains("UTF-8"));
  CHECK_THROWS_WITH(StopStringMatcher({std::string(257, 'a')}), Catch::Contains("256"));
  CHECK_THROWS_WITH(StopStringMatcher(std::vector<std::string>(17, "a")),
                    Catch::Contains("at most 16"));
}
