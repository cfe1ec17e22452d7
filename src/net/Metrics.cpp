#include "net/Metrics.hpp"

namespace parley::net {

void Metrics::registerWith(core::MetricsRegistry& registry) const {
    registry.addCounter("parley_connections_refused_total", "TCP connections refused: too many from one address.",
                        connectionsRefused);
}

} // namespace parley::net
