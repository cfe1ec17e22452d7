#include "support/ScratchRedis.hpp"

#include <gtest/gtest.h>

#include <atomic>
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

// Runs `scripts/redis-scratch ARGS`; returns its first line of output.
std::string script(const std::string& args) {
    const std::string command = std::string(PARLEY_SOURCE_DIR) + "/scripts/redis-scratch " + args;
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

std::string scratchRedisUri() {
    const char* dir = std::getenv("PARLEY_TEST_REDIS_DIR");
    if (dir == nullptr || *dir == '\0')
        fatal("PARLEY_TEST_REDIS_DIR is not set: run the Redis tests through ctest (fixture redis), or start "
              "scripts/redis-scratch start DIR and export PARLEY_TEST_REDIS_DIR=DIR");
    std::ifstream in(std::string(dir) + "/port");
    int port = 0;
    if (!(in >> port)) fatal(std::string("no scratch Redis in ") + dir + " (no port file)");
    return "redis://127.0.0.1:" + std::to_string(port);
}

PrivateRedis::PrivateRedis() {
    static std::atomic<int> counter{0};
    dir_ = (std::filesystem::temp_directory_path() /
            ("parley-redis-" + std::to_string(getpid()) + "-" + std::to_string(counter++)))
               .string();
    script("stop '" + dir_ + "'");
    uri_ = script("start '" + dir_ + "'");
}

PrivateRedis::~PrivateRedis() {
    const std::string command = std::string(PARLEY_SOURCE_DIR) + "/scripts/redis-scratch stop '" + dir_ + "'";
    if (std::system(command.c_str()) != 0) std::fprintf(stderr, "could not stop the Redis in %s\n", dir_.c_str());
}

void PrivateRedis::kill() { script("kill '" + dir_ + "'"); }

void PrivateRedis::restart() { script("restart '" + dir_ + "'"); }

} // namespace parley::test
