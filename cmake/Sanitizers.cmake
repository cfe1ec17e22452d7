# PARLEY_SANITIZE=address,undefined (or thread) instruments every target of the build.
if(PARLEY_SANITIZE)
  add_compile_options(-fsanitize=${PARLEY_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${PARLEY_SANITIZE})
  # The sanitizer presets are Debug builds (assertions on), optimized with -Og: code several
  # times faster than -O0, so the e2e suite's timers stay realistic, with exact stacks. -g1 keeps
  # what a sanitizer report needs (functions and lines) and drops variable info. Together they
  # compile in about a third of the time of -O1 -g with ASan+UBSan (the heaviest test file:
  # 54 s against 143 s with g++ 12), which is most of a sanitizer stage in CI.
  add_compile_options(-Og -g1)
  if(PARLEY_SANITIZE MATCHES "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # g++ 12 warns that TSan ignores atomic_thread_fence, which Asio's fenced_block uses around
    # every handler. Asio hands handlers between threads under its scheduler mutex, which TSan
    # does see, so the fences are redundant for it and the warning is noise.
    add_compile_options(-Wno-tsan)
  endif()
endif()
