#include "support/ScratchPg.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <unistd.h>

namespace parley::test {

namespace {

[[noreturn]] void fatal(const std::string& message) {
    ADD_FAILURE() << message;
    throw std::runtime_error(message);
}

std::string sharedDir() {
    const char* dir = std::getenv("PARLEY_TEST_PG_DIR");
    if (dir == nullptr || *dir == '\0')
        fatal("PARLEY_TEST_PG_DIR is not set: run the PostgreSQL tests through ctest (fixture pg), or start "
              "scripts/pg-scratch start DIR and export PARLEY_TEST_PG_DIR=DIR");
    return dir;
}

std::string uriOf(const std::string& dir, const std::string& database) {
    std::ifstream in(dir + "/port");
    int port = 0;
    if (!(in >> port)) fatal("no scratch PostgreSQL in " + dir + " (no port file)");
    return "postgres://parley@127.0.0.1:" + std::to_string(port) + "/" + database;
}

// Runs `scripts/pg-scratch ARGS`; returns its first line of output.
std::string script(const std::string& args) {
    const std::string command = std::string(PARLEY_SOURCE_DIR) + "/scripts/pg-scratch " + args;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) fatal("cannot run " + command);
    std::string out;
    char buffer[512];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
    const int status = pclose(pipe);
    if (status != 0) fatal(command + " failed (status " + std::to_string(status) + "): " + out);
    if (auto newline = out.find('\n'); newline != std::string::npos) out.resize(newline);
    return out;
}

} // namespace

std::string scratchPgUri() { return uriOf(sharedDir(), "parley"); }

std::string freshPgDatabase() {
    static std::atomic<int> counter{0};
    const std::string name = "t_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
                             std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000);
    PGconn* conn = PQconnectdb(scratchPgUri().c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
        std::string error = PQerrorMessage(conn);
        PQfinish(conn);
        fatal("cannot reach the scratch PostgreSQL: " + error);
    }
    PGresult* result = PQexec(conn, ("CREATE DATABASE " + name).c_str());
    const bool created = PQresultStatus(result) == PGRES_COMMAND_OK;
    std::string error = PQerrorMessage(conn);
    PQclear(result);
    PQfinish(conn);
    if (!created) fatal("CREATE DATABASE " + name + ": " + error);
    return uriOf(sharedDir(), name);
}

void killScratchPg(const std::string& dir) { script("kill '" + (dir.empty() ? sharedDir() : dir) + "'"); }

void restartScratchPg(const std::string& dir) { script("restart '" + (dir.empty() ? sharedDir() : dir) + "'"); }

PrivatePg::PrivatePg() {
    static std::atomic<int> counter{0};
    dir_ = (std::filesystem::temp_directory_path() /
            ("parley-pg-" + std::to_string(getpid()) + "-" + std::to_string(counter++)))
               .string();
    script("stop '" + dir_ + "'");
    uri_ = script("start '" + dir_ + "'");
}

PrivatePg::~PrivatePg() {
    const std::string command = std::string(PARLEY_SOURCE_DIR) + "/scripts/pg-scratch stop '" + dir_ + "'";
    if (std::system(command.c_str()) != 0) std::fprintf(stderr, "could not stop the PostgreSQL in %s\n", dir_.c_str());
}

} // namespace parley::test
