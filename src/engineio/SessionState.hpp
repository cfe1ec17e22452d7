#pragma once

#include <cstdint>
#include <string_view>

namespace parley::engineio {

/// Where one Engine.IO session is in its life. Every change goes through Session::enter(),
/// which asserts isLegalTransition(). The open states come first: a session is open while
/// its state is before Draining.
enum class SessionState : std::uint8_t {
    Polling,   ///< on long-polling, no upgrade under way
    Probing,   ///< on polling; a WebSocket to upgrade to is open, its "2probe" not yet received
    Upgrading, ///< the probe got "3probe": polling is paused (GETs get a noop) until its "5"
    WebSocket, ///< on a WebSocket, from the handshake or from a completed upgrade, for good
    Draining,  ///< closed on polling; one more GET takes the last packets (or the noop)
    Closed,    ///< over and out of the server's table; the handler got onClose
};

/// True while the session carries messages (before Draining).
constexpr bool isOpen(SessionState state) noexcept { return state < SessionState::Draining; }

/// The transitions the session makes. A session starts in Polling or WebSocket (as its
/// handshake asked), leaves the upgrade states only back to Polling, forward to WebSocket, or
/// closed, and never goes back from Draining or Closed. Staying in a state is not a transition.
constexpr bool isLegalTransition(SessionState from, SessionState to) noexcept {
    using S = SessionState;
    switch (from) {
    case S::Polling: return to == S::Probing || to == S::Draining || to == S::Closed;
    case S::Probing: return to == S::Upgrading || to == S::Polling || to == S::Draining || to == S::Closed;
    case S::Upgrading: return to == S::WebSocket || to == S::Polling || to == S::Draining || to == S::Closed;
    case S::WebSocket: return to == S::Closed;
    case S::Draining: return to == S::Closed;
    case S::Closed: return false;
    }
    return false;
}

constexpr std::string_view toString(SessionState state) noexcept {
    switch (state) {
    case SessionState::Polling: return "polling";
    case SessionState::Probing: return "probing";
    case SessionState::Upgrading: return "upgrading";
    case SessionState::WebSocket: return "websocket";
    case SessionState::Draining: return "draining";
    case SessionState::Closed: return "closed";
    }
    return "?";
}

} // namespace parley::engineio
