#include "cluster/Redis.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <charconv>

namespace parley::cluster {

namespace {

// A decimal number with no sign, no spaces and no leading '+': digits only.
template <class T>
bool parseDecimal(std::string_view text, T& out) {
    if (text.empty()) return false;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, out);
    return ec == std::errc{} && ptr == end;
}

bool equalsNoCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
    return true;
}

bool parseHost(const boost::urls::url_view& url, std::string& host) {
    switch (url.host_type()) {
    case boost::urls::host_type::name: host = url.host_name(); break;
    case boost::urls::host_type::ipv4: host = url.host_ipv4_address().to_string(); break;
    case boost::urls::host_type::ipv6: host = url.host_ipv6_address().to_string(); break;
    default: return false;
    }
    return !host.empty();
}

} // namespace

boost::system::result<RedisAddress> RedisAddress::parse(std::string_view uri) {
    auto parsed = boost::urls::parse_uri(uri);
    if (!parsed) return RedisErrc::BadAddress;
    const boost::urls::url_view& url = *parsed;
    if (!equalsNoCase(url.scheme(), "redis") || url.has_query() || url.has_fragment()) return RedisErrc::BadAddress;

    RedisAddress address;
    if (!parseHost(url, address.host)) return RedisErrc::BadAddress;
    if (url.has_port()) {
        unsigned port = 0;
        if (!parseDecimal(std::string_view(url.port()), port) || port == 0 || port > 65535)
            return RedisErrc::BadAddress;
        address.port = static_cast<std::uint16_t>(port);
    }
    if (url.has_userinfo()) {
        address.user = url.user();
        if (url.has_password()) address.password = url.password();
    }
    const std::string_view path = url.encoded_path();
    if (!path.empty() && path != "/" && !parseDecimal(path.substr(1), address.db)) return RedisErrc::BadAddress;
    return address;
}

std::string RedisAddress::describe() const {
    std::string out = "redis://";
    if (!user.empty() || !password.empty()) {
        out += user;
        if (!password.empty()) out += ":***";
        out += '@';
    }
    const bool ipv6 = host.find(':') != std::string::npos;
    if (ipv6) out += '[';
    out += host;
    if (ipv6) out += ']';
    out += ':';
    out += std::to_string(port);
    out += '/';
    out += std::to_string(db);
    return out;
}

} // namespace parley::cluster
