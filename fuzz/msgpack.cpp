// MessagePack from Redis peers (cluster::msgpack::decode), as the Redis adapter reads broadcasts
// and BROADCAST requests/acks: any bytes, since anything on the Redis server can publish.
//
// Invariants: tighter DecodeLimits only narrow what decodes; whatever decodes re-encodes to
// bytes that decode to the same value under socket.io's binary model (a placeholder stands for
// its attachment's bytes); and that re-encoding is canonical: encoding its decode gives it back.
#include "cluster/Msgpack.hpp"

#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace mp = parley::cluster::msgpack;
namespace json = boost::json;

namespace {

void check(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
}

// The attachment a placeholder object stands for, as Writer::json decides it.
const std::string* target(const json::value& v, const std::vector<std::string>& attachments) {
    const auto* obj = v.if_object();
    if (!obj) return nullptr;
    const auto* flag = obj->if_contains("_placeholder");
    const auto* num = obj->if_contains("num");
    if (!flag || !num || !flag->is_bool() || !flag->get_bool()) return nullptr;
    std::uint64_t index = 0;
    if (num->is_int64() && num->get_int64() >= 0)
        index = static_cast<std::uint64_t>(num->get_int64());
    else if (num->is_uint64())
        index = num->get_uint64();
    else
        return nullptr;
    return index < attachments.size() ? &attachments[index] : nullptr;
}

// a (with its attachments) and b (with its) are the same socket.io value: placeholders compare
// by their attachments' bytes, everything else as JSON.
bool same(const json::value& a, const std::vector<std::string>& aa, const json::value& b,
          const std::vector<std::string>& bb) {
    const auto* ta = target(a, aa);
    const auto* tb = target(b, bb);
    if (ta || tb) return ta && tb && *ta == *tb;
    if (a.kind() != b.kind()) return false;
    if (const auto* x = a.if_array()) {
        const auto& y = b.get_array();
        if (x->size() != y.size()) return false;
        for (std::size_t i = 0; i < x->size(); ++i)
            if (!same((*x)[i], aa, y[i], bb)) return false;
        return true;
    }
    if (const auto* x = a.if_object()) {
        const auto& y = b.get_object();
        if (x->size() != y.size()) return false;
        for (const auto& kv : *x) {
            const auto* other = y.if_contains(kv.key());
            if (!other || !same(kv.value(), aa, *other, bb)) return false;
        }
        return true;
    }
    return a == b;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    std::vector<std::string> attachments;
    auto value = mp::decode(input, attachments);

    std::vector<std::string> narrowAttachments;
    auto narrow = mp::decode(input, narrowAttachments, {.maxDepth = 3, .maxAttachments = 2});
    check(!narrow || (value && *narrow == *value && narrowAttachments == attachments),
          "tighter limits only narrow decode");
    if (!value) return 0;

    // Literal placeholder objects of the input become bins too, so the second decode may see more
    // bins than the limit (never more depth).
    const std::string wire = mp::encode(*value, attachments);
    std::vector<std::string> againAttachments;
    auto again = mp::decode(wire, againAttachments, {.maxAttachments = std::numeric_limits<std::size_t>::max()});
    check(again.has_value(), "decode(encode(decode(x))) succeeds");
    check(same(*value, attachments, *again, againAttachments), "decode(encode(v)) == v");

    // Canonical, unless a placeholder that named no attachment names one of the new ones now.
    if (againAttachments.size() == attachments.size())
        check(mp::encode(*again, againAttachments) == wire, "encode(decode(encode(v))) == encode(v)");
    return 0;
}
