#pragma once

namespace parley::app {

/// `parley user add|token|chat create|migrate`: administration from a shell, against the
/// same store and secret as `parley serve`. Returns the exit code; throws on bad usage.
int runUserAdd(int argc, char** argv);
int runToken(int argc, char** argv);
int runChatCreate(int argc, char** argv);
int runMigrate(int argc, char** argv);

} // namespace parley::app
