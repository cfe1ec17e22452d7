#pragma once

#include "app/Runtime.hpp"

namespace parley::app {

/// The conformance profile of CONFORMANCE.md: echo namespaces "/" and "/custom" on
/// /socket.io/ and a bare Engine.IO echo on /engine.io/.
void installConformance(Runtime& runtime);

} // namespace parley::app
