#include "support/ScratchPg.hpp"

#include <libpq-fe.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>

namespace parley::test {

namespace {

// The URI of the scratch server's database `name` (pg-scratch creates `parley`).
std::string uriOf(const std::string& name) {
    const char* dir = std::getenv("PARLEY_TEST_PG_DIR");
    if (dir == nullptr || *dir == '\0')
        throw std::runtime_error(
            "PARLEY_TEST_PG_DIR is not set: run the PostgreSQL tests with ctest (its `pg` "
            "fixture starts a scratch server), or `scripts/pg-scratch start DIR` and set it to DIR");
    std::ifstream portFile(std::string(dir) + "/port");
    std::string port;
    if (!(portFile >> port))
        throw std::runtime_error(std::string("no scratch PostgreSQL in ") + dir + " (no port file)");
    return "postgres://parley@127.0.0.1:" + port + "/" + name;
}

// A name no other test (or test process) picks: random, not a counter.
std::string freshName() {
    static std::atomic<unsigned> sequence{0};
    std::random_device device;
    std::mt19937_64 random((static_cast<std::uint64_t>(device()) << 32) ^ device() ^ sequence++);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string name = "test_";
    for (int i = 0; i < 16; ++i) name += kHex[random() % 16];
    return name;
}

} // namespace

std::string scratchPgUri() { return uriOf("parley"); }

std::string freshPgDatabase() {
    const std::string admin = scratchPgUri();
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(admin.c_str()), &PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK)
        throw std::runtime_error("cannot reach the scratch PostgreSQL at " + admin + ": " + PQerrorMessage(conn.get()));
    const std::string name = freshName();
    std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn.get(), ("CREATE DATABASE " + name).c_str()),
                                                         &PQclear);
    if (PQresultStatus(result.get()) != PGRES_COMMAND_OK)
        throw std::runtime_error("CREATE DATABASE " + name + " failed: " + PQerrorMessage(conn.get()));
    return uriOf(name);
}

} // namespace parley::test
