# One helper so every target gets the same warnings.
function(parley_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                                           -Wold-style-cast -Wcast-align -Woverloaded-virtual)
  if(PARLEY_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
