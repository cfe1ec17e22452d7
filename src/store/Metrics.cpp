#include "store/Metrics.hpp"

namespace parley::store {

void Metrics::registerWith(core::MetricsRegistry& registry) const {
    registry.addCounter("parley_store_commits_total", "Store transactions committed (each one sync of the WAL).",
                        storeCommits);
    registry.addCounter("parley_store_committed_writes_total",
                        "Writes carried by those commits; divided by the commits, the mean group-commit size.",
                        storeCommittedWrites);
    registry.addHistogram("parley_store_commit_seconds",
                          "Time each store commit took: the write and sync of the WAL, the disk's share of an ack.",
                          storeCommitSeconds);
    registry.addHistogram("parley_store_write_seconds",
                          "Time from a write's queueing to its commit's outcome: the store's share of an ack "
                          "(queue, group-commit wait, statements, commit).",
                          storeWriteSeconds);
}

} // namespace parley::store
