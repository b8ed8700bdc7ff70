#version 450
// The router of a mixture-of-experts layer, one invocation per token: probabilities by softmax
// or sigmoid of the logits, the k experts of highest probability + bias (ties: lower index),
// their probabilities as weights (normalized to sum 1 when asked, then scaled). Up to 256 experts.
layout(local_size_x = 64) in;
layout(binding = 0) readonly buffer L { float logits[]; };
layout(binding = 1) readonly buffer B { float bias[]; };
layout(binding = 2) writeonly buffer I { int ids[]; };
layout(binding = 3) buffer Wt { float weights[]; };
layout(push_constant) uniform P { uint n_tok, n_expert, k, sigmoid, normalize, has_bias; float scale; } p;
void main() {
  const uint t = gl_GlobalInvocationID.x;
  if (t >= p.n_tok) return;
  float prob[256];
  const uint base = t * p.n_expert;
  float mx = logits[base];
  for (uint e = 1; e < p.n_expert; ++e) mx = max(mx, logits[base + e]);
  float sum = 0.0;
  for (uint e = 0; e < p.n_expert; ++e) {
    prob[e] = p.sigmoid != 0 ? 1.0 / (1.0 + exp(-logits[base + e])) : exp(logits[base + e] - mx);
    sum += prob[e];
  }
  if (p.sigmoid == 0) {
    for (uint e = 0; e < p.n_expert; ++e) prob[e] /= sum;
  }
  uint taken[8] = uint[8](0, 0, 0, 0, 0, 0, 0, 0);  // bit set of chosen experts
  float wsum = 0.0;
  for (uint j = 0; j < p.k; ++j) {
    int best = -1;
    float best_score = 0.0;
    for (uint e = 0; e < p.n_expert; ++e) {
      if ((taken[e / 32] & (1u << (e % 32))) != 0) continue;
      const float s = prob[e] + (p.has_bias != 0 ? bias[e] : 0.0);
      if (best < 0 || s > best_score) {
        best = int(e);
        best_score = s;
      }
    }
    taken[best / 32] |= 1u << (best % 32);
    ids[t * p.k + j] = best;
    weights[t * p.k + j] = prob[best];
    wsum += prob[best];
  }
  for (uint j = 0; j < p.k; ++j) {
    float w = weights[t * p.k + j];
    if (p.normalize != 0) w /= wsum;
    weights[t * p.k + j] = w * p.scale;
  }
}
