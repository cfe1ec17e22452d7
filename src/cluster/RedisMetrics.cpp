#include "cluster/RedisMetrics.hpp"

namespace parley::cluster {

void RedisMetrics::registerWith(core::MetricsRegistry& registry) const {
    registry.addCounter("parley_redis_reconnects_total",
                        "Redis connections lost or not opened, each followed by a retry after a backoff.",
                        redisReconnects);
    registry.addCounter("parley_redis_commands_failed_total",
                        "Redis commands completed without a reply: not connected, timed out, connection lost, "
                        "too many pending or closed.",
                        redisCommandsFailed);
    registry.addCounter("parley_redis_publish_errors_total",
                        "PUBLISH commands that failed or got an error reply: messages other nodes did not get.",
                        redisPublishErrors);
}

} // namespace parley::cluster
