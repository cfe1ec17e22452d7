# PARLEY_BUILD_FUZZ=ON (the `fuzz` preset, clang only): every library gets libFuzzer's coverage
# instrumentation plus ASan and UBSan; fuzz/ links each target with the libFuzzer main.
if(PARLEY_BUILD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "PARLEY_BUILD_FUZZ needs clang (libFuzzer); configure with the `fuzz` preset")
  endif()
  # Any UB aborts the run, so libFuzzer records it as a crash with its input.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
