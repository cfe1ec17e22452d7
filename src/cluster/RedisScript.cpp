#include "cluster/RedisScript.hpp"

#include <boost/container/small_vector.hpp>

#include <charconv>

namespace parley::cluster {

const std::string_view kLuaNowMs = R"lua(
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
)lua";

void RedisScript::load(RedisConnection& redis) {
    sha_.clear();
    redis.command({"SCRIPT", "LOAD", source_}, [this](boost::system::result<RedisReply> r) {
        if (r && r->type == RedisReply::Type::String) sha_ = std::move(r->str);
    });
}

void RedisScript::run(const std::shared_ptr<RedisConnection>& redis, std::vector<std::string> keysAndArgs,
                      std::size_t keyCount, RedisConnection::Callback done) {
    if (sha_.empty()) return send(*redis, "EVAL", source_, keysAndArgs, keyCount, std::move(done));
    auto retry = [this, weak = std::weak_ptr<RedisConnection>(redis), keysAndArgs, keyCount,
                  done](boost::system::result<RedisReply> r) mutable {
        auto conn = weak.lock();
        if (!conn || !r || r->type != RedisReply::Type::Error || !r->str.starts_with("NOSCRIPT"))
            return done(std::move(r));
        load(*conn);
        send(*conn, "EVAL", source_, keysAndArgs, keyCount, std::move(done));
    };
    send(*redis, "EVALSHA", sha_, keysAndArgs, keyCount, std::move(retry));
}

void RedisScript::send(RedisConnection& redis, std::string_view verb, std::string_view script,
                       const std::vector<std::string>& keysAndArgs, std::size_t keyCount,
                       RedisConnection::Callback done) {
    char count[24];
    const auto end = std::to_chars(count, count + sizeof count, keyCount).ptr;
    boost::container::small_vector<std::string_view, 16> args{verb, script, std::string_view(count, end - count)};
    for (const auto& a : keysAndArgs) args.emplace_back(a);
    redis.command(std::span<const std::string_view>(args.data(), args.size()), std::move(done));
}

} // namespace parley::cluster
