// What both passes of top_logits share (the includer declares `logits`, the row's float bits).
const uint NEG_INF = 0xff800000u;

// The logit's bits with NaN read as -inf (as the sampler reads it).
uint logit_bits(uint i) {
  const uint u = logits[i];
  return (u & 0x7fffffffu) > 0x7f800000u ? NEG_INF : u;
}

// Larger float, larger key (unsigned); -0 and +0 get one key, so they tie and order by id. The
// smallest key a logit gets is -inf's, 0x007fffff: key 0 is free to mark an empty place.
uint key_of(uint u) {
  if ((u & 0x7fffffffu) == 0u) u = 0u;
  return (u & 0x80000000u) != 0u ? ~u : (u | 0x80000000u);
}
