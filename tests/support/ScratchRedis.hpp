#pragma once

#include <string>

namespace parley::test {

// The throwaway Redis of the tests: ctest's fixture `redis` starts one server
// (scripts/redis-scratch) for the whole run and gives its folder in $PARLEY_TEST_REDIS_DIR.

/// redis://127.0.0.1:PORT of the shared scratch server. Fails the calling test (a GoogleTest
/// fatal failure, then throws) when $PARLEY_TEST_REDIS_DIR is unset or unreadable.
std::string scratchRedisUri();

/// A server of one test's own (started in a new temporary folder, stopped and removed by the
/// destructor): for tests that kill or restart their server. Starting takes a fraction of a
/// second.
class PrivateRedis {
public:
    PrivateRedis();
    ~PrivateRedis();
    PrivateRedis(const PrivateRedis&) = delete;
    PrivateRedis& operator=(const PrivateRedis&) = delete;

    const std::string& dir() const { return dir_; }
    const std::string& uri() const { return uri_; }
    /// SIGKILL (a crash); restart() brings it back.
    void kill();
    /// Stops it if it runs and starts it again on the same port; returns once it answers PING.
    void restart();

private:
    std::string dir_;
    std::string uri_;
};

} // namespace parley::test
