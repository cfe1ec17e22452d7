#include "socketio/codec/Errc.hpp"

#include "core/Assert.hpp"
#include "socketio/codec/LoneSurrogates.hpp"
#include "socketio/codec/Packet.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <charconv>

namespace parley::socketio::codec {

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

namespace {
class CodecCategory final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "socketio.codec"; }
    std::string message(int ev) const override {
        switch (static_cast<Errc>(ev)) {
        case Errc::EmptyPacket: return "empty packet";
        case Errc::UnknownPacketType: return "unknown packet type";
        case Errc::BadAttachments: return "illegal attachments";
        case Errc::InvalidJson: return "invalid JSON";
        case Errc::InvalidPayload: return "invalid payload";
        case Errc::BadPlaceholder: return "placeholder without attachment";
        case Errc::UnexpectedBinary: return "unexpected binary frame";
        }
        return "unknown socket.io codec error";
    }
};

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// A placeholder is {"_placeholder":true,"num":N}; every one must name an existing attachment.
bool placeholdersValid(const boost::json::value& v, std::size_t attachments, int depth = 0) {
    if (depth > 64) return true; // Boost.JSON's own depth limit already bounds this
    if (const auto* obj = v.if_object()) {
        const auto* ph = obj->if_contains("_placeholder");
        if (ph && ph->is_bool() && ph->get_bool()) {
            const auto* num = obj->if_contains("num");
            if (!num || !num->is_number()) return false;
            const auto* n = num->if_int64();
            const auto* u = num->if_uint64();
            if (n) return *n >= 0 && static_cast<std::size_t>(*n) < attachments;
            if (u) return *u < attachments;
            return false;
        }
        for (const auto& kv : *obj)
            if (!placeholdersValid(kv.value(), attachments, depth + 1)) return false;
    } else if (const auto* arr = v.if_array()) {
        for (const auto& e : *arr)
            if (!placeholdersValid(e, attachments, depth + 1)) return false;
    }
    return true;
}

// The payload rules of the reference parser (isPayloadValid).
bool payloadValid(const Packet& p, std::size_t maxEventNameBytes) {
    const bool absent = p.data.empty();
    switch (p.type) {
    case PacketType::Connect: return absent || p.json.is_object();
    case PacketType::Disconnect: return absent;
    case PacketType::ConnectError: return !absent && (p.json.is_object() || p.json.is_string());
    case PacketType::Event:
    case PacketType::BinaryEvent: {
        const auto* arr = p.json.if_array();
        if (!arr || arr->empty() || !(*arr)[0].is_string()) return false;
        // Names the client library uses for its own events can't be emitted (as the reference).
        const std::string_view name = (*arr)[0].get_string();
        if (maxEventNameBytes && name.size() > maxEventNameBytes) return false;
        for (std::string_view reserved :
             {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"})
            if (name == reserved) return false;
        return true;
    }
    case PacketType::Ack:
    case PacketType::BinaryAck: return p.id.has_value() && p.json.is_array();
    }
    return false;
}

// Skips JSON whitespace from `i`.
std::size_t skipWs(std::string_view s, std::size_t i) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    return i;
}
} // namespace

const boost::system::error_category& codecCategory() noexcept {
    static const CodecCategory category;
    return category;
}

// ---------------------------------------------------------------------------------------------
// Decode / encode
// ---------------------------------------------------------------------------------------------

boost::system::result<Packet> decode(std::string_view s, const DecodeLimits& limits) {
    if (s.empty()) return Errc::EmptyPacket;
    if (s[0] < '0' || s[0] > '6') return Errc::UnknownPacketType;
    Packet p;
    p.type = static_cast<PacketType>(s[0] - '0');
    std::size_t i = 1;

    if (p.type == PacketType::BinaryEvent || p.type == PacketType::BinaryAck) {
        const std::size_t start = i;
        while (i < s.size() && isDigit(s[i])) ++i;
        if (i == start || i >= s.size() || s[i] != '-') return Errc::BadAttachments;
        std::size_t n = 0;
        auto [ptr, ec] = std::from_chars(s.data() + start, s.data() + i, n);
        if (ec != std::errc{} || n == 0 || n > std::min(limits.maxAttachments, kMaxAttachments))
            return Errc::BadAttachments;
        p.attachments = n;
        ++i; // '-'
    }

    if (i < s.size() && s[i] == '/') {
        const std::size_t comma = s.find(',', i);
        const std::size_t end = comma == std::string_view::npos ? s.size() : comma;
        p.nsp.assign(s.substr(i, end - i));
        i = comma == std::string_view::npos ? s.size() : comma + 1;
    }

    if (i < s.size() && isDigit(s[i])) {
        const std::size_t start = i;
        while (i < s.size() && isDigit(s[i])) ++i;
        std::uint64_t id = 0;
        auto [ptr, ec] = std::from_chars(s.data() + start, s.data() + i, id);
        if (ec != std::errc{}) return Errc::InvalidPayload;
        p.id = id;
    }

    if (i < s.size()) {
        p.data.assign(s.substr(i));
        boost::system::error_code ec;
        boost::json::parse_options options;
        options.max_depth = std::min(limits.maxJsonDepth, kMaxJsonDepth);
        p.json = boost::json::parse(p.data, ec, {}, options);
        if (ec) {
            // A JavaScript client's lone surrogate is data, not a broken packet: `json` gets U+FFFD
            // in its place rather than the client losing its connection. `data` stays as sent, so
            // an echo still returns it byte for byte (as Node's JSON.parse + stringify would).
            auto repaired = replaceLoneSurrogates(p.data);
            if (!repaired) return Errc::InvalidJson;
            ec = {};
            p.json = boost::json::parse(*repaired, ec, {}, options);
            if (ec) return Errc::InvalidJson;
        }
    }

    if (!payloadValid(p, limits.maxEventNameBytes)) return Errc::InvalidPayload;
    // Placeholders mean something only in binary packets; elsewhere they are plain data.
    if (p.attachments > 0 && !placeholdersValid(p.json, p.attachments)) return Errc::BadPlaceholder;
    return p;
}

void encode(std::string& out, PacketType type, std::string_view nsp, std::optional<std::uint64_t> id,
            std::size_t attachments, std::string_view jsonText) {
    out.push_back(static_cast<char>('0' + static_cast<int>(type)));
    if (type == PacketType::BinaryEvent || type == PacketType::BinaryAck) {
        out += std::to_string(attachments);
        out.push_back('-');
    }
    if (!nsp.empty() && nsp != "/") {
        out.append(nsp);
        out.push_back(',');
    }
    if (id) out += std::to_string(*id);
    out.append(jsonText);
}

boost::system::result<EventView> splitEvent(const Packet& packet) {
    const auto* arr = packet.json.if_array();
    if (!arr || arr->empty() || !(*arr)[0].is_string()) return Errc::InvalidPayload;
    const std::string_view s = packet.data;
    // data is a valid JSON array whose first element is a string: walk over that string.
    std::size_t i = skipWs(s, 0) + 1; // '['
    i = skipWs(s, i) + 1;             // opening quote
    while (i < s.size() && s[i] != '"') i += (s[i] == '\\') ? 2 : 1;
    i = skipWs(s, i + 1);
    EventView view;
    const auto& name = (*arr)[0].get_string();
    view.name = std::string_view(name.data(), name.size());
    if (i < s.size() && s[i] == ',') {
        const std::size_t close = s.rfind(']');
        PARLEY_ASSERT(close != std::string_view::npos && close > i, "data is the JSON array that json holds");
        view.args = s.substr(i + 1, close - i - 1);
    }
    return view;
}

std::string_view ackArgs(const Packet& packet) {
    const std::string_view s = packet.data;
    const std::size_t open = s.find('[');
    const std::size_t close = s.rfind(']');
    if (open == std::string_view::npos || close == std::string_view::npos || close <= open) return {};
    return s.substr(open + 1, close - open - 1);
}

// ---------------------------------------------------------------------------------------------
// Binary reassembly
// ---------------------------------------------------------------------------------------------

void BinaryReassembler::start(Packet header) {
    header.buffers.clear();
    header.buffers.reserve(header.attachments);
    pending_ = std::move(header);
    bytes_ = 0;
}

boost::system::result<std::optional<Packet>> BinaryReassembler::add(std::string bytes) {
    if (!pending_) return Errc::UnexpectedBinary;
    bytes_ += bytes.size();
    if (maxBytes_ && bytes_ > maxBytes_) {
        pending_.reset();
        return Errc::BadAttachments;
    }
    pending_->buffers.push_back(std::move(bytes));
    if (pending_->buffers.size() < pending_->attachments) return std::optional<Packet>{};
    std::optional<Packet> done = std::move(pending_);
    pending_.reset();
    return done;
}

} // namespace parley::socketio::codec
