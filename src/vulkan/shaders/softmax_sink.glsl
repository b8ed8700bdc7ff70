// What an attention row's unnormalized output is multiplied by: 1 / its softmax denominator, from
// the running max m and sum l (of e^(s - m) over its keys), with the head's sink logit joining the
// denominator (gpt-oss; has_sink 0: none), as ops::attn_inverse_denominator. No keys (l = 0): 0.
// A sink above every score is factored out, e^(m - sink) <= 1, so e^(sink - m) never overflows.
float inverse_denominator(float m, float l, bool has_sink, float sink) {
  if (!(l > 0.0)) return 0.0;
  if (!has_sink) return 1.0 / l;
  if (sink <= m) return 1.0 / (l + exp(sink - m));
  const float a = exp(m - sink);
  return a / (l * a + 1.0);
}
