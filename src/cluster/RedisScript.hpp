#pragma once

#include "cluster/Redis.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace parley::cluster {

/// A Lua script run by EVALSHA once SCRIPT LOAD has answered its digest, by EVAL (with the
/// source) before that and whenever Redis answers NOSCRIPT (it restarted, or SCRIPT FLUSH):
/// then the script is loaded again. Call load() after every (re)connect. Home thread only.
class RedisScript {
public:
    explicit RedisScript(std::string source) : source_(std::move(source)) {}

    /// SCRIPT LOAD; until it answers, run() sends the source.
    void load(RedisConnection& redis);
    /// Runs the script with `keysAndArgs` (the first `keyCount` are KEYS, the rest ARGV). The
    /// arguments are kept for a second try by EVAL when the digest is unknown to Redis.
    void run(const std::shared_ptr<RedisConnection>& redis, std::vector<std::string> keysAndArgs, std::size_t keyCount,
             RedisConnection::Callback done);

private:
    void send(RedisConnection& redis, std::string_view verb, std::string_view script,
              const std::vector<std::string>& keysAndArgs, std::size_t keyCount, RedisConnection::Callback done);

    std::string source_;
    std::string sha_; // empty: not loaded (yet)
};

/// Redis's clock in ms, as the scripts read it (TIME); shared by every script.
extern const std::string_view kLuaNowMs;

} // namespace parley::cluster
