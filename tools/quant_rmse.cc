// quant-rmse: quantization error of quantized GGUFs against their F32/F16/BF16 source, tensor by
// tensor, so our quantizer can be compared side by side with another one (llama.cpp's):
//   quant-rmse SRC.gguf A.gguf [B.gguf]
// For each tensor that A stores in another type than SRC: its type, the RMSE of A's dequantized
// values against SRC's, and the same for B with the ratio A/B (where B has the same type).
// A summary line per type pools the squared errors of the tensors both files gave that type.
//   quant-rmse --reshape 256 SRC.gguf OUT.gguf
// writes SRC again with every 2-D weight re-cut into rows of 256 (where the element count
// allows): small real models (rows of 64) then reach the K-quant formats, whose blocks are 256
// long. The file is for measuring quantizers only; it is no longer a runnable model.
//   quant-rmse --quantize Q4_K_M SRC.gguf OUT.gguf
// runs our quantizer (the store's, as `hearth create -q` does) on a file, for the A side.

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "quant/type_traits.h"
#include "store/quantize.h"
#include "util/error.h"

namespace {

using hearth::Error;
using hearth::ErrorCode;
using hearth::gguf::GgmlType;
using hearth::gguf::TensorInfo;

bool is_float(GgmlType t) { return t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16; }

// Sum of squared differences between two tensors of the same shape, dequantized row by row.
double squared_error(const TensorInfo& src, const TensorInfo& q) {
  const int64_t n = src.ne[0];
  const int64_t src_row = hearth::gguf::row_bytes(src.type, n);
  const int64_t q_row = hearth::gguf::row_bytes(q.type, n);
  const auto& sf = hearth::quant::traits(src.type);
  const auto& qf = hearth::quant::traits(q.type);
  std::vector<float> a(static_cast<size_t>(n)), b(static_cast<size_t>(n));
  double sum = 0;
  for (int64_t r = 0; r < src.n_rows(); ++r) {
    sf.to_float(src.data + r * src_row, a.data(), n);
    qf.to_float(q.data + r * q_row, b.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      const double d = static_cast<double>(a[static_cast<size_t>(i)]) - b[static_cast<size_t>(i)];
      sum += d * d;
    }
  }
  return sum;
}

const TensorInfo* find_same_shape(const hearth::gguf::File& f, const TensorInfo& src) {
  for (const auto& t : f.tensors()) {
    if (t.name != src.name) continue;
    for (int d = 0; d < hearth::gguf::kMaxDims; ++d) {
      if (t.ne[d] != src.ne[d]) {
        throw Error(ErrorCode::invalid_argument,
                    f.path() + ": tensor " + t.name + " has shape " + t.shape_string() +
                        ", the source has " + src.shape_string());
      }
    }
    if (!hearth::quant::is_supported(t.type)) {
      throw Error(ErrorCode::unsupported, f.path() + ": tensor " + t.name + " has type " +
                                              hearth::gguf::type_name(t.type) +
                                              ", which Hearth cannot dequantize");
    }
    return &t;
  }
  return nullptr;
}

struct Pool {
  double se_a = 0, se_b = 0;
  int64_t n = 0;
  int tensors = 0;
  double worst_ratio = 0;
  std::string worst;
};

int compare(const std::string& src_path, const std::string& a_path, const std::string& b_path) {
  auto src = hearth::gguf::File::open(src_path);
  auto a = hearth::gguf::File::open(a_path);
  std::optional<hearth::gguf::File> b;
  if (!b_path.empty()) b = hearth::gguf::File::open(b_path);
  std::map<std::string, Pool> pools;  // by type name
  std::printf("%-28s %10s %-6s %11s", "tensor", "elements", "A type", "A rmse");
  if (b) std::printf(" %-6s %11s %7s", "B type", "B rmse", "A/B");
  std::printf("\n");
  for (const auto& t : src.tensors()) {
    if (!is_float(t.type)) {
      throw Error(ErrorCode::invalid_argument,
                  src_path + ": the source must be F32/F16/BF16; tensor " + t.name + " is " +
                      hearth::gguf::type_name(t.type));
    }
    const TensorInfo* ta = find_same_shape(a, t);
    if (ta == nullptr || ta->type == t.type) continue;
    const TensorInfo* tb = b ? find_same_shape(*b, t) : nullptr;
    const double n = static_cast<double>(t.n_elements());
    const double se_a = squared_error(t, *ta);
    std::printf("%-28s %10lld %-6s %11.4e", t.name.c_str(), static_cast<long long>(t.n_elements()),
                hearth::gguf::type_name(ta->type), std::sqrt(se_a / n));
    if (tb != nullptr) {
      const double se_b = squared_error(t, *tb);
      const double ratio = se_b > 0 ? std::sqrt(se_a / se_b) : (se_a > 0 ? INFINITY : 1.0);
      std::printf(" %-6s %11.4e %7.4f", hearth::gguf::type_name(tb->type), std::sqrt(se_b / n),
                  ratio);
      if (tb->type == ta->type) {
        Pool& p = pools[hearth::gguf::type_name(ta->type)];
        p.se_a += se_a;
        p.se_b += se_b;
        p.n += t.n_elements();
        ++p.tensors;
        if (ratio > p.worst_ratio) {
          p.worst_ratio = ratio;
          p.worst = t.name;
        }
      } else {
        std::printf("  (types differ)");
      }
    } else if (b) {
      std::printf("  (not in B)");
    }
    std::printf("\n");
  }
  for (const auto& [type, p] : pools) {
    const double ra = std::sqrt(p.se_a / static_cast<double>(p.n));
    const double rb = std::sqrt(p.se_b / static_cast<double>(p.n));
    std::printf("summary %-6s tensors %3d  A rmse %.4e  B rmse %.4e  A/B %.4f  worst tensor %.4f (%s)\n",
                type.c_str(), p.tensors, ra, rb, rb > 0 ? ra / rb : 1.0, p.worst_ratio,
                p.worst.c_str());
  }
  return 0;
}

int reshape(int64_t row, const std::string& src_path, const std::string& out_path) {
  auto src = hearth::gguf::File::open(src_path);
  hearth::gguf::Writer w;
  for (const auto& [key, value] : src.metadata()) {
    if (key != "general.alignment") w.set(key, value);
  }
  for (const auto& t : src.tensors()) {
    std::vector<int64_t> ne(t.ne, t.ne + t.n_dims);
    if (t.n_dims >= 2 && t.n_elements() % row == 0 && row % hearth::gguf::type_geometry(t.type)->block_elems == 0) {
      ne = {row, t.n_elements() / row};
    }
    w.add_tensor_view(t.name, t.type, ne, t.data, t.n_bytes);
  }
  w.write(out_path);
  std::fprintf(stderr, "wrote %s\n", out_path.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"RMSE of quantized GGUFs against their float source, tensor by tensor", "quant-rmse"};
  std::vector<std::string> files;
  int64_t reshape_row = 0;
  std::string quantize_type;
  app.add_option("files", files, "SRC.gguf A.gguf [B.gguf] (--reshape, --quantize: SRC.gguf OUT.gguf)")
      ->required()
      ->expected(2, 3);
  app.add_option("--reshape", reshape_row,
                 "Write SRC to OUT with 2-D weights re-cut into rows of this length");
  app.add_option("--quantize", quantize_type, "Quantize SRC to OUT with our quantizer (Q4_K_M, ...)");
  CLI11_PARSE(app, argc, argv);
  try {
    if (reshape_row > 0) {
      if (files.size() != 2) throw Error(ErrorCode::invalid_argument, "--reshape takes SRC and OUT");
      return reshape(reshape_row, files[0], files[1]);
    }
    if (!quantize_type.empty()) {
      if (files.size() != 2) throw Error(ErrorCode::invalid_argument, "--quantize takes SRC and OUT");
      auto src = hearth::gguf::File::open(files[0]);
      hearth::store::quantize_gguf(src, hearth::store::parse_quantization_type(quantize_type),
                                   files[1], nullptr);
      return 0;
    }
    return compare(files[0], files[1], files.size() > 2 ? files[2] : "");
  } catch (const Error& e) {
    std::fprintf(stderr, "Error: %s\n", e.what());
    return 1;
  }
}
