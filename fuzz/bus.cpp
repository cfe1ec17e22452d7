// The cluster bus as a Parley node reads it: whatever any peer on Redis publishes on the
// broadcast channel (parseBroadcast) or the request channel (parseRequest). Both must reject
// anything malformed without crashing, and what they accept must re-encode: an accepted
// broadcast's arguments are valid JSON, and encodeBroadcast of it parses back to the same event.
//
// Input: the first byte picks the channel (even: broadcast, odd: request); the rest is the message.
#include "cluster/BusMessages.hpp"

#include <boost/json/parse.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace bus = parley::cluster::bus;

namespace {

void check(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
}

void checkEvent(const bus::Event& e) {
    boost::system::error_code ec;
    const auto args = boost::json::parse("[" + e.argsText + "]", ec);
    check(!ec && args.is_array(), "accepted arguments are JSON");
    const parley::socketio::BroadcastPacket packet{e.event, e.argsText, e.buffers};
    const auto again = bus::parseBroadcast(bus::encodeBroadcast("fuzz", "/", packet, e.opts), "/");
    check(again.has_value(), "a re-encoded broadcast parses");
    check(again->event == e.event, "event name survives");
    check(again->opts.rooms == e.opts.rooms, "rooms survive");
    check(again->buffers.size() == e.buffers.size(), "attachments survive");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (data[0] % 2 == 0) {
        if (auto event = bus::parseBroadcast(bytes, "/")) checkEvent(*event);
    } else if (auto request = bus::parseRequest(bytes, "/")) {
        if (request->type == bus::RequestType::Broadcast) checkEvent(request->packet);
    }
    return 0;
}
