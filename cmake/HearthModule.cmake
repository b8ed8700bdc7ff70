# One static library per src/ folder. A folder links only the folders above it in
# ARCHITECTURE.md's order, so a reach downwards fails to link.

function(hearth_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
endfunction()

set(HEARTH_AVX2_FLAGS -mavx2 -mfma -mf16c -mbmi2)
set(HEARTH_AVX512_FLAGS -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mavx512bf16
    -mavx2 -mfma -mf16c -mbmi2)

# hearth_module(NAME DEPS a b c [LIBS extra...])
# Sources: every .cc under src/NAME/. Files under an x86/avx2/ or x86/avx512/ folder get that ISA's
# flags; everything else builds for baseline x86-64 so the binary runs on any CPU.
function(hearth_module name)
  cmake_parse_arguments(M "" "" "DEPS;LIBS" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  if(NOT srcs)
    set(srcs ${CMAKE_SOURCE_DIR}/cmake/empty.cc)
  endif()
  add_library(hearth_${name} STATIC ${srcs})
  target_include_directories(hearth_${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  foreach(src ${srcs})
    if(src MATCHES "/x86/avx512/")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${HEARTH_AVX512_FLAGS}")
    elseif(src MATCHES "/x86/avx2/")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${HEARTH_AVX2_FLAGS}")
    endif()
  endforeach()
  # The layering rule CheckLayers.cmake enforces on #includes: this folder and what it links.
  string(REPLACE ";" "," dep_list "${M_DEPS}")
  set_property(GLOBAL APPEND PROPERTY HEARTH_LAYER_RULES "${name}:${dep_list}")
  set(deps)
  foreach(d ${M_DEPS})
    # A folder not written yet is skipped, so a module can name its final dependencies up front.
    if(TARGET hearth_${d})
      list(APPEND deps hearth_${d})
    endif()
  endforeach()
  target_link_libraries(hearth_${name} PUBLIC ${deps} ${M_LIBS} Threads::Threads)
  hearth_warnings(hearth_${name})
  set_property(GLOBAL APPEND PROPERTY HEARTH_MODULES hearth_${name})
endfunction()
