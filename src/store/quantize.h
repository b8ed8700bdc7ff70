#pragma once
// Re-quantization of an F32/F16/BF16 GGUF at create time (`hearth create -q q4_K_M`), with the
// per-tensor format mix of llama.cpp's recipes (src/llama-quant.cpp, llama_tensor_get_type): e.g.
// Q4_K_M keeps output.weight in Q6_K and gives attn_v / ffn_down Q6_K on the "more bits" layers.
// The blocks come from our own quantizers (quant::traits(t).from_float).

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/ggml_type.h"
#include "gguf/gguf_file.h"

namespace hearth::store {

// llama.cpp's llama_ftype numbers (also general.file_type in GGUF).
enum class FileType : uint32_t {
  ALL_F32 = 0, MOSTLY_F16 = 1, MOSTLY_Q4_0 = 2, MOSTLY_Q4_1 = 3, MOSTLY_Q8_0 = 7,
  MOSTLY_Q5_0 = 8, MOSTLY_Q5_1 = 9, MOSTLY_Q2_K = 10, MOSTLY_Q3_K_S = 11, MOSTLY_Q3_K_M = 12,
  MOSTLY_Q3_K_L = 13, MOSTLY_Q4_K_S = 14, MOSTLY_Q4_K_M = 15, MOSTLY_Q5_K_S = 16,
  MOSTLY_Q5_K_M = 17, MOSTLY_Q6_K = 18, MOSTLY_BF16 = 32,
  MOSTLY_MXFP4_MOE = 38,  // expert stacks MXFP4, every other quantized tensor Q8_0 (gpt-oss)
};

// "Q4_K_M", "F16", ...; "unknown" for other ids.
std::string file_type_name(uint32_t file_type);

// Accepts the names above case-insensitively, plus "q4_K" (= Q4_K_M), "q5_K" (= Q5_K_M),
// "q3_K" (= Q3_K_M). Throws Error(invalid_argument, "unsupported quantization type X - supported
// types are ...").
FileType parse_quantization_type(std::string_view text);

// The type each tensor gets (file order), by the recipe. Tensors that stay as they are keep their
// own type. Throws Error(invalid_argument, "quantization is only supported for F16, BF16 and F32
// models") if a tensor to be quantized is already quantized.
std::vector<gguf::GgmlType> plan_quantization(const gguf::File& src, FileType ftype);

// Writes the re-quantized model to `out_path` (atomically). Metadata is copied, with
// general.file_type and general.quantization_version set; tensors are written in llama.cpp's
// order (by layer, then name). progress(done, total) counts source tensor bytes; it is called on
// the calling thread and may throw to cancel (the temp file is removed). Tensors are quantized
// while the file is written (memory: about one output tensor), rows in parallel on n_threads
// threads (0 = physical cores) of a pool of its own; the bytes do not depend on n_threads.
void quantize_gguf(const gguf::File& src, FileType ftype, const std::string& out_path,
                   const std::function<void(uint64_t done, uint64_t total)>& progress,
                   int n_threads = 0);

}  // namespace hearth::store
