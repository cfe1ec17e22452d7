#pragma once

#include "Options.hpp"
#include "ProcProbe.hpp"
#include "Report.hpp"

#include <chrono>
#include <cstddef>
#include <string>

namespace parley::bench {

class Fleet;

/// Each runs one scenario end to end (set-up, window, checks) and fills the report. Set-up
/// failures throw; correctness failures go to Report::fail().
void runHold(const Options& options, Report& report);
void runFanout(const Options& options, Report& report); ///< fanout and polling
void runChurn(const Options& options, Report& report);
void runReconnectStorm(const Options& options, Report& report);
void runBigRoom(const Options& options, Report& report);

// Shared by the scenarios.

/// Lifetime of the run's tokens: the whole run, with an hour to spare.
std::chrono::seconds tokenTtl(const Options& options);

/// 8 random hex characters: the prefix of every clientId of this run.
std::string makeRunTag();

/// Raises the soft descriptor limit to the hard one; throws if `needed` still does not fit.
void ensureDescriptors(std::size_t needed);

/// Adds the server/generator figures of a window to the report: `prefix` + "Window" as an
/// object, the generator line to the summary, and the generatorBound flag (OR-ed in).
void addWindow(Report& report, const std::string& prefix, const WindowFigures& w);

/// One failed client's reason, for the summary ("" when none failed).
std::string firstError(const Fleet& fleet);

} // namespace parley::bench
