// The `parley` command.
#include "app/ChatStack.hpp"
#include "app/Cli.hpp"
#include "app/Config.hpp"
#include "app/Conformance.hpp"
#include "app/Runtime.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>
#include <string_view>

namespace {

int serve(int argc, char** argv) {
    using namespace parley::app;
    Config config = parseConfig(argc, argv);
    if (config.conformance) {
        config.pingInterval = std::chrono::milliseconds(300);
        config.pingTimeout = std::chrono::milliseconds(200);
        config.maxPayload = 1'000'000;
        config.connectTimeout = std::chrono::milliseconds(1000);
        // Protocol suites open sessions from one address as fast as they can.
        config.maxConnectionsPerIp = 0;
        config.handshakesPerSecond = 0;
    }
    initLogging(config.logLevel, config.logFormat);
    Runtime runtime(config);
    std::unique_ptr<ChatStack> chat;
    if (config.conformance)
        installConformance(runtime);
    else
        chat = std::make_unique<ChatStack>(runtime);
    return runtime.run();
}

} // namespace

int main(int argc, char** argv) {
    const std::string_view command = argc > 1 ? argv[1] : "";
    try {
        using namespace parley::app;
        const std::string_view sub = argc > 2 ? argv[2] : "";
        if (command == "serve") return serve(argc - 2, argv + 2);
        if (command == "user" && sub == "add") return runUserAdd(argc - 3, argv + 3);
        if (command == "token") return runToken(argc - 2, argv + 2);
        if (command == "chat" && sub == "create") return runChatCreate(argc - 3, argv + 3);
        if (command == "migrate") return runMigrate(argc - 2, argv + 2);
        if (command == "config") {
            std::fputs(describeConfig(parseConfig(argc - 2, argv + 2)).c_str(), stdout);
            return 0;
        }
        if (command == "--help" || command == "-h" || command == "help") {
            std::fputs(parley::app::usage().c_str(), stdout);
            return 0;
        }
        std::fprintf(stderr, "parley: unknown command '%.*s'\n\n%s", static_cast<int>(command.size()), command.data(),
                     parley::app::usage().c_str());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "parley: %s\n", e.what());
        return 1;
    }
}
