#pragma once

#include "cluster/RedisReply.hpp"

#include <boost/system/result.hpp>

#include <cstddef>
#include <string_view>

struct redisReader;

namespace parley::cluster {

/// RESP replies out of a byte stream: hiredis's reader, building RedisReply values directly
/// (no hiredis reply objects to convert), with a bound on the size of one reply. Pure: no
/// sockets, so it can be tested and fuzzed alone.
class RedisReplyReader {
public:
    /// A reply (its bytes buffered, or its strings and elements built) larger than this is an
    /// error: a broken or hostile server cannot make the process buffer without end.
    static constexpr std::size_t kMaxReplyBytes = std::size_t{64} << 20;

    explicit RedisReplyReader(std::size_t maxReplyBytes = kMaxReplyBytes);
    ~RedisReplyReader();
    RedisReplyReader(const RedisReplyReader&) = delete;
    RedisReplyReader& operator=(const RedisReplyReader&) = delete;

    /// Appends received bytes.
    void feed(std::string_view bytes);

    /// Takes the next complete reply into `out`. Returns true when it did, false when more
    /// bytes are needed, RedisErrc::ProtocolError or RedisErrc::ReplyTooLarge when the stream
    /// is broken (the reader then stays failed until reset()).
    boost::system::result<bool> next(RedisReply& out);

    /// Forgets everything buffered and any error: the reader of a new connection.
    void reset();

private:
    struct Callbacks;

    // The reply being built lives here, not on the heap: a reply costs no allocation of its
    // own (its strings and elements aside).
    RedisReply root_;
    std::size_t built_ = 0; // bytes of strings and elements built for the reply in progress
    std::size_t maxReplyBytes_;
    bool tooLarge_ = false;
    redisReader* reader_ = nullptr;
};

} // namespace parley::cluster
