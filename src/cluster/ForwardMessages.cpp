#include "cluster/ForwardMessages.hpp"

#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <array>
#include <optional>

namespace parley::cluster::forward {

namespace http = boost::beast::http;

namespace {
constexpr char kFormat = 1;
enum class Kind : char { Request = 1, Response = 2, Abort = 3 };

constexpr std::size_t kMaxUid = 32;
constexpr std::size_t kMaxTarget = 64 * 1024;
constexpr std::size_t kMaxField = 8 * 1024;
constexpr std::size_t kMaxFields = 16;

void putU64(std::string& out, std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void putString(std::string& out, std::string_view s) {
    const auto n = static_cast<std::uint32_t>(s.size());
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xff));
    out.append(s);
}

std::string_view headerOf(const net::Request& req, http::field f) {
    const auto it = req.find(f);
    return it == req.end() ? std::string_view{} : std::string_view(it->value());
}

/// Reads the framing; every read checks what remains first.
class Reader {
public:
    explicit Reader(std::string_view bytes) : bytes_(bytes) {}

    std::optional<unsigned> byte() {
        if (pos_ >= bytes_.size()) return std::nullopt;
        return static_cast<unsigned char>(bytes_[pos_++]);
    }
    std::optional<std::uint64_t> u64() { return number(8); }
    std::optional<unsigned> u16() {
        auto n = number(2);
        return n ? std::optional<unsigned>(static_cast<unsigned>(*n)) : std::nullopt;
    }
    std::optional<std::string_view> string(std::size_t max) {
        auto n = number(4);
        if (!n || *n > max || *n > bytes_.size() - pos_) return std::nullopt;
        const auto s = bytes_.substr(pos_, *n);
        pos_ += *n;
        return s;
    }
    bool done() const noexcept { return pos_ == bytes_.size(); }

private:
    std::optional<std::uint64_t> number(std::size_t width) {
        if (bytes_.size() - pos_ < width) return std::nullopt;
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < width; ++i) v = (v << 8) | static_cast<unsigned char>(bytes_[pos_ + i]);
        pos_ += width;
        return v;
    }

    std::string_view bytes_;
    std::size_t pos_ = 0;
};

bool isUid(std::string_view s) noexcept {
    return !s.empty() && s.size() <= kMaxUid && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    });
}

// A request target: origin-form, no space or control byte (nothing that could end the line).
bool isTarget(std::string_view s) noexcept {
    return !s.empty() && s.front() == '/' && std::all_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u > 0x20 && u != 0x7f;
    });
}

// A header value: visible bytes, spaces and tabs (RFC 9110 field-value), nothing that ends a line,
// and no space or tab first or last (an HTTP parser trims those: such a value is not one a
// request carries, and would not survive being set on one).
bool isFieldValue(std::string_view s) noexcept {
    const auto blank = [](char c) { return c == ' ' || c == '\t'; };
    if (!s.empty() && (blank(s.front()) || blank(s.back()))) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u == '\t' || (u >= 0x20 && u != 0x7f);
    });
}

Message decodeRequest(Reader& r) {
    RequestMessage m;
    auto from = r.string(kMaxUid);
    auto id = r.u64();
    auto method = r.byte();
    auto version = r.byte();
    if (!from || !isUid(*from) || !id || !method || !version) return Malformed{"bad request header"};
    if (*method != 1 && *method != 2) return Malformed{"method neither GET nor POST"};
    if (*version != 10 && *version != 11) return Malformed{"HTTP version neither 1.0 nor 1.1"};
    auto target = r.string(kMaxTarget);
    auto origin = r.string(kMaxField);
    auto contentType = r.string(kMaxField);
    auto client = r.string(kMaxField);
    auto body = r.string(std::string_view::npos);
    if (!target || !origin || !contentType || !client || !body || !r.done()) return Malformed{"truncated request"};
    if (!isTarget(*target)) return Malformed{"bad request target"};
    if (!isFieldValue(*origin) || !isFieldValue(*contentType) || !isFieldValue(*client))
        return Malformed{"bad header value"};
    m.from = *from;
    m.id = *id;
    m.method = *method == 1 ? http::verb::get : http::verb::post;
    m.version = *version;
    m.target = *target;
    m.origin = *origin;
    m.contentType = *contentType;
    m.clientAddress = *client;
    m.body = *body;
    return m;
}

Message decodeResponse(Reader& r) {
    ResponseMessage m;
    auto id = r.u64();
    auto status = r.u16();
    auto version = r.byte();
    auto count = r.byte();
    if (!id || !status || !version || !count) return Malformed{"truncated response"};
    if (*status < 100 || *status > 599) return Malformed{"bad status"};
    if (*version != 10 && *version != 11) return Malformed{"HTTP version neither 1.0 nor 1.1"};
    if (*count > kMaxFields) return Malformed{"too many fields"};
    m.fields.reserve(*count);
    for (unsigned i = 0; i < *count; ++i) {
        auto name = r.string(kMaxField);
        auto value = r.string(kMaxField);
        if (!name || !value) return Malformed{"truncated response"};
        if (!forwardedField(*name)) return Malformed{"a field that is not forwarded"};
        if (!isFieldValue(*value)) return Malformed{"bad header value"};
        m.fields.emplace_back(*name, *value);
    }
    auto body = r.string(std::string_view::npos);
    if (!body || !r.done()) return Malformed{"truncated response"};
    m.id = *id;
    m.status = *status;
    m.version = *version;
    m.body = *body;
    return m;
}

Message decodeAbort(Reader& r) {
    auto from = r.string(kMaxUid);
    auto id = r.u64();
    if (!from || !id || !r.done()) return Malformed{"truncated abort"};
    if (!isUid(*from)) return Malformed{"bad node uid"};
    return AbortMessage{*from, *id};
}
} // namespace

bool forwardedField(std::string_view name) noexcept {
    namespace beast = boost::beast;
    return beast::iequals(name, "Content-Type") || beast::iequals(name, "Vary") ||
           (name.size() > 15 && beast::iequals(name.substr(0, 15), "Access-Control-") &&
            std::all_of(name.begin(), name.end(),
                        [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-'; }));
}

std::string encodeRequest(std::string_view from, std::uint64_t id, const net::Request& req,
                          std::string_view clientAddress) {
    const auto origin = headerOf(req, http::field::origin);
    const auto contentType = headerOf(req, http::field::content_type);
    std::string out;
    out.reserve(2 + 4 + from.size() + 8 + 2 + 5 * 4 + req.target().size() + origin.size() + contentType.size() +
                clientAddress.size() + req.body().size());
    out.push_back(kFormat);
    out.push_back(static_cast<char>(Kind::Request));
    putString(out, from);
    putU64(out, id);
    out.push_back(static_cast<char>(req.method() == http::verb::post ? 2 : 1));
    out.push_back(static_cast<char>(req.version() == 10 ? 10 : 11));
    putString(out, req.target());
    putString(out, origin);
    putString(out, contentType);
    putString(out, clientAddress);
    putString(out, req.body());
    return out;
}

std::string encodeResponse(std::uint64_t id, const net::Response& res) {
    std::array<std::pair<std::string_view, std::string_view>, kMaxFields> fields;
    std::size_t count = 0;
    for (const auto& f : res) {
        if (count == fields.size() || !forwardedField(f.name_string())) continue;
        fields[count++] = {f.name_string(), f.value()};
    }
    std::string out;
    out.reserve(2 + 8 + 2 + 1 + 1 + count * 64 + 4 + res.body().size());
    out.push_back(kFormat);
    out.push_back(static_cast<char>(Kind::Response));
    putU64(out, id);
    const auto status = res.result_int();
    out.push_back(static_cast<char>((status >> 8) & 0xff));
    out.push_back(static_cast<char>(status & 0xff));
    out.push_back(static_cast<char>(res.version() == 10 ? 10 : 11));
    out.push_back(static_cast<char>(count));
    for (std::size_t i = 0; i < count; ++i) {
        putString(out, fields[i].first);
        putString(out, fields[i].second);
    }
    putString(out, res.body());
    return out;
}

std::string encodeAbort(std::string_view from, std::uint64_t id) {
    std::string out;
    out.push_back(kFormat);
    out.push_back(static_cast<char>(Kind::Abort));
    putString(out, from);
    putU64(out, id);
    return out;
}

Message decode(std::string_view bytes) {
    Reader r(bytes);
    const auto format = r.byte();
    const auto kind = r.byte();
    if (!format || !kind) return Malformed{"truncated"};
    if (*format != static_cast<unsigned>(kFormat)) return Malformed{"unknown format"};
    switch (static_cast<Kind>(*kind)) {
    case Kind::Request: return decodeRequest(r);
    case Kind::Response: return decodeResponse(r);
    case Kind::Abort: return decodeAbort(r);
    }
    return Malformed{"unknown kind"};
}

net::Request toRequest(const RequestMessage& m) {
    net::Request req{m.method, m.target, m.version};
    if (!m.origin.empty()) req.set(http::field::origin, m.origin);
    if (!m.contentType.empty()) req.set(http::field::content_type, m.contentType);
    req.body().assign(m.body);
    return req;
}

net::Response toResponse(const ResponseMessage& m) {
    net::Response res{static_cast<http::status>(m.status), m.version};
    for (const auto& [name, value] : m.fields) res.set(name, value);
    res.body().assign(m.body);
    return res;
}

} // namespace parley::cluster::forward
