// The long-polling forward messages as a node reads them off its parley-engine#<uid> channel,
// where any peer on Redis may publish. decode() must refuse anything malformed without crashing,
// and what it accepts must be safe to act on and survive a round trip: re-encoding the request
// or response it describes decodes to the same fields.
#include "cluster/ForwardMessages.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

namespace forward = parley::cluster::forward;

namespace {

void check(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
}

void checkRequest(const forward::RequestMessage& m) {
    const std::string again = forward::encodeRequest(m.from, m.id, forward::toRequest(m), m.clientAddress);
    const auto back = forward::decode(again);
    const auto* r = std::get_if<forward::RequestMessage>(&back);
    check(r != nullptr, "a re-encoded request decodes");
    check(r->from == m.from && r->id == m.id && r->method == m.method, "from, id and method survive");
    check(r->target == m.target && r->body == m.body, "target and body survive");
    check(r->origin == m.origin && r->contentType == m.contentType, "headers survive");
    check(r->target.find_first_of("\r\n ") == std::string_view::npos, "no line break in an accepted target");
}

void checkResponse(const forward::ResponseMessage& m) {
    const auto res = forward::toResponse(m);
    for (const auto& field : res) {
        check(forward::forwardedField(field.name_string()), "only forwarded fields reach a client");
        check(field.value().find_first_of("\r\n") == std::string_view::npos, "no line break in a field");
    }
    const std::string again = forward::encodeResponse(m.id, res);
    const auto back = forward::decode(again);
    const auto* r = std::get_if<forward::ResponseMessage>(&back);
    check(r != nullptr, "a re-encoded response decodes");
    check(r->id == m.id && r->status == m.status && r->body == m.body, "id, status and body survive");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const auto message = forward::decode(bytes);
    if (const auto* m = std::get_if<forward::RequestMessage>(&message)) checkRequest(*m);
    if (const auto* m = std::get_if<forward::ResponseMessage>(&message)) checkResponse(*m);
    return 0;
}
