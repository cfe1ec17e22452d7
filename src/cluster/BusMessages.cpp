#include "cluster/BusMessages.hpp"

#include "cluster/Msgpack.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>

namespace parley::cluster::bus {

namespace json = boost::json;

std::string_view describe(Malformed m) noexcept {
    switch (m) {
    case Malformed::Decode: return "undecodable";
    case Malformed::Shape: return "unexpected shape";
    case Malformed::Namespace: return "another namespace";
    case Malformed::UnknownType: return "unknown request type";
    }
    return "malformed";
}

namespace {

/// The longest chain name an `order` may carry (a chat id is 24 characters).
constexpr std::size_t kMaxOrderChain = 256;

/// A room name: a string, or a number (Node allows numeric rooms) as its decimal text.
std::optional<std::string> roomName(const json::value& v) {
    if (v.is_string()) return std::string(v.get_string());
    if (v.is_int64()) return std::to_string(v.get_int64());
    if (v.is_uint64()) return std::to_string(v.get_uint64());
    return std::nullopt;
}

/// An array of room names (a missing or null field is an empty list).
bool roomList(const json::object& o, std::string_view key, std::vector<std::string>& out) {
    const auto* v = o.if_contains(key);
    if (!v || v->is_null()) return true;
    if (!v->is_array()) return false;
    out.reserve(v->get_array().size());
    for (const auto& r : v->get_array()) {
        auto name = roomName(r);
        if (!name) return false;
        out.push_back(std::move(*name));
    }
    return true;
}

/// opts = {rooms, except, flags} of a broadcast or a request.
bool parseOptions(const json::value& v, socketio::BroadcastOptions& opts, std::optional<std::uint64_t>* timeout) {
    if (!v.is_object()) return false;
    const auto& o = v.get_object();
    if (!roomList(o, "rooms", opts.rooms) || !roomList(o, "except", opts.except)) return false;
    if (const auto* flags = o.if_contains("flags"); flags && flags->is_object()) {
        const auto& f = flags->get_object();
        if (const auto* vol = f.if_contains("volatile"); vol && vol->is_bool()) opts.isVolatile = vol->get_bool();
        if (timeout)
            if (const auto* t = f.if_contains("timeout"); t && t->is_number()) {
                const double ms = t->to_number<double>();
                if (ms >= 0 && ms < 1e9) *timeout = static_cast<std::uint64_t>(ms);
            }
    }
    // Parley's own key, which Node's adapter ignores: [chain, seq] (BroadcastOrder).
    if (const auto* order = o.if_contains("order")) {
        const auto* pair = order->if_array();
        if (!pair || pair->size() != 2 || !(*pair)[0].is_string() || !(*pair)[1].is_number()) return false;
        const auto& chain = (*pair)[0].get_string();
        boost::system::error_code ec;
        const auto seq = (*pair)[1].to_number<std::int64_t>(ec);
        if (ec || seq <= 0 || chain.empty() || chain.size() > kMaxOrderChain) return false;
        opts.order = socketio::BroadcastOrder{std::string(chain), seq};
    }
    return true;
}

std::string text(const json::value& v) { return json::serialize(v); }

/// Socket.IO's binary model: an attachment is referred to by {"_placeholder":true,"num":N}.
/// Renumbers the placeholders of `v` in order of appearance, taking their bytes from `in`, so
/// that the packet carries exactly the attachments its arguments use (a bin elsewhere in the
/// message, or one referred to twice, cannot misalign them). A placeholder whose N has no
/// attachment stays a plain object.
void renumber(boost::json::value& v, std::vector<std::string>& in, std::vector<std::string>& out) {
    if (v.is_array()) {
        for (auto& e : v.get_array()) renumber(e, in, out);
        return;
    }
    if (!v.is_object()) return;
    auto& o = v.get_object();
    const auto* mark = o.if_contains("_placeholder");
    const auto* num = o.if_contains("num");
    std::optional<std::uint64_t> index;
    if (num && num->is_uint64()) index = num->get_uint64();
    if (num && num->is_int64() && num->get_int64() >= 0) index = static_cast<std::uint64_t>(num->get_int64());
    if (o.size() == 2 && mark && mark->is_bool() && mark->get_bool() && index && *index < in.size()) {
        out.push_back(in[static_cast<std::size_t>(*index)]);
        o["num"] = static_cast<std::int64_t>(out.size() - 1);
        return;
    }
    for (auto& [key, e] : o) renumber(e, in, out);
}

/// packet = {type: 2 (or 5), data: [event, ...args], nsp} into `out`.
std::optional<Malformed> parsePacket(json::value& v, std::string_view nsp, std::vector<std::string>&& buffers,
                                     Event& out) {
    if (!v.is_object()) return Malformed::Shape;
    auto& p = v.get_object();
    const auto* type = p.if_contains("type");
    if (!type || !type->is_number() || (type->to_number<double>() != 2 && type->to_number<double>() != 5))
        return Malformed::Shape;
    const auto* n = p.if_contains("nsp");
    // An emitter may leave nsp out: it then means "/".
    const std::string_view packetNsp = (n && n->is_string()) ? std::string_view(n->get_string()) : "/";
    if (n && !n->is_string() && !n->is_null()) return Malformed::Shape;
    if (packetNsp != nsp) return Malformed::Namespace;
    auto* data = p.if_contains("data");
    if (!data || !data->is_array() || data->get_array().empty() || !data->get_array()[0].is_string())
        return Malformed::Shape;
    auto& d = data->get_array();
    out.event = std::string(d[0].get_string());
    for (std::size_t i = 1; i < d.size(); ++i) {
        if (!buffers.empty()) renumber(d[i], buffers, out.buffers);
        if (i > 1) out.argsText.push_back(',');
        out.argsText += text(d[i]);
    }
    return std::nullopt;
}

msgpack::DecodeLimits decodeLimits(const Limits& limits) {
    msgpack::DecodeLimits d;
    d.maxDepth = limits.maxDepth;
    d.maxAttachments = limits.maxAttachments;
    return d;
}

std::optional<std::string> stringField(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v || !v->is_string()) return std::nullopt;
    return std::string(v->get_string());
}

/// requestId: a string in Node's adapter; a number is accepted as its text.
std::string requestIdOf(const json::object& o) {
    const auto* v = o.if_contains("requestId");
    if (!v) return {};
    if (auto s = roomName(*v)) return *s;
    return {};
}

std::optional<Malformed> parseRoomsRequest(const json::object& o, Request& r) {
    if (const auto* opts = o.if_contains("opts"); opts && !opts->is_null()) {
        r.hasOpts = true;
        if (!parseOptions(*opts, r.opts, nullptr)) return Malformed::Shape;
        if (r.type == RequestType::RemoteDisconnect) {
            const auto* close = o.if_contains("close");
            r.close = close && close->is_bool() && close->get_bool();
            return std::nullopt;
        }
        if (!roomList(o, "rooms", r.rooms)) return Malformed::Shape;
        return std::nullopt;
    }
    auto sid = stringField(o, "sid");
    if (!sid) return Malformed::Shape;
    r.sid = std::move(*sid);
    if (r.type == RequestType::RemoteDisconnect) {
        const auto* close = o.if_contains("close");
        r.close = close && close->is_bool() && close->get_bool();
        return std::nullopt;
    }
    const auto* room = o.if_contains("room");
    auto name = room ? roomName(*room) : std::nullopt;
    if (!name) return Malformed::Shape;
    r.room = std::move(*name);
    return std::nullopt;
}

std::optional<Malformed> parseRequestFields(json::object& o, std::string_view nsp, std::vector<std::string>&& buffers,
                                            Request& r) {
    r.uid = stringField(o, "uid").value_or("");
    r.requestId = requestIdOf(o);
    switch (r.type) {
    case RequestType::Sockets:
        if (!roomList(o, "rooms", r.opts.rooms)) return Malformed::Shape;
        return r.requestId.empty() ? std::optional(Malformed::Shape) : std::nullopt;
    case RequestType::AllRooms: return r.requestId.empty() ? std::optional(Malformed::Shape) : std::nullopt;
    case RequestType::RemoteJoin:
    case RequestType::RemoteLeave:
    case RequestType::RemoteDisconnect: return parseRoomsRequest(o, r);
    case RequestType::RemoteFetch: {
        const auto* opts = o.if_contains("opts");
        if (r.requestId.empty() || !opts || !parseOptions(*opts, r.opts, nullptr)) return Malformed::Shape;
        r.hasOpts = true;
        return std::nullopt;
    }
    case RequestType::ServerSideEmit: {
        const auto* data = o.if_contains("data");
        if (!data || !data->is_array() || data->get_array().empty() || !data->get_array()[0].is_string())
            return Malformed::Shape;
        r.data = data->get_array();
        r.wantsReply = o.contains("requestId") && !r.requestId.empty();
        return std::nullopt;
    }
    case RequestType::Broadcast: {
        auto* packet = o.if_contains("packet");
        const auto* opts = o.if_contains("opts");
        if (r.requestId.empty() || !packet || !opts) return Malformed::Shape;
        if (!parseOptions(*opts, r.packet.opts, &r.packet.ackTimeoutMs)) return Malformed::Shape;
        r.packet.uid = r.uid;
        return parsePacket(*packet, nsp, std::move(buffers), r.packet);
    }
    case RequestType::BroadcastClientCount:
    case RequestType::BroadcastAck: return std::nullopt; // responses: nothing to parse
    }
    return Malformed::UnknownType;
}

} // namespace

boost::system::result<Event, Malformed> parseBroadcast(std::string_view bytes, std::string_view nsp,
                                                       const Limits& limits) {
    if (bytes.size() > limits.maxBytes) return Malformed::Decode;
    std::vector<std::string> buffers;
    auto decoded = msgpack::decode(bytes, buffers, decodeLimits(limits));
    if (!decoded) return Malformed::Decode;
    if (!decoded->is_array() || decoded->get_array().size() < 3) return Malformed::Shape;
    auto& parts = decoded->get_array();
    Event out;
    if (parts[0].is_string())
        out.uid = std::string(parts[0].get_string());
    else if (!parts[0].is_null())
        return Malformed::Shape;
    if (!parseOptions(parts[2], out.opts, nullptr)) return Malformed::Shape;
    if (auto bad = parsePacket(parts[1], nsp, std::move(buffers), out)) return *bad;
    return out;
}

boost::system::result<Request, Malformed> parseRequest(std::string_view bytes, std::string_view nsp,
                                                       const Limits& limits) {
    if (bytes.size() > limits.maxBytes || bytes.empty()) return Malformed::Decode;
    std::vector<std::string> buffers;
    json::value v;
    if (bytes.front() == '{') {
        boost::system::error_code ec;
        json::parse_options po;
        po.max_depth = limits.maxDepth;
        v = json::parse(json::string_view(bytes.data(), bytes.size()), ec, {}, po);
        if (ec) return Malformed::Decode;
    } else {
        auto decoded = msgpack::decode(bytes, buffers, decodeLimits(limits));
        if (!decoded) return Malformed::Decode;
        v = std::move(*decoded);
    }
    if (!v.is_object()) return Malformed::Shape;
    auto& o = v.get_object();
    const auto* type = o.if_contains("type");
    if (!type || !type->is_number()) return Malformed::Shape;
    const double t = type->to_number<double>();
    if (t < 0 || t > 9 || t != static_cast<double>(static_cast<int>(t))) return Malformed::UnknownType;
    Request r;
    r.type = static_cast<RequestType>(static_cast<int>(t));
    if (auto bad = parseRequestFields(o, nsp, std::move(buffers), r)) return *bad;
    return r;
}

namespace {

void writeRooms(msgpack::Writer& w, const std::vector<std::string>& rooms, const std::string* extra = nullptr) {
    w.arrayHeader(static_cast<std::uint32_t>(rooms.size() + (extra ? 1 : 0)));
    for (const auto& r : rooms) w.string(r);
    if (extra) w.string(*extra);
}

json::array roomsJson(const std::vector<std::string>& rooms, const std::string* extra = nullptr) {
    json::array a;
    a.reserve(rooms.size() + 1);
    for (const auto& r : rooms) a.emplace_back(r);
    if (extra) a.emplace_back(*extra);
    return a;
}

json::object optsJson(const socketio::BroadcastOptions& opts) {
    const std::string* sid = opts.exceptSid.empty() ? nullptr : &opts.exceptSid;
    return json::object{{"rooms", roomsJson(opts.rooms)}, {"except", roomsJson(opts.except, sid)}};
}

} // namespace

std::string encodeBroadcast(std::string_view uid, std::string_view nsp, const socketio::BroadcastPacket& packet,
                            const socketio::BroadcastOptions& opts) {
    std::string body = "[";
    body.append(packet.argsText);
    body.push_back(']');
    boost::system::error_code ec;
    // As deep as a bus message may be (Limits): arguments a peer may send are re-published whole.
    json::parse_options deep;
    deep.max_depth = Limits{}.maxDepth;
    const json::value args = json::parse(body, ec, {}, deep);
    std::string out;
    msgpack::Writer w(out);
    w.arrayHeader(3);
    w.string(uid);
    w.mapHeader(3);
    w.string("type");
    w.integer(2);
    w.string("data");
    const std::size_t argc = (!ec && args.is_array()) ? args.get_array().size() : 0;
    w.arrayHeader(static_cast<std::uint32_t>(1 + argc));
    w.string(packet.event);
    for (std::size_t i = 0; i < argc; ++i) w.json(args.get_array()[i], packet.buffers);
    w.string("nsp");
    w.string(nsp);
    w.mapHeader(opts.order ? 4 : 3);
    w.string("rooms");
    writeRooms(w, opts.rooms);
    w.string("except");
    writeRooms(w, opts.except, opts.exceptSid.empty() ? nullptr : &opts.exceptSid);
    w.string("flags");
    w.mapHeader(opts.isVolatile ? 1 : 0);
    if (opts.isVolatile) {
        w.string("volatile");
        w.boolean(true);
    }
    if (opts.order) {
        w.string("order");
        w.arrayHeader(2);
        w.string(opts.order->chain);
        w.integer(opts.order->seq);
    }
    return out;
}

std::string broadcastChannel(std::string_view prefix, const socketio::BroadcastOptions& opts) {
    std::string channel(prefix);
    if (opts.rooms.size() == 1) {
        channel += opts.rooms.front();
        channel.push_back('#');
    }
    return channel;
}

std::string encodeRoomsRequest(std::string_view uid, RequestType type, const socketio::BroadcastOptions& opts,
                               const std::vector<std::string>& rooms) {
    return json::serialize(json::object{
        {"uid", uid}, {"type", static_cast<int>(type)}, {"opts", optsJson(opts)}, {"rooms", roomsJson(rooms)}});
}

std::string encodeDisconnectRequest(std::string_view uid, const socketio::BroadcastOptions& opts, bool close) {
    return json::serialize(json::object{{"uid", uid},
                                        {"type", static_cast<int>(RequestType::RemoteDisconnect)},
                                        {"opts", optsJson(opts)},
                                        {"close", close}});
}

std::string encodeBroadcastAck(std::string_view requestId, const json::value& arg,
                               const std::vector<std::string>& buffers) {
    std::string out;
    msgpack::Writer w(out);
    w.mapHeader(3);
    w.string("type");
    w.integer(static_cast<int>(RequestType::BroadcastAck));
    w.string("requestId");
    w.string(requestId);
    w.string("packet");
    w.json(arg, buffers);
    return out;
}

} // namespace parley::cluster::bus
