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

/// The arguments as a JSON array, as deep as a bus message may be (bus::Limits).
boost::json::value argsOf(const std::string& argsText, boost::system::error_code& ec) {
    boost::json::parse_options deep;
    deep.max_depth = bus::Limits{}.maxDepth;
    return boost::json::parse("[" + argsText + "]", ec, {}, deep);
}

void checkEvent(const bus::Event& e) {
    boost::system::error_code ec;
    const auto args = argsOf(e.argsText, ec);
    check(!ec && args.is_array(), "accepted arguments are JSON");
    const parley::socketio::BroadcastPacket packet{e.event, e.argsText, e.buffers};
    const auto again = bus::parseBroadcast(bus::encodeBroadcast("fuzz", "/", packet, e.opts), "/");
    check(again.has_value(), "a re-encoded broadcast parses");
    check(again->event == e.event, "event name survives");
    boost::system::error_code againEc;
    const auto argsAgain = argsOf(again->argsText, againEc);
    check(!againEc && argsAgain.is_array() && argsAgain.get_array().size() == args.get_array().size(),
          "every argument survives");
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
