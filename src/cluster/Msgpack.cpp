#include "cluster/Msgpack.hpp"

#include "core/Assert.hpp"
#include "net/WsFrame.hpp"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

namespace parley::cluster::msgpack {

namespace json = boost::json;

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

namespace {
class DecodeCategory final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "cluster.msgpack"; }
    std::string message(int ev) const override {
        switch (static_cast<DecodeErrc>(ev)) {
        case DecodeErrc::Truncated: return "truncated MessagePack";
        case DecodeErrc::TrailingBytes: return "bytes after the MessagePack value";
        case DecodeErrc::TooDeep: return "MessagePack nested too deep";
        case DecodeErrc::TooManyAttachments: return "too many MessagePack bin values";
        case DecodeErrc::Unsupported: return "unsupported MessagePack type";
        case DecodeErrc::BadKey: return "MessagePack map key is not a string or integer";
        }
        return "unknown MessagePack error";
    }
};
} // namespace

const boost::system::error_category& decodeCategory() noexcept {
    static const DecodeCategory category;
    return category;
}

// ---------------------------------------------------------------------------------------------
// Decoding helpers: UTF-8 repair, JavaScript dates
// ---------------------------------------------------------------------------------------------

namespace {

// Appends `in` to `out` with each maximal invalid subpart replaced by U+FFFD: the WHATWG UTF-8
// decoder, which Node's Buffer#toString('utf8') (and so notepack) follows.
void repairUtf8(std::string_view in, std::string& out) {
    static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
    const auto* p = reinterpret_cast<const unsigned char*>(in.data());
    const auto* end = p + in.size();
    while (p < end) {
        const unsigned char c = *p;
        std::size_t need = 0;
        unsigned char lo = 0x80, hi = 0xBF; // allowed range of the second byte
        if (c < 0x80) {
            out.push_back(static_cast<char>(c));
            ++p;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            need = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0; // overlong
            else if (c == 0xED)
                hi = 0x9F; // surrogates
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90; // overlong
            else if (c == 0xF4)
                hi = 0x8F; // above U+10FFFF
        }
        // The sequence is valid as far as it goes; the first byte that breaks it starts anew.
        std::size_t seen = 1;
        while (seen <= need && p + seen < end && p[seen] >= lo && p[seen] <= hi) {
            lo = 0x80;
            hi = 0xBF;
            ++seen;
        }
        if (need > 0 && seen == need + 1)
            out.append(reinterpret_cast<const char*>(p), seen);
        else
            out.append(kReplacement);
        p += seen;
    }
}

// Howard Hinnant's days_from_civil inverse: the proleptic Gregorian date of a day count.
struct Civil {
    std::int64_t year;
    unsigned month, day;
};

Civil civilFromDays(std::int64_t days) {
    const std::int64_t z = days + 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned day = doy - (153 * mp + 2) / 5 + 1;
    const unsigned month = mp < 10 ? mp + 3 : mp - 9;
    return {static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

// What JSON.stringify(new Date(t)) gives: `new Date` truncates t toward zero and makes anything
// beyond +-8.64e15 ms (or NaN) an Invalid Date, whose toJSON() is null; toISOString() writes
// years outside 0..9999 with a sign and six digits.
void jsDate(double t, json::value& out) {
    constexpr double kMaxTime = 8.64e15;
    if (!(std::fabs(t) <= kMaxTime)) {
        out = nullptr;
        return;
    }
    constexpr std::int64_t kDay = 86'400'000;
    const auto ms = static_cast<std::int64_t>(std::trunc(t));
    std::int64_t days = ms / kDay, rem = ms % kDay;
    if (rem < 0) {
        rem += kDay;
        --days;
    }
    const Civil date = civilFromDays(days);
    const auto y = static_cast<long long>(date.year);
    const auto r = static_cast<int>(rem);
    char buf[64];
    int n = (y >= 0 && y <= 9999) ? std::snprintf(buf, sizeof buf, "%04lld", y)
                                  : std::snprintf(buf, sizeof buf, "%c%06lld", y < 0 ? '-' : '+', y < 0 ? -y : y);
    n += std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), "-%02u-%02uT%02d:%02d:%02d.%03dZ", date.month,
                       date.day, r / 3'600'000, r / 60'000 % 60, r / 1000 % 60, r % 1000);
    out.emplace_string().assign(buf, static_cast<std::size_t>(n));
}

// ---------------------------------------------------------------------------------------------
// Decoder
// ---------------------------------------------------------------------------------------------

// One pass over the input. Recursion is bounded by DecodeLimits::maxDepth; every length is
// checked against the remaining bytes before it sizes anything.
class Decoder {
public:
    enum class Got { Value, Undefined, Failed };

    Decoder(std::string_view in, std::vector<std::string>& attachments, const DecodeLimits& limits)
        : p_(reinterpret_cast<const unsigned char*>(in.data())), end_(p_ + in.size()), attachments_(attachments),
          limits_(limits) {}

    /// Reads one value into `out`; `depth` is the number of arrays/maps around it.
    Got value(json::value& out, std::size_t depth);

    DecodeErrc error() const noexcept { return err_; }
    bool atEnd() const noexcept { return p_ == end_; }

private:
    Got fail(DecodeErrc e) {
        err_ = e;
        return Got::Failed;
    }
    std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - p_); }
    // Big-endian unsigned of `n` bytes; the caller checked they are there.
    std::uint64_t take(std::size_t n) {
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n; ++i) v = (v << 8) | p_[i];
        p_ += n;
        return v;
    }
    // A length field of `n` bytes, or false (Truncated).
    bool length(std::size_t n, std::uint64_t& len) {
        if (remaining() < n) return false;
        len = take(n);
        return true;
    }

    Got fixed(std::uint8_t op, json::value& out);
    Got variable(std::uint8_t op, json::value& out, std::size_t depth);
    Got text(std::uint64_t n, json::value& out);
    bool textView(std::uint64_t n, std::string_view& view);
    Got binary(std::uint64_t n, json::value& out);
    Got array(std::uint64_t n, json::value& out, std::size_t depth);
    Got map(std::uint64_t n, json::value& out, std::size_t depth);
    Got key(std::string_view& key);
    Got ext(bool fixedSize, std::uint64_t n, json::value& out);
    Got timestamp(std::uint64_t n, json::value& out);

    const unsigned char* p_;
    const unsigned char* end_;
    std::vector<std::string>& attachments_;
    const DecodeLimits& limits_;
    DecodeErrc err_{};
    std::string repaired_; // a string that was not UTF-8, as repaired; valid until the next one
    char number_[24] = {}; // an integer key's decimal text
};

Decoder::Got Decoder::value(json::value& out, std::size_t depth) {
    if (remaining() == 0) return fail(DecodeErrc::Truncated);
    const std::uint8_t op = *p_++;
    if (op < 0x80) {
        out = static_cast<std::int64_t>(op); // positive fixint
        return Got::Value;
    }
    if (op >= 0xe0) {
        out = static_cast<std::int64_t>(static_cast<std::int8_t>(op)); // negative fixint
        return Got::Value;
    }
    if (op < 0x90) return map(op & 0x0f, out, depth);
    if (op < 0xa0) return array(op & 0x0f, out, depth);
    if (op < 0xc0) return text(op & 0x1f, out);
    return variable(op, out, depth);
}

// 0xc0..0xdf: the types with a length field or an ext type, then fixed()'s scalars.
Decoder::Got Decoder::variable(std::uint8_t op, json::value& out, std::size_t depth) {
    std::uint64_t n = 0;
    switch (op) {
    case 0xc4:
    case 0xc5:
    case 0xc6: // bin 8/16/32
        if (!length(std::size_t{1} << (op - 0xc4), n)) return fail(DecodeErrc::Truncated);
        return binary(n, out);
    case 0xc7:
    case 0xc8:
    case 0xc9: // ext 8/16/32
        if (!length(std::size_t{1} << (op - 0xc7), n)) return fail(DecodeErrc::Truncated);
        return ext(false, n, out);
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8: // fixext 1/2/4/8/16
        return ext(true, std::uint64_t{1} << (op - 0xd4), out);
    case 0xd9:
    case 0xda:
    case 0xdb: // str 8/16/32
        if (!length(std::size_t{1} << (op - 0xd9), n)) return fail(DecodeErrc::Truncated);
        return text(n, out);
    case 0xdc:
    case 0xdd: // array 16/32
        if (!length(std::size_t{2} << (op - 0xdc), n)) return fail(DecodeErrc::Truncated);
        return array(n, out, depth);
    case 0xde:
    case 0xdf: // map 16/32
        if (!length(std::size_t{2} << (op - 0xde), n)) return fail(DecodeErrc::Truncated);
        return map(n, out, depth);
    default: return fixed(op, out);
    }
}

// nil, booleans, integers and floats.
Decoder::Got Decoder::fixed(std::uint8_t op, json::value& out) {
    switch (op) {
    case 0xc0: out = nullptr; return Got::Value;
    case 0xc2: out = false; return Got::Value;
    case 0xc3: out = true; return Got::Value;
    case 0xc1: return fail(DecodeErrc::Unsupported); // never used by the format
    default: break;
    }
    // 0xca..0xd3: float 32/64, uint 8..64, int 8..64.
    static constexpr std::uint8_t kSize[] = {4, 8, 1, 2, 4, 8, 1, 2, 4, 8};
    const std::size_t size = kSize[op - 0xca];
    if (remaining() < size) return fail(DecodeErrc::Truncated);
    const std::uint64_t bits = take(size);
    if (op == 0xca || op == 0xcb) {
        const double d = op == 0xca ? static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(bits)))
                                    : std::bit_cast<double>(bits);
        if (std::isfinite(d))
            out = d;
        else
            out = nullptr;
    } else if (op <= 0xcf) {
        if (bits > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            out = bits;
        else
            out = static_cast<std::int64_t>(bits);
    } else {
        // Sign-extend from `size` bytes.
        const unsigned shift = 64 - 8 * static_cast<unsigned>(size);
        out = static_cast<std::int64_t>(bits << shift) >> shift;
    }
    return Got::Value;
}

// The `n` bytes of a str as UTF-8: a view of the input, or of repaired_ when they were not.
bool Decoder::textView(std::uint64_t n, std::string_view& view) {
    // Boost.JSON strings hold at most json::string::max_size() bytes (about 2 GiB).
    if (n > remaining() || n > json::string::max_size()) return false;
    view = {reinterpret_cast<const char*>(p_), static_cast<std::size_t>(n)};
    p_ += n;
    if (!net::ws::isValidUtf8(view)) {
        repaired_.clear();
        repairUtf8(view, repaired_);
        view = repaired_;
    }
    return true;
}

Decoder::Got Decoder::text(std::uint64_t n, json::value& out) {
    std::string_view view;
    if (!textView(n, view)) return fail(DecodeErrc::Truncated);
    out.emplace_string().assign(view);
    return Got::Value;
}

Decoder::Got Decoder::binary(std::uint64_t n, json::value& out) {
    if (n > remaining()) return fail(DecodeErrc::Truncated);
    if (attachments_.size() >= limits_.maxAttachments) return fail(DecodeErrc::TooManyAttachments);
    attachments_.emplace_back(reinterpret_cast<const char*>(p_), static_cast<std::size_t>(n));
    p_ += n;
    auto& placeholder = out.emplace_object();
    placeholder.reserve(2);
    placeholder.emplace("_placeholder", true);
    placeholder.emplace("num", static_cast<std::int64_t>(attachments_.size() - 1));
    return Got::Value;
}

Decoder::Got Decoder::array(std::uint64_t n, json::value& out, std::size_t depth) {
    if (depth >= limits_.maxDepth) return fail(DecodeErrc::TooDeep);
    // Every element takes at least one byte.
    if (n > remaining() || n > json::array::max_size()) return fail(DecodeErrc::Truncated);
    auto& arr = out.emplace_array();
    arr.reserve(static_cast<std::size_t>(n));
    for (std::uint64_t i = 0; i < n; ++i) {
        // notepack's `undefined` stays null here, as JSON.stringify writes it in an array.
        if (value(arr.emplace_back(nullptr), depth + 1) == Got::Failed) return Got::Failed;
    }
    return Got::Value;
}

Decoder::Got Decoder::map(std::uint64_t n, json::value& out, std::size_t depth) {
    if (depth >= limits_.maxDepth) return fail(DecodeErrc::TooDeep);
    // Every entry takes at least two bytes.
    if (n > remaining() / 2 || n > json::object::max_size()) return fail(DecodeErrc::Truncated);
    auto& obj = out.emplace_object();
    obj.reserve(static_cast<std::size_t>(n));
    for (std::uint64_t i = 0; i < n; ++i) {
        std::string_view k;
        if (key(k) == Got::Failed) return Got::Failed;
        // A later duplicate replaces the earlier value in place, as `object[key] = v` does. `k`
        // may view repaired_ or number_, which the value may reuse, but not when it is
        // undefined (a fixext1 reads no string or key).
        const Got got = value(obj[k], depth + 1);
        if (got == Got::Failed) return Got::Failed;
        if (got == Got::Undefined) obj.stable_erase(k);
    }
    return Got::Value;
}

// A map key as JavaScript's `object[key]` makes it: a string, or an integer's decimal text.
Decoder::Got Decoder::key(std::string_view& k) {
    if (remaining() == 0) return fail(DecodeErrc::Truncated);
    const std::uint8_t op = *p_;
    const bool isText = (op >= 0xa0 && op < 0xc0) || (op >= 0xd9 && op <= 0xdb);
    const bool isInteger = op < 0x80 || op >= 0xe0 || (op >= 0xcc && op <= 0xd3);
    if (isText) {
        ++p_;
        std::uint64_t n = op & 0x1f;
        if (op >= 0xd9 && !length(std::size_t{1} << (op - 0xd9), n)) return fail(DecodeErrc::Truncated);
        if (!textView(n, k)) return fail(DecodeErrc::Truncated);
        return Got::Value;
    }
    if (!isInteger) return fail(DecodeErrc::BadKey);
    json::value number;
    if (value(number, 0) == Got::Failed) return Got::Failed;
    const auto done = number.is_uint64() ? std::to_chars(number_, std::end(number_), number.get_uint64())
                                         : std::to_chars(number_, std::end(number_), number.get_int64());
    k = {number_, static_cast<std::size_t>(done.ptr - number_)};
    return Got::Value;
}

// An ext of `n` data bytes after its type byte (`fixedSize`: fixext 1..16).
Decoder::Got Decoder::ext(bool fixedSize, std::uint64_t n, json::value& out) {
    if (remaining() < 1 || n > remaining() - 1) return fail(DecodeErrc::Truncated);
    const auto type = static_cast<std::int8_t>(*p_++);
    if (type == -1) return timestamp(n, out);
    if (type != 0) return fail(DecodeErrc::Unsupported);
    // Type 0: notepack's `undefined` (fixext1) and, read for compatibility as notepack 3 reads
    // them, its older writers' ArrayBuffer (ext 8/16/32) and Date in ms (fixext8).
    if (!fixedSize) return binary(n, out);
    if (n == 1) {
        ++p_; // the data byte carries nothing
        out = nullptr;
        return Got::Undefined;
    }
    if (n != 8) return fail(DecodeErrc::Unsupported);
    const auto hi = static_cast<std::int32_t>(static_cast<std::uint32_t>(take(4)));
    const auto lo = static_cast<std::uint32_t>(take(4));
    jsDate(static_cast<double>(hi) * 4294967296.0 + static_cast<double>(lo), out);
    return Got::Value;
}

// The timestamp ext (type -1) in its 32, 64 and 96-bit forms, as notepack's `new Date(...)`
// computes the milliseconds (in doubles, in the same order, so the rounding is the same).
Decoder::Got Decoder::timestamp(std::uint64_t n, json::value& out) {
    double ms = 0;
    if (n == 4) {
        ms = static_cast<double>(take(4)) * 1e3;
    } else if (n == 8) {
        const auto hi = static_cast<std::uint32_t>(take(4));
        const auto lo = static_cast<std::uint32_t>(take(4));
        const double seconds = static_cast<double>(hi & 0x3) * 4294967296.0 + static_cast<double>(lo);
        ms = seconds * 1e3 + static_cast<double>(hi >> 2) / 1e6;
    } else if (n == 12) {
        const auto ns = static_cast<std::uint32_t>(take(4));
        const auto hi = static_cast<std::int32_t>(static_cast<std::uint32_t>(take(4)));
        const auto lo = static_cast<std::uint32_t>(take(4));
        const double seconds = static_cast<double>(hi) * 4294967296.0 + static_cast<double>(lo);
        ms = seconds * 1e3 + static_cast<double>(ns) / 1e6;
    } else {
        return fail(DecodeErrc::Unsupported);
    }
    jsDate(ms, out);
    return Got::Value;
}

} // namespace

boost::system::result<json::value> decode(std::string_view bytes, std::vector<std::string>& attachments,
                                          const DecodeLimits& limits) {
    Decoder decoder(bytes, attachments, limits);
    json::value v;
    if (decoder.value(v, 0) == Decoder::Got::Failed) return make_error_code(decoder.error());
    if (!decoder.atEnd()) return make_error_code(DecodeErrc::TrailingBytes);
    return v;
}

// ---------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------

void Writer::be(std::uint64_t v, int bytes) {
    char buf[8];
    for (int i = bytes - 1; i >= 0; --i) {
        buf[i] = static_cast<char>(v & 0xff);
        v >>= 8;
    }
    out_.append(buf, static_cast<std::size_t>(bytes));
}

void Writer::nil() { out_.push_back(static_cast<char>(0xc0)); }

void Writer::boolean(bool b) { out_.push_back(static_cast<char>(b ? 0xc3 : 0xc2)); }

void Writer::uinteger(std::uint64_t n) {
    if (n < 0x80) {
        out_.push_back(static_cast<char>(n)); // positive fixint
    } else if (n <= 0xff) {
        out_.push_back(static_cast<char>(0xcc));
        be(n, 1);
    } else if (n <= 0xffff) {
        out_.push_back(static_cast<char>(0xcd));
        be(n, 2);
    } else if (n <= 0xffffffff) {
        out_.push_back(static_cast<char>(0xce));
        be(n, 4);
    } else {
        out_.push_back(static_cast<char>(0xcf));
        be(n, 8);
    }
}

void Writer::integer(std::int64_t n) {
    if (n >= 0) return uinteger(static_cast<std::uint64_t>(n));
    const auto bits = static_cast<std::uint64_t>(n);
    if (n >= -32) {
        out_.push_back(static_cast<char>(bits & 0xff)); // negative fixint
    } else if (n >= std::numeric_limits<std::int8_t>::min()) {
        out_.push_back(static_cast<char>(0xd0));
        be(bits, 1);
    } else if (n >= std::numeric_limits<std::int16_t>::min()) {
        out_.push_back(static_cast<char>(0xd1));
        be(bits, 2);
    } else if (n >= std::numeric_limits<std::int32_t>::min()) {
        out_.push_back(static_cast<char>(0xd2));
        be(bits, 4);
    } else {
        out_.push_back(static_cast<char>(0xd3));
        be(bits, 8);
    }
}

void Writer::number(double d) {
    out_.push_back(static_cast<char>(0xcb));
    be(std::bit_cast<std::uint64_t>(d), 8);
}

void Writer::sized(std::uint8_t op8, std::uint32_t n) {
    if (n <= 0xff) {
        out_.push_back(static_cast<char>(op8));
        be(n, 1);
    } else if (n <= 0xffff) {
        out_.push_back(static_cast<char>(op8 + 1));
        be(n, 2);
    } else {
        out_.push_back(static_cast<char>(op8 + 2));
        be(n, 4);
    }
}

void Writer::string(std::string_view s) {
    PARLEY_ASSERT(s.size() <= 0xffffffff, "MessagePack strings hold at most 4 GiB");
    const auto n = static_cast<std::uint32_t>(s.size());
    if (n < 32)
        out_.push_back(static_cast<char>(0xa0 | n)); // fixstr
    else
        sized(0xd9, n);
    out_.append(s);
}

void Writer::binary(std::string_view bytes) {
    PARLEY_ASSERT(bytes.size() <= 0xffffffff, "MessagePack bins hold at most 4 GiB");
    sized(0xc4, static_cast<std::uint32_t>(bytes.size()));
    out_.append(bytes);
}

void Writer::header(std::uint8_t fix, std::uint8_t op16, std::uint32_t n) {
    if (n < 16) {
        out_.push_back(static_cast<char>(fix | n));
    } else if (n <= 0xffff) {
        out_.push_back(static_cast<char>(op16));
        be(n, 2);
    } else {
        out_.push_back(static_cast<char>(op16 + 1));
        be(n, 4);
    }
}

void Writer::arrayHeader(std::uint32_t n) { header(0x90, 0xdc, n); }

void Writer::mapHeader(std::uint32_t n) { header(0x80, 0xde, n); }

namespace {
// The attachment a placeholder object {"_placeholder":true,"num":N} stands for, if N is one.
const std::string* placeholderTarget(const json::object& obj, std::span<const std::string> attachments) {
    if (attachments.empty()) return nullptr;
    const auto* flag = obj.if_contains("_placeholder");
    const auto* num = obj.if_contains("num");
    if (!flag || !num || !flag->is_bool() || !flag->get_bool()) return nullptr;
    std::uint64_t index = 0;
    if (const auto* i = num->if_int64()) {
        if (*i < 0) return nullptr;
        index = static_cast<std::uint64_t>(*i);
    } else if (const auto* u = num->if_uint64()) {
        index = *u;
    } else {
        return nullptr;
    }
    return index < attachments.size() ? &attachments[index] : nullptr;
}
} // namespace

void Writer::json(const json::value& v, std::span<const std::string> attachments) {
    switch (v.kind()) {
    case json::kind::null: return nil();
    case json::kind::bool_: return boolean(v.get_bool());
    case json::kind::int64: return integer(v.get_int64());
    case json::kind::uint64: return uinteger(v.get_uint64());
    case json::kind::double_: return number(v.get_double());
    case json::kind::string: return string(v.get_string());
    case json::kind::array: {
        const auto& arr = v.get_array();
        arrayHeader(static_cast<std::uint32_t>(arr.size()));
        for (const auto& e : arr) json(e, attachments);
        return;
    }
    case json::kind::object: {
        const auto& obj = v.get_object();
        if (const auto* bytes = placeholderTarget(obj, attachments)) return binary(*bytes);
        mapHeader(static_cast<std::uint32_t>(obj.size()));
        for (const auto& kv : obj) {
            string(kv.key());
            json(kv.value(), attachments);
        }
        return;
    }
    }
}

std::string encode(const json::value& v, std::span<const std::string> attachments) {
    std::string out;
    Writer(out).json(v, attachments);
    return out;
}

} // namespace parley::cluster::msgpack
