#pragma once
// The compute shaders, compiled by glslc at build time (src/vulkan/CMakeLists.txt) and embedded
// as SPIR-V: one entry per (shader, variant), e.g. "matmul_q8_0", "attention_f16".

#include <cstddef>
#include <cstdint>
#include <string>

namespace hearth::vulkan {

struct ShaderCode {
  const uint32_t* words = nullptr;
  size_t size = 0;  // bytes
};

// Empty (words == nullptr) for an unknown name.
ShaderCode shader_code(const std::string& name);

}  // namespace hearth::vulkan
