#version 450
// The router of a mixture-of-experts layer, one invocation per token: probabilities by softmax
// or sigmoid of the logits, the k experts of highest probability + bias (ties: lower index),
// their probabilities as weights (normalized to sum 1 when asked, then scaled). Up to 256 experts.
// func (ops::GatingFunc): 0 softmax, 1 sigmoid, 2 softmax of the chosen (gpt-oss): the logits
// themselves choose, and the weights are a softmax over the k chosen logits only.
// Group-limited (n_group_used < n_group, up to 32 groups): only experts of the n_group_used best
// groups compete, a group scored by its best member's probability + bias, or with sigmoid gating
// by its best two summed (ops/moe.h).
layout(local_size_x = 64) in;
layout(binding = 0) readonly buffer L { float logits[]; };
layout(binding = 1) readonly buffer B { float bias[]; };
layout(binding = 2) writeonly buffer I { int ids[]; };
layout(binding = 3) buffer Wt { float weights[]; };
layout(push_constant) uniform P {
  uint n_tok, n_expert, k, func, normalize, has_bias;
  float scale;
  uint n_group, n_group_used;
} p;
void main() {
  const uint t = gl_GlobalInvocationID.x;
  if (t >= p.n_tok) return;
  float prob[256];
  const uint base = t * p.n_expert;
  float mx = logits[base];
  for (uint e = 1; e < p.n_expert; ++e) mx = max(mx, logits[base + e]);
  float sum = 0.0;
  for (uint e = 0; e < p.n_expert; ++e) {
    const float l = logits[base + e];
    prob[e] = p.func == 1 ? 1.0 / (1.0 + exp(-l)) : p.func == 2 ? l : exp(l - mx);
    sum += prob[e];
  }
  if (p.func == 0) {
    for (uint e = 0; e < p.n_expert; ++e) prob[e] /= sum;
  }
  uint taken[8] = uint[8](0, 0, 0, 0, 0, 0, 0, 0);  // bit set of chosen (or excluded) experts
  if (p.n_group > 1 && p.n_group_used < p.n_group) {
    const uint per = p.n_expert / p.n_group;
    float gscore[32];
    for (uint g = 0; g < p.n_group; ++g) {
      float best = -1e30, second = -1e30;
      for (uint i = 0; i < per; ++i) {
        const uint e = g * per + i;
        const float s = prob[e] + (p.has_bias != 0 ? bias[e] : 0.0);
        if (s > best) {
          second = best;
          best = s;
        } else if (s > second) {
          second = s;
        }
      }
      gscore[g] = p.func == 1 && per > 1 ? best + second : best;
    }
    uint kept = 0;  // bit set of the groups that compete
    for (uint j = 0; j < p.n_group_used; ++j) {
      int bg = -1;
      for (uint g = 0; g < p.n_group; ++g) {
        if ((kept & (1u << g)) == 0 && (bg < 0 || gscore[g] > gscore[bg])) bg = int(g);
      }
      kept |= 1u << uint(bg);
    }
    for (uint e = 0; e < p.n_expert; ++e) {
      if ((kept & (1u << (e / per))) == 0) taken[e / 32] |= 1u << (e % 32);
    }
  }
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
  if (p.func == 2) {  // (a selection bias may order the chosen otherwise than their logits)
    float top = weights[t * p.k];
    for (uint j = 1; j < p.k; ++j) top = max(top, weights[t * p.k + j]);
    float chosen = 0.0;
    for (uint j = 0; j < p.k; ++j) {
      const float w = exp(weights[t * p.k + j] - top);
      weights[t * p.k + j] = w;
      chosen += w;
    }
    wsum = 0.0;
    for (uint j = 0; j < p.k; ++j) {
      const float w = weights[t * p.k + j] / chosen;
      weights[t * p.k + j] = w;
      wsum += w;
    }
  }
  for (uint j = 0; j < p.k; ++j) {
    float w = weights[t * p.k + j];
    if (p.normalize != 0) w /= wsum;
    weights[t * p.k + j] = w * p.scale;
  }
}
