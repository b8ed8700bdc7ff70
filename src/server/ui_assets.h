#pragma once
// The built web page (web/dist), compiled into the binary by cmake/EmbedFiles.cmake.

#include <string_view>
#include <vector>

namespace hearth::server {

struct UiAsset {
  std::string_view name;  // "app.js", "index.html", "style.css"
  std::string_view body;
};

const std::vector<UiAsset>& ui_assets();

}  // namespace hearth::server
