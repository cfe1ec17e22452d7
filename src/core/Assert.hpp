#pragma once

// PARLEY_ASSERT(cond, "message"): an invariant of the code, not a check of input. A failed
// assertion is a bug: it prints file:line, the condition and the message to stderr and aborts
// (a core dump, or the sanitizer's stack trace, shows where).
//
// Active when PARLEY_ASSERTIONS is 1, which CMake sets for Debug and sanitizer builds (the
// presets debug, asan, tsan; see the top-level CMakeLists.txt). In release builds it compiles
// to nothing, but the condition is still compiled (unevaluated), so it cannot rot.
//
// Never put work the program needs inside the condition: it does not run in release builds.

#include <cstdio>
#include <cstdlib>

#ifndef PARLEY_ASSERTIONS
#define PARLEY_ASSERTIONS 0
#endif

namespace parley::core::detail {

[[noreturn]] inline void assertionFailed(const char* file, int line, const char* condition,
                                         const char* message) noexcept {
    std::fprintf(stderr, "%s:%d: assertion failed: %s: %s\n", file, line, condition, message);
    std::fflush(stderr);
    std::abort();
}

} // namespace parley::core::detail

#if PARLEY_ASSERTIONS
#define PARLEY_ASSERT(cond, message)                                                                                   \
    ((cond) ? static_cast<void>(0) : ::parley::core::detail::assertionFailed(__FILE__, __LINE__, #cond, message))
#else
#define PARLEY_ASSERT(cond, message)                                                                                   \
    (static_cast<void>(sizeof((cond) ? true : false)), static_cast<void>(sizeof(message)))
#endif
