#include "model/weights.h"

#include "ops/matmul.h"
#include "quant/type_traits.h"
#include "util/check.h"
#include "util/error.h"

namespace hearth::model {

namespace {
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

ops::Tensor WeightLoader::upload(ops::Backend& be, const std::string& name, const int64_t ne[3],
                                 Use use, int64_t first_row, int64_t n_rows) const {
  const gguf::TensorInfo& t = tensor(name);
  const bool same = t.ne[0] == ne[0] && t.ne[1] == ne[1] && (t.n_dims < 3 ? 1 : t.ne[2]) == ne[2] &&
                    t.n_dims <= (ne[2] == 1 ? 2 : 3);
  if (!same) {
    throw Error(ErrorCode::corrupt, file_.path() + ": tensor '" + name + "' has shape " +
                                        t.shape_string() + ", expected " + shape(ne));
  }
  if (!ops::matmul_supports(t.type)) {
    throw Error(ErrorCode::unsupported, file_.path() + ": tensor '" + name + "' has type " +
                                            gguf::type_name(t.type) +
                                            ", which Hearth cannot compute with");
  }
  const quant::TypeTraits& tr = quant::traits(t.type);
  if (ne[0] % tr.block_elems != 0) {
    throw Error(ErrorCode::corrupt, file_.path() + ": tensor '" + name + "' rows of " +
                                        std::to_string(ne[0]) + " are not whole " +
                                        gguf::type_name(t.type) + " blocks");
  }
  const int64_t row_bytes = ne[0] / tr.block_elems * tr.block_bytes;
  const uint64_t bytes = static_cast<uint64_t>(row_bytes * ne[1] * ne[2]);
  if (bytes > t.n_bytes) {
    throw Error(ErrorCode::corrupt, file_.path() + ": tensor '" + name + "' data is truncated");
  }
  if (n_rows < 0) {
    ops::Backend::Upload up = be.upload_weight(t.type, ne, row_bytes, t.data, use);
    if (up.copied) file_.release_pages(t.data, static_cast<size_t>(bytes));
    return up.tensor;
  }
  // A part of the rows (ne[2] == 1): bound alone; its pages are released only when copied.
  const int64_t part[3] = {ne[0], n_rows, 1};
  const uint8_t* data = t.data + first_row * row_bytes;
  ops::Backend::Upload up = be.upload_weight(t.type, part, row_bytes, data, use);
  if (up.copied) file_.release_pages(data, static_cast<size_t>(row_bytes * n_rows));
  return up.tensor;
}

ops::Tensor WeightLoader::matrix(ops::Backend& be, const std::string& name, int64_t n_cols,
                                 int64_t n_rows, Use use) const {
  const int64_t ne[3] = {n_cols, n_rows, 1};
  return upload(be, name, ne, use);
}

ops::Tensor WeightLoader::matrix_rows(ops::Backend& be, const std::string& name, int64_t n_cols,
                                      int64_t n_rows, int64_t first, int64_t count) const {
  HEARTH_CHECK(first >= 0 && count > 0 && first + count <= n_rows);
  const int64_t ne[3] = {n_cols, n_rows, 1};
  return upload(be, name, ne, Use::matmul, first, count);
}

ops::Tensor WeightLoader::stack(ops::Backend& be, const std::string& name, int64_t n_cols,
                                int64_t n_rows, int64_t n_mats) const {
  const int64_t ne[3] = {n_cols, n_rows, n_mats};
  return upload(be, name, ne, Use::matmul);
}

std::vector<float> WeightLoader::host_vector(const std::string& name, int64_t n) const {
  const gguf::TensorInfo& t = tensor(name);
  if (t.n_elements() != n || t.ne[0] != n) {
    throw Error(ErrorCode::corrupt, file_.path() + ": tensor '" + name + "' has shape " +
                                        t.shape_string() + ", expected [" + std::to_string(n) +
                                        "]");
  }
  if (!quant::is_supported(t.type) || n % quant::traits(t.type).block_elems != 0) {
    throw Error(ErrorCode::unsupported, file_.path() + ": tensor '" + name + "' has type " +
                                            gguf::type_name(t.type) + ", not usable as a vector");
  }
  std::vector<float> out(static_cast<size_t>(n));
  quant::traits(t.type).to_float(t.data, out.data(), n);
  return out;
}

ops::Tensor WeightLoader::vector(ops::Backend& be, const std::string& name, int64_t n,
                                 bool optional) const {
  if (optional && !has(name)) return {};
  const std::vector<float> v = host_vector(name, n);
  return be.upload_f32(v.data(), n, 1);
}

}  // namespace hearth::model
