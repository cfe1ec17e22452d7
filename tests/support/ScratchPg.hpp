#pragma once

#include <string>

namespace parley::test {

// The throwaway PostgreSQL of the tests: ctest's fixture `pg` starts one cluster
// (scripts/pg-scratch) for the whole run and gives its folder in $PARLEY_TEST_PG_DIR.

/// postgres://parley@127.0.0.1:PORT/parley of the scratch cluster. Fails the calling test
/// (a GoogleTest fatal failure, then throws) when $PARLEY_TEST_PG_DIR is unset or unreadable.
std::string scratchPgUri();

/// Creates a new, uniquely named, empty database on the scratch cluster and returns its URI:
/// each test works on a database of its own.
std::string freshPgDatabase();

/// `scripts/pg-scratch kill DIR` (SIGKILL of the server and its backends) and `restart DIR`
/// (which waits until it accepts connections). DIR defaults to $PARLEY_TEST_PG_DIR: the cluster
/// every test shares, so a test that kills it must not run beside the others. PrivatePg gives
/// a test a cluster of its own.
void killScratchPg(const std::string& dir = {});
void restartScratchPg(const std::string& dir = {});

/// A cluster of one test's own (started in a new temporary folder, stopped and removed by the
/// destructor): for tests that kill and restart their server. Starting takes 3-4 s.
class PrivatePg {
public:
    PrivatePg();
    ~PrivatePg();
    PrivatePg(const PrivatePg&) = delete;
    PrivatePg& operator=(const PrivatePg&) = delete;

    const std::string& dir() const { return dir_; }
    const std::string& uri() const { return uri_; }
    void kill() { killScratchPg(dir_); }
    void restart() { restartScratchPg(dir_); }

private:
    std::string dir_;
    std::string uri_;
};

} // namespace parley::test
