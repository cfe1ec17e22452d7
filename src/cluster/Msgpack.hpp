#pragma once

// MessagePack as @socket.io/redis-adapter 8.x exchanges it (written by notepack.io 3.x), mapped
// to and from the JSON model Socket.IO packets use. The bytes come from any peer on Redis, so
// decode() is a parser of untrusted input: every length is checked against the bytes that remain
// before anything is allocated or copied, nesting is limited, and errors are values.

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parley::cluster::msgpack {

/// Bounds of one decode() beyond the input's own size.
struct DecodeLimits {
    std::size_t maxDepth = 32;       ///< nested arrays/maps; the adapter's messages use 4 or 5 levels
    std::size_t maxAttachments = 64; ///< bin values in one message; a broadcast rarely has more than a few
};

/// Why bytes could not be decoded.
enum class DecodeErrc {
    Truncated = 1,          ///< the input ends inside a value (or a length claims more than remains)
    TrailingBytes = 2,      ///< bytes after the one top-level value
    TooDeep = 3,            ///< arrays/maps nested deeper than DecodeLimits::maxDepth
    TooManyAttachments = 4, ///< more bin values than DecodeLimits::maxAttachments
    Unsupported = 5,        ///< the never-used byte 0xc1, or an ext type/size socket.io does not produce
    BadKey = 6,             ///< a map key that is neither a string nor an integer
};

const boost::system::error_category& decodeCategory() noexcept;

inline boost::system::error_code make_error_code(DecodeErrc e) noexcept {
    return {static_cast<int>(e), decodeCategory()};
}

/// Decodes exactly one value that fills `bytes`. MessagePack -> JSON model, the way socket.io
/// treats a packet: bin8/16/32 become the placeholder object {"_placeholder":true,"num":N} and
/// their bytes are appended to `attachments` (N = index in `attachments`); the timestamp ext
/// (type -1, all three sizes) becomes the ISO-8601 string JSON.stringify(new Date(...)) gives
/// ("2024-05-01T10:00:00.123Z"), or null where JavaScript's Date is out of range; notepack's
/// `undefined` (fixext1 type 0) becomes null in an array and drops the entry in a map (as
/// JSON.stringify does); non-finite floats -> null; integer map keys become their decimal
/// string; other non-string keys -> BadKey. A later duplicate key replaces the earlier value.
/// Strings that are not UTF-8 are repaired as Node's Buffer#toString does (U+FFFD per maximal
/// invalid subpart). notepack's legacy forms are read as notepack 3 reads them: ext8/16/32 of
/// type 0 as bin, fixext8 of type 0 as a Date of int64 milliseconds.
/// On error, `attachments` may hold the bins read before it.
boost::system::result<boost::json::value> decode(std::string_view bytes, std::vector<std::string>& attachments,
                                                 const DecodeLimits& limits = {});

/// Appends MessagePack to a std::string. Builds messages piece by piece without an
/// intermediate JSON value (the adapter writes `[uid, packet, opts]` this way). Every integer,
/// string, bin, array and map takes its smallest form, as notepack writes them; doubles are
/// float64 (non-finite ones included).
class Writer {
public:
    explicit Writer(std::string& out) : out_(out) {}

    void nil();
    void boolean(bool b);
    void integer(std::int64_t n);
    void uinteger(std::uint64_t n);
    void number(double d);
    void string(std::string_view s);
    void binary(std::string_view bytes);
    /// Headers: the caller then writes `n` values (arrays) or `n` key/value pairs (maps).
    void arrayHeader(std::uint32_t n);
    void mapHeader(std::uint32_t n);

    /// A JSON value; with `attachments`, a placeholder object {"_placeholder":true,"num":N}
    /// (N < attachments.size()) is written as bin of attachments[N] (socket.io's binary model).
    void json(const boost::json::value& v, std::span<const std::string> attachments = {});

private:
    void header(std::uint8_t fix, std::uint8_t op16, std::uint32_t n); // fixarray/fixmap, then 16/32
    void sized(std::uint8_t op8, std::uint32_t n);                     // op8 then its 16/32-bit siblings (str, bin)
    void be(std::uint64_t v, int bytes);

    std::string& out_;
};

/// Writer(out).json(v, attachments) as a convenience.
std::string encode(const boost::json::value& v, std::span<const std::string> attachments = {});

} // namespace parley::cluster::msgpack

template <>
struct boost::system::is_error_code_enum<parley::cluster::msgpack::DecodeErrc> : std::true_type {};
