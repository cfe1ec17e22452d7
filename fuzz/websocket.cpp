// RFC 6455 reading on client bytes: ws::Reader fed the input in chunks whose sizes come from
// the input's first bytes, as reads from a socket would split it. Whatever it reports must be
// a message within the size limit (text: valid UTF-8), nothing may follow a close frame or an
// error, and what it holds never outgrows one frame and one message.
#include "net/WsFrame.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace ws = parley::net::ws;

namespace {

void check(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
}

struct Sink : ws::ReaderSink {
    std::uint64_t maxMessage = 0;
    bool ended = false;

    void onMessage(std::string_view data, bool binary) override {
        check(!ended, "nothing is reported after a close or an error");
        check(data.size() <= maxMessage, "messages stay within the limit");
        check(binary || ws::isValidUtf8(data), "text messages are UTF-8");
    }
    void onPing(std::string_view payload) override {
        check(!ended, "nothing is reported after a close or an error");
        check(payload.size() <= 125, "control payloads are at most 125 bytes");
    }
    void onPeerClose(std::uint16_t code) override {
        check(!ended, "one close");
        check(code == 0 || ws::isValidCloseCode(code), "close codes are valid");
        ended = true;
    }
    void onReadError(ws::ReadError) override {
        check(!ended, "one error");
        ended = true;
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    // First byte: the size limit (1 to 4096 bytes); second: the chunk size (1 to 256).
    const std::uint64_t maxMessage = 1 + std::uint64_t{data[0]} * 16;
    const std::size_t chunk = 1 + data[1];
    std::vector<std::uint8_t> bytes(data + 2, data + size);

    ws::Reader reader(maxMessage);
    Sink sink;
    sink.maxMessage = maxMessage;
    for (std::size_t pos = 0; pos < bytes.size(); pos += chunk) {
        reader.feed(bytes.data() + pos, std::min(chunk, bytes.size() - pos), sink);
        // At most one incomplete frame (a control frame may carry 125 bytes whatever the
        // limit) and the fragments of one message.
        check(reader.bufferedBytes() <= std::max<std::uint64_t>(maxMessage, 125) + ws::kMaxHeaderBytes + 4 + maxMessage,
              "buffers stay within the limit");
        check(reader.stopped() == sink.ended, "the reader stops exactly at a close or an error");
    }

    // Header round trip for the lengths found in the input.
    if (bytes.size() >= 8) {
        std::uint64_t length = 0;
        for (int i = 0; i < 8; ++i) length = (length << 8) | bytes[i];
        length &= 0x7FFFFFFFFFFFFFFFULL;
        std::uint8_t header[ws::kMaxHeaderBytes];
        const std::size_t n = ws::encodeHeader(header, ws::Opcode::Binary, length);
        ws::FrameHeader parsed;
        check(ws::parseHeader(header, n, parsed) == ws::ParseStatus::Ok && parsed.length == length &&
                  parsed.headerBytes == n && parsed.fin && !parsed.masked,
              "parseHeader(encodeHeader(n)) == n");
    }
    return 0;
}
