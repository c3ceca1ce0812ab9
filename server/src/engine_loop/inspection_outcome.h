#pragma once

// An inspection's answer from its labels' log-probabilities: each label's
// probability (softmax over the labels' sequence log-probabilities, so the
// probabilities of a closed set of answers sum to 1), the most probable
// label, and the decision rule's verdict. Plain arithmetic, no model.

#include <vector>

#include "auroraedge/server/inspection.h"
#include "request_preparation.h"

namespace auroraedge::server {

// `logprobs`: one per label of `inspection`, in its order. Fills the
// result's scores, chosen label and decision; leaves the rest alone.
void ScoreInspection(const PreparedInspection& inspection, const std::vector<double>& logprobs,
                     InspectionResult& result);

// The rule's verdict on a probability: kOk below ok_below, kNg from ng_from
// on, kUnknown in between.
Decision Decide(const DecisionRule& rule, double probability);

}  // namespace auroraedge::server
