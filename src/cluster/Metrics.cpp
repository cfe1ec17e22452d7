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
    registry.addCounter("parley_cluster_polls_forwarded_total",
                        "Long-polling requests for another node's session sent to that node.", pollsForwarded);
    registry.addCounter("parley_cluster_poll_forwards_failed_total",
                        "Forwarded long-polling requests not answered: the owner was gone or too late.",
                        pollForwardsFailed);
    registry.addCounter("parley_cluster_polls_served_for_peers_total",
                        "Long-polling requests other nodes forwarded to this one, the session's owner.",
                        pollsServedForPeers);
    registry.addCounter("parley_cluster_order_held_total",
                        "Chat events from the cluster held until an earlier event of the chat arrived.", orderHeld);
    registry.addCounter("parley_cluster_order_skipped_total",
                        "Chat events given up after waiting for them: their node never published them.", orderSkipped);
    registry.addCounter("parley_cluster_order_late_total",
                        "Chat events that arrived after later events of the chat had been delivered.", orderLate);
    registry.addGauge("parley_cluster_redis_connected", "1 while both Redis connections of the cluster bus are up.",
                      connected);
    redis.registerWith(registry);
}

} // namespace parley::cluster
