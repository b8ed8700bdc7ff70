#pragma once
// Test helpers for encoders (bert, nomic-bert): a tiny random encoder written as a GGUF by the
// test itself, and an INDEPENDENT double-precision forward pass of the same network over a whole
// sequence (it shares nothing with src/model or src/ops; like tiny_model.h it only sees the
// dequantized weight values). The math follows llama.cpp's BERT graph: embeddings + type 0 (+
// absolute positions), LayerNorm; per layer x = LN(x + attn(x)), x = LN(x + ffn(x)); attention
// bidirectional within the sequence; GELU in its tanh form (ggml_gelu); nomic-bert with NEOX RoPE,
// fused qkv and a SwiGLU FFN.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gguf/ggml_type.h"
#include "gguf/gguf_writer.h"
#include "tiny_model.h"

namespace hearth::model::testing {

struct TinyEncoderSpec {
  std::string arch = "bert";  // bert | nomic-bert
  int64_t n_embd = 64;
  int64_t n_layer = 2;
  int n_head = 4;
  int64_t n_ff = 96;
  int64_t n_vocab = 80;
  int64_t n_ctx = 64;        // bert: rows of position_embd
  float norm_eps = 1e-12f;
  float rope_base = 1000.0f;  // nomic-bert
  uint32_t pooling = 1;       // <arch>.pooling_type: 1 mean, 2 cls
  gguf::GgmlType weight_type = gguf::GgmlType::F32;  // layer matrices
  gguf::GgmlType embd_type = gguf::GgmlType::F32;    // token_embd
  uint64_t seed = 7;
  std::function<void(gguf::Writer&)> edit;  // metadata edits before writing (load-error tests)
};

// The GGUF bytes; `weights` gets what the file holds, dequantized. With `vocab` the file also
// gets a WordPiece vocabulary (tokenizer.ggml.*: n_vocab tokens, [PAD] [UNK] [CLS] [SEP] first).
std::vector<uint8_t> write_tiny_encoder(const TinyEncoderSpec& spec, RefWeights* weights,
                                        bool vocab = false);

// The final hidden state of every position of `tokens` (one sequence), [n][n_embd].
std::vector<std::vector<double>> ref_encode(const TinyEncoderSpec& spec, const RefWeights& weights,
                                            const std::vector<int32_t>& tokens);

}  // namespace hearth::model::testing
