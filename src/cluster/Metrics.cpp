#include "cluster/Metrics.hpp"

namespace parley::cluster {

void Metrics::registerWith(core::MetricsRegistry& registry) const {
    registry.addCounter("parley_cluster_published_total", "Messages this node published on the cluster bus.",
                        published);
    registry.addCounter("parley_cluster_publish_failed_total",
                        "Cluster bus publishes lost because Redis was away or refused them.", publishFailed);
    registry.addCounter("parley_cluster_received_total", "Cluster bus messages from other nodes handled.", received);
    registry.addCounter("parley_cluster_dropped_total",
                        "Cluster bus messages dropped as malformed, too large or not understood.", dropped);
    registry.addGauge("parley_cluster_redis_connected", "1 while both Redis connections of the cluster bus are up.",
                      connected);
    redis.registerWith(registry);
}

} // namespace parley::cluster
