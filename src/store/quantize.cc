#include "store/quantize.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>

#include "gguf/gguf_writer.h"
#include "quant/type_traits.h"
#include "util/cpu_features.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace hearth::store {

using gguf::GgmlType;

namespace {

struct FtypeInfo {
  FileType ftype;
  const char* name;
  GgmlType default_type;
};

const FtypeInfo kFtypes[] = {
    {FileType::ALL_F32, "F32", GgmlType::F32},
    {FileType::MOSTLY_F16, "F16", GgmlType::F16},
    {FileType::MOSTLY_BF16, "BF16", GgmlType::BF16},
    {FileType::MOSTLY_Q4_0, "Q4_0", GgmlType::Q4_0},
    {FileType::MOSTLY_Q4_1, "Q4_1", GgmlType::Q4_1},
    {FileType::MOSTLY_Q5_0, "Q5_0", GgmlType::Q5_0},
    {FileType::MOSTLY_Q5_1, "Q5_1", GgmlType::Q5_1},
    {FileType::MOSTLY_Q8_0, "Q8_0", GgmlType::Q8_0},
    {FileType::MOSTLY_Q2_K, "Q2_K", GgmlType::Q2_K},
    {FileType::MOSTLY_Q3_K_S, "Q3_K_S", GgmlType::Q3_K},
    {FileType::MOSTLY_Q3_K_M, "Q3_K_M", GgmlType::Q3_K},
    {FileType::MOSTLY_Q3_K_L, "Q3_K_L", GgmlType::Q3_K},
    {FileType::MOSTLY_Q4_K_S, "Q4_K_S", GgmlType::Q4_K},
    {FileType::MOSTLY_Q4_K_M, "Q4_K_M", GgmlType::Q4_K},
    {FileType::MOSTLY_Q5_K_S, "Q5_K_S", GgmlType::Q5_K},
    {FileType::MOSTLY_Q5_K_M, "Q5_K_M", GgmlType::Q5_K},
    {FileType::MOSTLY_Q6_K, "Q6_K", GgmlType::Q6_K},
    {FileType::MOSTLY_MXFP4_MOE, "MXFP4", GgmlType::Q8_0},  // llama.cpp: MXFP4_MOE; named as Ollama shows it
};

const FtypeInfo& info(FileType f) {
  for (const auto& i : kFtypes) {
    if (i.ftype == f) return i;
  }
  throw Error(ErrorCode::internal, "unknown file type");
}

std::string upper(std::string_view s) {
  std::string o(s);
  for (auto& c : o) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return o;
}

bool is_float_type(GgmlType t) {
  return t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16;
}

int64_t block_of(GgmlType t) { return gguf::type_geometry(t)->block_elems; }

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

int layer_of(const std::string& name) {
  int l = -1;
  if (std::sscanf(name.c_str(), "blk.%d.", &l) != 1) return -1;
  return l;
}

// llama.cpp's tensor order (llama_model_loader::weight_name_comparer): by layer (non-layer
// tensors first), then by name. The recipe's per-layer counters walk tensors in this order.
std::vector<size_t> recipe_order(const gguf::File& src) {
  std::vector<size_t> idx(src.tensors().size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    const auto& na = src.tensors()[a].name;
    const auto& nb = src.tensors()[b].name;
    int la = layer_of(na), lb = layer_of(nb);
    if (la != lb) return la < lb;
    return na < nb;
  });
  return idx;
}

bool should_quantize(const gguf::TensorInfo& t) {
  const std::string& n = t.name;
  if (n.size() < 6 || n.compare(n.size() - 6, 6, "weight") != 0) return false;
  if (t.n_dims < 2) return false;
  if (contains(n, "_norm.weight")) return false;
  if (contains(n, "ffn_gate_inp.weight")) return false;
  if (n == "position_embd.weight" || n == "token_types.weight") return false;
  if (contains(n, "ssm_conv1d.weight") || contains(n, "time_mix_first.weight") ||
      contains(n, "time_mix_w1.weight") || contains(n, "time_mix_w2.weight") ||
      contains(n, "time_mix_decay_w1.weight") || contains(n, "time_mix_decay_w2.weight") ||
      contains(n, "time_mix_lerp_fused.weight") || contains(n, "attn_rel_b.weight")) {
    return false;
  }
  return true;
}

struct RecipeState {
  std::string arch;
  int n_layer = 0;
  int n_expert = 1;
  int n_gqa = 1;
  bool is_70b = false;  // llama.cpp's LLM_TYPE_70B: attn_v gets Q5_K instead of Q3_K/Q4_K
  bool has_output = false;
  int n_attention_wv = 0;
  int i_attention_wv = 0;
  int i_ffn_down = 0;
};

bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

GgmlType recipe_type(RecipeState& qs, GgmlType t, const gguf::TensorInfo& tensor, FileType f) {
  const std::string& name = tensor.name;
  const bool falcon = qs.arch == "falcon";
  if (f == FileType::MOSTLY_MXFP4_MOE) {  // llama.cpp's rule: stacks of experts MXFP4, all else Q8_0
    t = tensor.n_dims == 3 && tensor.ne[2] > 1 ? GgmlType::MXFP4 : GgmlType::Q8_0;
    return tensor.ne[0] % block_of(t) == 0 ? t : GgmlType::F16;
  }
  if (name == "output.weight" || (!qs.has_output && name == "token_embd.weight")) {
    if (falcon || tensor.ne[0] % block_of(t) != 0) {
      t = GgmlType::Q8_0;
    } else if (t != GgmlType::Q8_0) {
      t = GgmlType::Q6_K;
    }
  } else if (name == "token_embd.weight") {
    // Only the IQ and TQ recipes change it; we have neither.
  } else if (contains(name, "attn_v.weight")) {
    if (f == FileType::MOSTLY_Q2_K) {
      t = qs.n_gqa >= 4 ? GgmlType::Q4_K : GgmlType::Q3_K;
    } else if (f == FileType::MOSTLY_Q3_K_M) {
      t = qs.i_attention_wv < 2 ? GgmlType::Q5_K : GgmlType::Q4_K;
    } else if (f == FileType::MOSTLY_Q3_K_L) {
      t = GgmlType::Q5_K;
    } else if ((f == FileType::MOSTLY_Q4_K_M || f == FileType::MOSTLY_Q5_K_M) &&
               use_more_bits(qs.i_attention_wv, qs.n_attention_wv)) {
      t = GgmlType::Q6_K;
    } else if (f == FileType::MOSTLY_Q4_K_S && qs.i_attention_wv < 4) {
      t = GgmlType::Q5_K;
    }
    if (qs.is_70b && (t == GgmlType::Q3_K || t == GgmlType::Q4_K)) t = GgmlType::Q5_K;
    if (qs.n_expert == 8) t = GgmlType::Q8_0;
    ++qs.i_attention_wv;
  } else if (contains(name, "attn_k.weight")) {
    if (qs.n_expert == 8) t = GgmlType::Q8_0;
  } else if (contains(name, "ffn_down")) {
    int i_layer = qs.i_ffn_down, n_layer = qs.n_layer;
    if (qs.n_expert > 1) {
      // Expert tensors are not consecutive per layer: take the layer from the name.
      i_layer = layer_of(name);
      if (i_layer < 0 || i_layer >= n_layer) {
        throw Error(ErrorCode::invalid_argument, "quantize: bad layer for tensor " + name);
      }
    }
    if (f == FileType::MOSTLY_Q2_K) {
      t = GgmlType::Q3_K;
    } else if (f == FileType::MOSTLY_Q3_K_M) {
      t = i_layer < n_layer / 16 ? GgmlType::Q5_K
          : (!falcon || use_more_bits(i_layer, n_layer)) ? GgmlType::Q4_K
                                                          : GgmlType::Q3_K;
    } else if (f == FileType::MOSTLY_Q3_K_L) {
      t = falcon ? GgmlType::Q4_K : GgmlType::Q5_K;
    } else if (f == FileType::MOSTLY_Q4_K_M) {
      if (falcon) {
        t = i_layer < n_layer / 16 ? GgmlType::Q6_K
            : use_more_bits(i_layer, n_layer) ? GgmlType::Q5_K
                                              : GgmlType::Q4_K;
      } else if (use_more_bits(i_layer, n_layer)) {
        t = GgmlType::Q6_K;
      }
    } else if (f == FileType::MOSTLY_Q5_K_M && use_more_bits(i_layer, n_layer)) {
      t = GgmlType::Q6_K;
    } else if (f == FileType::MOSTLY_Q4_K_S && !falcon && i_layer < n_layer / 8) {
      t = GgmlType::Q5_K;
    }
    ++qs.i_ffn_down;
  } else if (contains(name, "attn_output.weight")) {
    if (!falcon) {
      if (qs.n_expert == 8) {
        if (f == FileType::MOSTLY_Q2_K || f == FileType::MOSTLY_Q3_K_S ||
            f == FileType::MOSTLY_Q3_K_M || f == FileType::MOSTLY_Q4_K_S ||
            f == FileType::MOSTLY_Q4_K_M) {
          t = GgmlType::Q5_K;
        }
      } else if (f == FileType::MOSTLY_Q2_K) {
        t = GgmlType::Q3_K;
      } else if (f == FileType::MOSTLY_Q3_K_M) {
        t = GgmlType::Q4_K;
      } else if (f == FileType::MOSTLY_Q3_K_L) {
        t = GgmlType::Q5_K;
      }
    } else if (f == FileType::MOSTLY_Q3_K_L) {
      t = GgmlType::Q4_K;
    }
  } else if (contains(name, "attn_qkv.weight")) {
    if (f == FileType::MOSTLY_Q3_K_M || f == FileType::MOSTLY_Q3_K_L) {
      t = GgmlType::Q4_K;
    } else if (f == FileType::MOSTLY_Q4_K_M) {
      t = GgmlType::Q5_K;
    } else if (f == FileType::MOSTLY_Q5_K_M) {
      t = GgmlType::Q6_K;
    }
  }
  // Rows that are not a whole number of blocks fall back to a format with smaller blocks.
  if (tensor.ne[0] % block_of(t) != 0) {
    switch (t) {
      // llama.cpp uses IQ4_NL here, which Hearth does not implement; Q4_0 has the same block.
      case GgmlType::Q2_K:
      case GgmlType::Q3_K: t = GgmlType::Q4_0; break;
      case GgmlType::Q4_K: t = GgmlType::Q5_0; break;
      case GgmlType::Q5_K: t = GgmlType::Q5_1; break;
      case GgmlType::Q6_K: t = GgmlType::Q8_0; break;
      default: break;
    }
    if (tensor.ne[0] % block_of(t) != 0) t = GgmlType::F16;
  }
  return t;
}

// Source rows per slice: progress is reported (on the calling thread) after each slice, about
// every 32 MiB of source.
constexpr int64_t kSliceBytes = int64_t{32} << 20;

// Re-quantizes all rows of `t` into `dst` (row_bytes(nt, ne[0]) * n_rows bytes). Each row is
// quantized on its own, so the bytes do not depend on how rows are split across threads.
void quantize_rows(const gguf::TensorInfo& t, GgmlType nt, uint8_t* dst, ThreadPool& pool,
                   const std::function<void(uint64_t)>& report) {
  const int64_t n_row = t.ne[0];
  const int64_t rows = t.n_rows();
  const int64_t in_row = gguf::row_bytes(t.type, n_row);
  const int64_t out_row = gguf::row_bytes(nt, n_row);
  const quant::TypeTraits& from = quant::traits(t.type);
  const quant::TypeTraits& to = quant::traits(nt);
  std::vector<std::vector<float>> bufs(static_cast<size_t>(pool.size()),
                                       std::vector<float>(static_cast<size_t>(n_row)));
  const int64_t slice = std::max<int64_t>(1, kSliceBytes / std::max<int64_t>(1, in_row));
  for (int64_t s0 = 0; s0 < rows; s0 += slice) {
    const int64_t s1 = std::min(rows, s0 + slice);
    pool.parallel_for(s1 - s0, 4, [&](int64_t begin, int64_t end, int thread) {
      float* buf = bufs[static_cast<size_t>(thread)].data();
      for (int64_t r = s0 + begin; r < s0 + end; ++r) {
        from.to_float(t.data + r * in_row, buf, n_row);
        to.from_float(buf, dst + r * out_row, n_row);
      }
    });
    report(static_cast<uint64_t>((s1 - s0) * in_row));
  }
}

}  // namespace

std::string file_type_name(uint32_t file_type) {
  for (const auto& i : kFtypes) {
    if (static_cast<uint32_t>(i.ftype) == file_type) return i.name;
  }
  return "unknown";
}

FileType parse_quantization_type(std::string_view text) {
  std::string u = upper(text);
  if (u == "Q4_K") u = "Q4_K_M";
  if (u == "Q5_K") u = "Q5_K_M";
  if (u == "Q3_K") u = "Q3_K_M";
  if (u == "MXFP4_MOE") u = "MXFP4";  // llama.cpp's name
  for (const auto& i : kFtypes) {
    if (u == i.name) return i.ftype;
  }
  // Ollama's text, with our list (Ollama's is F32, F16, Q4_K_S, Q4_K_M, Q8_0).
  std::string names;
  for (const auto& i : kFtypes) names += (names.empty() ? "" : ", ") + std::string(i.name);
  throw Error(ErrorCode::invalid_argument,
              "unsupported quantization type " + std::string(text) + " - supported types are " + names);
}

std::vector<GgmlType> plan_quantization(const gguf::File& src, FileType ftype) {
  const FtypeInfo& fi = info(ftype);
  RecipeState qs;
  qs.arch = src.get_string_or("general.architecture", "");
  const std::string a = qs.arch;
  qs.n_layer = static_cast<int>(src.get_u32_or(a + ".block_count", 0));
  qs.n_expert = std::max<int>(1, static_cast<int>(src.get_u32_or(a + ".expert_count", 0)));
  uint32_t n_head = src.get_u32_or(a + ".attention.head_count", 0);
  uint32_t n_head_kv = src.get_u32_or(a + ".attention.head_count_kv", n_head);
  qs.n_gqa = (n_head_kv > 0 && n_head > 0) ? static_cast<int>(n_head / n_head_kv) : 1;
  // The 80-layer models llama.cpp's loader names 70B (a llama without GQA is its 65B; an
  // 8-expert llama is not sized by layers).
  qs.is_70b = qs.n_layer == 80 && ((a == "llama" && qs.n_expert != 8 && n_head != n_head_kv) ||
                                   a == "deci" || a == "qwen2" || a == "olmo");
  for (const auto& t : src.tensors()) {
    if (contains(t.name, "attn_v.weight") || contains(t.name, "attn_qkv.weight") ||
        contains(t.name, "attn_kv_b.weight")) {
      ++qs.n_attention_wv;
    } else if (t.name == "output.weight") {
      qs.has_output = true;
    }
  }
  std::vector<GgmlType> out(src.tensors().size());
  for (size_t i : recipe_order(src)) {
    const auto& t = src.tensors()[i];
    GgmlType nt = t.type;
    if (should_quantize(t)) {
      nt = fi.default_type;
      if (!is_float_type(fi.default_type)) nt = recipe_type(qs, nt, t, ftype);
      if (nt != t.type && !is_float_type(t.type)) {
        throw Error(ErrorCode::invalid_argument,
                    "quantization is only supported for F16, BF16 and F32 models");
      }
      if (!quant::is_supported(nt) || t.ne[0] % block_of(nt) != 0) {
        throw Error(ErrorCode::unsupported, "cannot quantize tensor " + t.name + " to " +
                                                gguf::type_name(nt));
      }
    }
    out[i] = nt;
  }
  return out;
}

void quantize_gguf(const gguf::File& src, FileType ftype, const std::string& out_path,
                   const std::function<void(uint64_t, uint64_t)>& progress, int n_threads) {
  std::vector<GgmlType> plan = plan_quantization(src, ftype);
  gguf::Writer w;
  for (const auto& [key, value] : src.metadata()) {
    if (key == "general.alignment") continue;
    w.set(key, value);
  }
  if (src.alignment() != gguf::kDefaultAlignment) w.set_alignment(static_cast<uint32_t>(src.alignment()));
  w.set_u32("general.quantization_version", 2);
  w.set_u32("general.file_type", static_cast<uint32_t>(ftype));

  uint64_t total = 0;
  for (const auto& t : src.tensors()) total += t.n_bytes;
  // A pool of our own, not the process-wide one: that pool is not reentrant, and in the server a
  // create runs while loaded models compute on it.
  auto pool = std::make_shared<ThreadPool>(n_threads > 0 ? n_threads : cpu_physical_cores());
  auto done = std::make_shared<uint64_t>(0);
  auto report = [progress, done, total](uint64_t bytes) {
    *done += bytes;
    if (progress) progress(*done, total);
  };
  // Every tensor is produced while write() streams the file, so memory holds about one output
  // tensor (the writer's buffer) plus a row of floats per thread.
  for (size_t i : recipe_order(src)) {
    const gguf::TensorInfo& t = src.tensors()[i];
    std::vector<int64_t> ne(t.ne, t.ne + t.n_dims);
    const GgmlType nt = plan[i];
    const size_t out_bytes =
        nt == t.type ? t.n_bytes : static_cast<size_t>(gguf::row_bytes(nt, t.ne[0]) * t.n_rows());
    w.add_tensor_generated(t.name, nt, ne, out_bytes, [&t, nt, pool, report](uint8_t* dst) {
      if (nt == t.type) {
        std::memcpy(dst, t.data, t.n_bytes);
        report(t.n_bytes);
        return;
      }
      quantize_rows(t, nt, dst, *pool, report);
    });
  }
  w.write(out_path);
}

}  // namespace hearth::store
