#include "gguf/ggml_type.h"

namespace hearth::gguf {

const TypeGeometry* type_geometry(uint32_t id) {
  static const TypeGeometry kF32{"f32", 1, 4}, kF16{"f16", 1, 2}, kQ4_0{"q4_0", 32, 18},
      kQ4_1{"q4_1", 32, 20}, kQ5_0{"q5_0", 32, 22}, kQ5_1{"q5_1", 32, 24}, kQ8_0{"q8_0", 32, 34},
      kQ8_1{"q8_1", 32, 36}, kQ2_K{"q2_K", 256, 84}, kQ3_K{"q3_K", 256, 110},
      kQ4_K{"q4_K", 256, 144}, kQ5_K{"q5_K", 256, 176}, kQ6_K{"q6_K", 256, 210},
      kQ8_K{"q8_K", 256, 292}, kI8{"i8", 1, 1}, kI16{"i16", 1, 2}, kI32{"i32", 1, 4},
      kI64{"i64", 1, 8}, kF64{"f64", 1, 8}, kBF16{"bf16", 1, 2}, kMXFP4{"mxfp4", 32, 17},
      kMXFP4Openai{"mxfp4 (OpenAI's code order)", 32, 17};
  // Id 4 (ggml's Q4_2, removed before GGUF existed) in GGUF files is Ollama's first MXFP4 (its
  // gpt-oss files of August 2025): ggml's blocks with the codes in OpenAI's order. The model
  // loader reorders them (model/weights.cc); nothing computes with this type directly.
  if (id == 4) return &kMXFP4Openai;
  switch (static_cast<GgmlType>(id)) {
    case GgmlType::F32: return &kF32;
    case GgmlType::F16: return &kF16;
    case GgmlType::Q4_0: return &kQ4_0;
    case GgmlType::Q4_1: return &kQ4_1;
    case GgmlType::Q5_0: return &kQ5_0;
    case GgmlType::Q5_1: return &kQ5_1;
    case GgmlType::Q8_0: return &kQ8_0;
    case GgmlType::Q8_1: return &kQ8_1;
    case GgmlType::Q2_K: return &kQ2_K;
    case GgmlType::Q3_K: return &kQ3_K;
    case GgmlType::Q4_K: return &kQ4_K;
    case GgmlType::Q5_K: return &kQ5_K;
    case GgmlType::Q6_K: return &kQ6_K;
    case GgmlType::Q8_K: return &kQ8_K;
    case GgmlType::I8: return &kI8;
    case GgmlType::I16: return &kI16;
    case GgmlType::I32: return &kI32;
    case GgmlType::I64: return &kI64;
    case GgmlType::F64: return &kF64;
    case GgmlType::BF16: return &kBF16;
    case GgmlType::MXFP4: return &kMXFP4;
  }
  return nullptr;
}

const char* type_name(GgmlType t) {
  const TypeGeometry* g = type_geometry(t);
  return g != nullptr ? g->name : "unknown";
}

}  // namespace hearth::gguf
