#include "model/weights.h"

#include <algorithm>

#include "ops/matmul.h"
#include "quant/type_traits.h"
#include "util/check.h"
#include "util/error.h"

namespace hearth::model {

namespace {
// A backend's refusal of a weight (a type its kernels lack, memory it cannot get) names the
// file and the tensor: the backend sees only bytes.
ops::Backend::Upload upload_named(ops::Backend& be, const gguf::File& file, const std::string& name,
                                  gguf::GgmlType type, const int64_t ne[3], int64_t row_bytes,
                                  const uint8_t* data, ops::Backend::WeightUse use) {
  try {
    return be.upload_weight(type, ne, row_bytes, data, use);
  } catch (const Error& e) {
    throw e.with_context(file.path() + ": tensor '" + name + "'");
  }
}

// GGUF type id 4: Ollama's first MXFP4 (gguf/ggml_type.cc). Each block is ggml's (an E8M0 scale
// byte, then 16 bytes of 4-bit codes), but byte k holds codes 2k (low nibble) and 2k + 1 (high),
// OpenAI's order, where ggml's byte j holds codes j and j + 16 (the reordering Ollama's engine did
// while loading; llama.cpp's converter does it when writing).
constexpr uint32_t kOllamaMxfp4 = 4;

bool is_ollama_mxfp4(gguf::GgmlType t) { return static_cast<uint32_t>(t) == kOllamaMxfp4; }

void reorder_openai_mxfp4(uint8_t* blocks, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    uint8_t* q = blocks + b * 17 + 1;
    uint8_t out[16];
    for (int i = 0; i < 8; ++i) {
      const uint8_t lo = q[i], hi = q[i + 8];  // codes 2i, 2i+1 and 2i+16, 2i+17
      out[2 * i] = static_cast<uint8_t>((lo & 0x0F) | (hi << 4));      // codes 2i, 2i+16
      out[2 * i + 1] = static_cast<uint8_t>((lo >> 4) | (hi & 0xF0));  // codes 2i+1, 2i+17
    }
    std::copy(out, out + 16, q);
  }
}

std::string shape(const int64_t ne[3]) {
  std::string s = "[" + std::to_string(ne[0]) + ", " + std::to_string(ne[1]);
  if (ne[2] != 1) s += ", " + std::to_string(ne[2]);
  return s + "]";
}
}  // namespace

const gguf::TensorInfo& WeightLoader::tensor(const std::string& name) const {
  const gguf::TensorInfo* t = file_.find_tensor(name);
  if (t == nullptr) {
    throw Error(ErrorCode::corrupt, file_.path() + ": missing tensor '" + name + "'");
  }
  return *t;
}

int64_t WeightLoader::check(const std::string& name, const int64_t ne[3], bool reorderable) const {
  const gguf::TensorInfo& t = tensor(name);
  const gguf::GgmlType type = reorderable && is_ollama_mxfp4(t.type) ? gguf::GgmlType::MXFP4 : t.type;
  const bool same = t.ne[0] == ne[0] && t.ne[1] == ne[1] && (t.n_dims < 3 ? 1 : t.ne[2]) == ne[2] &&
                    t.n_dims <= (ne[2] == 1 ? 2 : 3);
  if (!same) {
    throw Error(ErrorCode::corrupt, file_.path() + ": tensor '" + name + "' has shape " +
                                        t.shape_string() + ", expected " + shape(ne));
  }
  if (!ops::matmul_supports(type)) {
    throw Error(ErrorCode::unsupported, file_.path() + ": tensor '" + name + "' has type " +
                                            gguf::type_name(t.type) +
                                            ", which Hearth cannot compute with");
  }
  const quant::TypeTraits& tr = quant::traits(type);
  if (ne[0] % tr.block_elems != 0) {
    throw Error(ErrorCode::corrupt, file_.path() + ": tensor '" + name + "' rows of " +
                                        std::to_string(ne[0]) + " are not whole " +
                                        gguf::type_name(type) + " blocks");
  }
  const int64_t row_bytes = ne[0] / tr.block_elems * tr.block_bytes;
  if (static_cast<uint64_t>(row_bytes * ne[1] * ne[2]) > t.n_bytes) {
    throw Error(ErrorCode::corrupt, file_.path() + ": tensor '" + name + "' data is truncated");
  }
  return row_bytes;
}

ops::Tensor WeightLoader::upload(ops::Backend& be, const std::string& name, const int64_t ne[3],
                                 Use use) const {
  const int64_t row_bytes = check(name, ne);
  const gguf::TensorInfo& t = tensor(name);
  ops::Backend::Upload up = upload_named(be, file_, name, t.type, ne, row_bytes, t.data, use);
  if (up.copied) file_.release_pages(t.data, static_cast<size_t>(row_bytes * ne[1] * ne[2]));
  return up.tensor;
}

ops::Tensor WeightLoader::matrix_rows(ops::Backend& be, const std::string& name, int64_t n_cols,
                                      int64_t n_rows_total, int64_t row_begin,
                                      int64_t n_rows) const {
  const int64_t whole[3] = {n_cols, n_rows_total, 1};
  const int64_t row_bytes = check(name, whole);
  HEARTH_CHECK(row_begin >= 0 && n_rows > 0 && row_begin + n_rows <= n_rows_total);
  const int64_t part[3] = {n_cols, n_rows, 1};
  const uint8_t* data = tensor(name).data + row_begin * row_bytes;
  ops::Backend::Upload up = upload_named(be, file_, name, tensor(name).type, part, row_bytes, data, Use::matmul);
  // Released pages of a read-only mapping are read again from the file if touched, so a page
  // shared with a part not yet uploaded stays correct.
  if (up.copied) file_.release_pages(data, static_cast<size_t>(row_bytes * n_rows));
  return up.tensor;
}

ops::Tensor WeightLoader::matrix(ops::Backend& be, const std::string& name, int64_t n_cols,
                                 int64_t n_rows, Use use) const {
  const int64_t ne[3] = {n_cols, n_rows, 1};
  return upload(be, name, ne, use);
}

ops::Tensor WeightLoader::stack(ops::Backend& be, const std::string& name, int64_t n_cols,
                                int64_t n_rows, int64_t n_mats, Use use,
                                std::vector<uint8_t>* storage) const {
  const int64_t ne[3] = {n_cols, n_rows, n_mats};
  const gguf::TensorInfo& t = tensor(name);
  if (storage == nullptr || !is_ollama_mxfp4(t.type)) return upload(be, name, ne, use);
  const int64_t row_bytes = check(name, ne, true);
  const size_t n_bytes = static_cast<size_t>(row_bytes * n_rows * n_mats);
  storage->assign(t.data, t.data + n_bytes);
  reorder_openai_mxfp4(storage->data(), static_cast<int64_t>(n_bytes / 17));
  ops::Backend::Upload up = upload_named(be, file_, name, gguf::GgmlType::MXFP4, ne, row_bytes,
                                         storage->data(), Use::matmul);
  if (up.copied) std::vector<uint8_t>().swap(*storage);
  file_.release_pages(t.data, n_bytes);
  return up.tensor;
}

ops::Tensor WeightLoader::stack_rows_every(ops::Backend& be, const std::string& name, int64_t n_cols,
                                           int64_t n_rows_total, int64_t first, int64_t step,
                                           int64_t n_mats, std::vector<uint8_t>& storage) const {
  const int64_t whole[3] = {n_cols, n_rows_total, n_mats};
  const int64_t row_bytes = check(name, whole, true);
  HEARTH_CHECK(step > 0 && first >= 0 && first < step && n_rows_total % step == 0);
  const int64_t n_rows = n_rows_total / step;
  const uint8_t* src = tensor(name).data;
  storage.resize(static_cast<size_t>(row_bytes * n_rows * n_mats));
  for (int64_t e = 0; e < n_mats; ++e) {
    for (int64_t i = 0; i < n_rows; ++i) {
      const uint8_t* row = src + (e * n_rows_total + first + step * i) * row_bytes;
      std::copy(row, row + row_bytes, storage.data() + (e * n_rows + i) * row_bytes);
    }
  }
  gguf::GgmlType type = tensor(name).type;
  if (is_ollama_mxfp4(type)) {
    reorder_openai_mxfp4(storage.data(), static_cast<int64_t>(storage.size() / 17));
    type = gguf::GgmlType::MXFP4;
  }
  const int64_t part[3] = {n_cols, n_rows, n_mats};
  ops::Backend::Upload up =
      upload_named(be, file_, name, type, part, row_bytes, storage.data(), Use::matmul);
  if (up.copied) std::vector<uint8_t>().swap(storage);
  // The rows live in `storage` (or the backend) now; the mapped pages are read again if touched
  // (the other part of the stack), so they need not stay resident.
  file_.release_pages(src, static_cast<size_t>(row_bytes * n_rows_total * n_mats));
  return up.tensor;
}

std::vector<float> WeightLoader::host_rows(const std::string& name, int64_t n, int64_t n_rows) const {
  const gguf::TensorInfo& t = tensor(name);
  if (t.n_elements() != n * n_rows || t.ne[0] != n) {
    const std::string want = n_rows == 1 ? std::to_string(n) : std::to_string(n) + ", " + std::to_string(n_rows);
    throw Error(ErrorCode::corrupt, file_.path() + ": tensor '" + name + "' has shape " +
                                        t.shape_string() + ", expected [" + want + "]");
  }
  if (!quant::is_supported(t.type) || n % quant::traits(t.type).block_elems != 0) {
    throw Error(ErrorCode::unsupported, file_.path() + ": tensor '" + name + "' has type " +
                                            gguf::type_name(t.type) + ", not usable as a vector");
  }
  std::vector<float> out(static_cast<size_t>(n * n_rows));
  quant::traits(t.type).to_float(t.data, out.data(), n * n_rows);
  return out;
}

std::vector<float> WeightLoader::host_vector(const std::string& name, int64_t n) const {
  return host_rows(name, n, 1);
}

ops::Tensor WeightLoader::rows_f32(ops::Backend& be, const std::string& name, int64_t n,
                                   int64_t n_rows) const {
  const std::vector<float> v = host_rows(name, n, n_rows);
  return be.upload_f32(v.data(), n, n_rows);
}

ops::Tensor WeightLoader::vector(ops::Backend& be, const std::string& name, int64_t n,
                                 bool optional) const {
  if (optional && !has(name)) return {};
  const std::vector<float> v = host_vector(name, n);
  return be.upload_f32(v.data(), n, 1);
}

}  // namespace hearth::model
