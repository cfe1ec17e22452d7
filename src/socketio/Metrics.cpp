#include "socketio/Metrics.hpp"

namespace parley::socketio {

void Metrics::registerWith(core::MetricsRegistry& registry) const {
    registry.addGauge("parley_socketio_sockets", "Socket.IO sockets connected now, all namespaces.", socketsConnected);
}

} // namespace parley::socketio
