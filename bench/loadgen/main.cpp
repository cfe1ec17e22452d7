// parley-bench: see Options.cpp for the usage text, README-style.

#include "Options.hpp"
#include "Report.hpp"
#include "Scenarios.hpp"

#include <sodium.h>

#include <boost/json/object.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <thread>

int main(int argc, char** argv) {
    using namespace parley::bench;
    // A peer that closes first must not kill the generator.
    std::signal(SIGPIPE, SIG_IGN);
    std::optional<Options> options;
    try {
        options = parseOptions(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "parley-bench: " << e.what() << "\n(see parley-bench --help)\n";
        return 2;
    }
    if (!options) {
        std::cout << usage();
        return 0;
    }
    if (sodium_init() < 0) {
        std::cerr << "parley-bench: libsodium failed to initialise\n";
        return 2;
    }

    // The hard cap of the whole run: whatever hangs (a server that stops answering a REST call,
    // a close that never completes), the process ends by then and says so.
    std::thread([deadline = options->deadlineSec, name = options->scenarioName] {
        std::this_thread::sleep_for(std::chrono::duration<double>(deadline));
        std::cerr << "parley-bench: the hard deadline of " << deadline << " s passed; abandoning the run\n";
        std::cout << toJsonLine(
                         boost::json::object{{"scenario", name}, {"ok", false}, {"error", "hard deadline passed"}})
                  << std::endl;
        std::_Exit(3);
    }).detach();

    Report report(*options);
    try {
        switch (options->scenario) {
        case Scenario::Hold: runHold(*options, report); break;
        case Scenario::Fanout:
        case Scenario::Polling: runFanout(*options, report); break;
        case Scenario::Churn: runChurn(*options, report); break;
        case Scenario::ReconnectStorm: runReconnectStorm(*options, report); break;
        case Scenario::BigRoom: runBigRoom(*options, report); break;
        }
    } catch (const std::exception& e) {
        // Set-up failed (server unreachable, a REST call refused, too few descriptors).
        report.json()["error"] = e.what();
        report.fail(std::string("could not run: ") + e.what());
        report.print();
        return 2;
    }
    report.print();
    return report.passed() ? 0 : 1;
}
