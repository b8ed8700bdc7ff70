# hearth_embed_web_assets(TARGET): compiles web/dist (the built page, checked in) into TARGET.
# Building hearth needs no Node.js; web/build.mjs --check (ctest web_assets_current) keeps
# web/dist equal to what web/src builds to.
function(hearth_embed_web_assets target)
  set(dir ${CMAKE_SOURCE_DIR}/web/dist)
  file(GLOB files CONFIGURE_DEPENDS ${dir}/*)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/ui_assets.cc)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DDIR=${dir} -DOUT=${out} -P ${CMAKE_SOURCE_DIR}/cmake/EmbedFiles.cmake
    DEPENDS ${files} ${CMAKE_SOURCE_DIR}/cmake/EmbedFiles.cmake
    COMMENT "Embedding web/dist into the hearth binary")
  target_sources(${target} PRIVATE ${out})
endfunction()
