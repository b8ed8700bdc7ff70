#include "model/weights.h"

#include "ops/matmul.h"
#include "quant/type_traits.h"
#include "util/error.h"

namespace hearth::model {

namespace {
std::string shape(int64_t a, int64_t b) {
  return "[" + std::to_string(a) + ", " + std::to_string(b) + "]";
}
}  // namespace

const gguf::TensorInfo& WeightBinder::tensor(const std::string& name) const {
  const gguf::TensorInfo* t = file_.find_tensor(name);
  if (t == nullptr) {
    throw Error(ErrorCode::corrupt, file_.path() + ": missing tensor '" + name + "'");
  }
  return *t;
}

ops::Matrix WeightBinder::matrix(const std::string& name, int64_t n_cols, int64_t n_rows) const {
  const gguf::TensorInfo& t = tensor(name);
  if (t.n_dims > 2 || t.ne[0] != n_cols || t.n_rows() != n_rows) {
    throw Error(ErrorCode::corrupt, file_.path() + ": tensor '" + name + "' has shape " +
                                        t.shape_string() + ", expected " + shape(n_cols, n_rows));
  }
  if (!ops::matmul_supports(t.type)) {
    throw Error(ErrorCode::unsupported, file_.path() + ": tensor '" + name + "' has type " +
                                            gguf::type_name(t.type) +
                                            ", which Hearth cannot compute with");
  }
  const quant::TypeTraits& tr = quant::traits(t.type);
  if (n_cols % tr.block_elems != 0) {
    throw Error(ErrorCode::corrupt, file_.path() + ": tensor '" + name + "' rows of " +
                                        std::to_string(n_cols) + " are not whole " +
                                        gguf::type_name(t.type) + " blocks");
  }
  ops::Matrix m;
  m.type = t.type;
  m.n_cols = n_cols;
  m.n_rows = n_rows;
  m.row_bytes = n_cols / tr.block_elems * tr.block_bytes;
  if (static_cast<uint64_t>(m.row_bytes * n_rows) > t.n_bytes) {
    throw Error(ErrorCode::corrupt, file_.path() + ": tensor '" + name + "' data is truncated");
  }
  m.data = t.data;
  return m;
}

std::vector<float> WeightBinder::vector(const std::string& name, int64_t n) const {
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

std::vector<float> WeightBinder::vector_or_empty(const std::string& name, int64_t n) const {
  if (!has(name)) return {};
  return vector(name, n);
}

}  // namespace hearth::model
