#include "engineio/Metrics.hpp"

namespace parley::engineio {

void Metrics::registerWith(core::MetricsRegistry& registry) const {
    registry.addGauge("parley_engineio_sessions", "Engine.IO sessions open now.", sessionsOpen);
    registry.addCounter("parley_engineio_sessions_opened_total", "Engine.IO sessions opened since start.",
                        sessionsOpened);
    registry.addCounter("parley_handshakes_refused_total", "Handshakes refused: too many per second from one address.",
                        handshakesRefused);
    registry.addCounter("parley_slow_consumers_closed_total", "Sessions closed because the client stopped reading.",
                        slowConsumersClosed);
    registry.addCounter("parley_volatile_dropped_total", "Volatile packets (typing) dropped for a backed-up client.",
                        volatileDropped);
}

} // namespace parley::engineio
