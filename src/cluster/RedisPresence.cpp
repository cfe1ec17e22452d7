#include "cluster/RedisPresence.hpp"

#include <boost/asio/error.hpp>
#include <spdlog/spdlog.h>

namespace parley::cluster {

namespace {

// Shared by the scripts below (see the header for the keys and the rules).
//   set_count: the node's count of a user (0 removes it); the node keeps the user in its set
//     while it has sockets of them or holds their check.
//   decide: PresenceTracker's throttle on the user's hash. {0,0} nothing, {1,s} tell s now,
//     {2,ms} node `uid` holds the trailing check, due in ms.
//   settle: no expiry while anything is online or pending; else one window (+1 s).
const std::string kCommon = std::string(kLuaNowMs) + R"lua(
local function set_count(k, f, users, user, uid, new)
  local old = tonumber(redis.call('HGET', k, f)) or 0
  if old == new then return end
  redis.call('HINCRBY', k, 'total', new - old)
  if new > 0 then
    redis.call('HSET', k, f, new)
    redis.call('SADD', users, user)
  else
    redis.call('HDEL', k, f)
    if redis.call('HGET', k, 'by') ~= uid then redis.call('SREM', users, user) end
  end
end
local function decide(k, user, uid, users, now, window)
  local h = redis.call('HMGET', k, 'total', 'sent', 'at', 'pend')
  local online = (tonumber(h[1]) or 0) > 0 and 1 or 0
  local pend = tonumber(h[4])
  if pend then
    if now < pend + 10000 then return {0, 0} end
    redis.call('HDEL', k, 'pend', 'by')
  end
  local sent = tonumber(h[2])
  if online == (sent or 0) then return {0, 0} end
  local at = tonumber(h[3]) or 0
  if sent == nil or now - at >= window then
    redis.call('HSET', k, 'sent', online, 'at', now)
    return {1, online}
  end
  redis.call('HSET', k, 'pend', at + window, 'by', uid)
  redis.call('SADD', users, user)
  return {2, at + window - now}
end
local function settle(k, window)
  local h = redis.call('HMGET', k, 'total', 'pend')
  if (tonumber(h[1]) or 0) > 0 or h[2] then redis.call('PERSIST', k) else redis.call('PEXPIRE', k, window + 1000) end
end
)lua";

// KEYS user hash, node's users; ARGV uid, delta, window, user.
const std::string kChange = kCommon + R"lua(
local f = 'n:' .. ARGV[1]
local new = (tonumber(redis.call('HGET', KEYS[1], f)) or 0) + tonumber(ARGV[2])
if new < 0 then return {0, 0} end
set_count(KEYS[1], f, KEYS[2], ARGV[4], ARGV[1], new)
local r = decide(KEYS[1], ARGV[4], ARGV[1], KEYS[2], now_ms(), tonumber(ARGV[3]))
settle(KEYS[1], tonumber(ARGV[3]))
return r
)lua";

// KEYS the users' hashes. Answers two integers per key, in their order: the status last told
// (1 online, 0 offline or never) and when (0: never).
const std::string kTold = R"lua(
local out = {}
for i, k in ipairs(KEYS) do
  local h = redis.call('HMGET', k, 'sent', 'at')
  out[2 * i - 1] = tonumber(h[1]) or 0
  out[2 * i] = h[1] and (tonumber(h[2]) or 0) or 0
end
return out
)lua";

// KEYS user hash, node's users; ARGV uid, window, user.
const std::string kTimer = kCommon + R"lua(
local k, uid = KEYS[1], ARGV[1]
local h = redis.call('HMGET', k, 'pend', 'by', 'total', 'sent', 'n:' .. uid)
if h[2] ~= uid then return {0, 0} end
local now = now_ms()
local pend = tonumber(h[1])
if now < pend then return {2, pend - now} end
redis.call('HDEL', k, 'pend', 'by')
if not h[5] then redis.call('SREM', KEYS[2], ARGV[3]) end
local online = (tonumber(h[3]) or 0) > 0 and 1 or 0
local r = {0, 0}
if online ~= (tonumber(h[4]) or 0) then
  redis.call('HSET', k, 'sent', online, 'at', now)
  r = {1, online}
end
settle(k, tonumber(ARGV[2]))
return r
)lua";

// KEYS node key, nodes set; ARGV uid, ttl ms. Answers whether the node key still existed.
const std::string kHeartbeat = R"lua(
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
return existed
)lua";

// KEYS nodes set; ARGV uid (the sweeper), window, batch. Answers {user, kind, value, ...}.
const std::string kSweep = kCommon + R"lua(
local me, window, budget = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local mine = 'parley:node:' .. me .. ':users'
local now = now_ms()
local out = {}
for _, uid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if budget <= 0 then break end
  if redis.call('EXISTS', 'parley:node:' .. uid) == 0 then
    local users = 'parley:node:' .. uid .. ':users'
    local f = 'n:' .. uid
    for _, user in ipairs(redis.call('SPOP', users, budget)) do
      local k = 'parley:presence:' .. user
      local cur = tonumber(redis.call('HGET', k, f)) or 0
      if cur > 0 then
        redis.call('HDEL', k, f)
        redis.call('HINCRBY', k, 'total', -cur)
      end
      if redis.call('HGET', k, 'by') == uid then redis.call('HDEL', k, 'pend', 'by') end
      local d = decide(k, user, me, mine, now, window)
      settle(k, window)
      if d[1] ~= 0 then
        out[#out + 1] = user
        out[#out + 1] = d[1]
        out[#out + 1] = d[2]
      end
      budget = budget - 1
    end
    if redis.call('SCARD', users) == 0 then redis.call('SREM', KEYS[1], uid) end
  end
end
return out
)lua";

// KEYS node's users; ARGV uid, window, then user, count pairs (every user the node has sockets
// of). Answers {user, kind, value, ...}.
const std::string kReregister = kCommon + R"lua(
local uid, window, mine = ARGV[1], tonumber(ARGV[2]), KEYS[1]
local f = 'n:' .. uid
local now = now_ms()
local want = {}
for i = 3, #ARGV, 2 do want[ARGV[i]] = tonumber(ARGV[i + 1]) end
for _, user in ipairs(redis.call('SMEMBERS', mine)) do
  if want[user] == nil then want[user] = 0 end
end
local out = {}
for user, count in pairs(want) do
  local k = 'parley:presence:' .. user
  if redis.call('HGET', k, 'by') == uid then redis.call('HDEL', k, 'pend', 'by') end
  set_count(k, f, mine, user, uid, count)
  local d = decide(k, user, uid, mine, now, window)
  settle(k, window)
  if d[1] ~= 0 then
    out[#out + 1] = user
    out[#out + 1] = d[1]
    out[#out + 1] = d[2]
  end
end
return out
)lua";

} // namespace

std::shared_ptr<RedisPresence> RedisPresence::create(boost::asio::io_context& home,
                                                     std::shared_ptr<RedisConnection> redis, std::string nodeUid,
                                                     Options options) {
    return std::shared_ptr<RedisPresence>(new RedisPresence(home, std::move(redis), std::move(nodeUid), options));
}

RedisPresence::RedisPresence(boost::asio::io_context& home, std::shared_ptr<RedisConnection> redis, std::string nodeUid,
                             Options options)
    : redis_(std::move(redis)), nodeUid_(std::move(nodeUid)), nodeKey_("parley:node:" + nodeUid_),
      usersKey_(nodeKey_ + ":users"), windowArg_(std::to_string(options.windowMs)), options_(options), change_(kChange),
      timer_(kTimer), heartbeat_(kHeartbeat), sweep_(kSweep), reregister_(kReregister), told_(kTold),
      heartbeatTimer_(home), sweepTimer_(home) {}

void RedisPresence::start() {
    every(heartbeatTimer_, options_.heartbeatEvery, &RedisPresence::beat);
    every(sweepTimer_, options_.sweepEvery, &RedisPresence::sweep);
}

void RedisPresence::every(boost::asio::steady_timer& timer, std::chrono::milliseconds period,
                          void (RedisPresence::*fn)()) {
    timer.expires_after(period);
    timer.async_wait([self = shared_from_this(), &timer, period, fn](boost::system::error_code ec) {
        // A wait that had completed when close() cancelled the timer still runs, with no error:
        // the flag stops it, or a closed node would go on sweeping (itself too, once its
        // heartbeat has lapsed) and beating.
        if (ec || self->closed_) return;
        if (self->redis_->connected()) ((*self).*fn)();
        self->every(timer, period, fn);
    });
}

void RedisPresence::close() {
    closed_ = true;
    heartbeatTimer_.cancel();
    sweepTimer_.cancel();
    available_.store(false, std::memory_order_relaxed);
}

void RedisPresence::onState(bool connected) {
    available_.store(connected && !closed_, std::memory_order_relaxed);
    if (!connected || closed_) return;
    for (auto* script : {&change_, &timer_, &heartbeat_, &sweep_, &reregister_, &told_}) script->load(*redis_);
    heartbeat(true);
}

bool RedisPresence::change(const std::string& userId, int delta) {
    auto it = counts_.try_emplace(userId, 0).first;
    it->second = std::max(0, it->second + delta);
    if (it->second == 0) counts_.erase(it);
    if (!redis_->connected()) return false;
    change_.run(redis_, {presenceKey(userId), usersKey_, nodeUid_, delta > 0 ? "1" : "-1", windowArg_, userId}, 2,
                [self = shared_from_this(), userId](boost::system::result<RedisReply> r) { self->onPair(userId, r); });
    return true;
}

bool RedisPresence::timer(const std::string& userId) {
    if (!redis_->connected()) return false;
    timer_.run(redis_, {presenceKey(userId), usersKey_, nodeUid_, windowArg_, userId}, 2,
               [self = shared_from_this(), userId](boost::system::result<RedisReply> r) { self->onPair(userId, r); });
    return true;
}

void RedisPresence::toldOf(const std::vector<std::string>& userIds, ToldDone done) {
    if (userIds.empty()) return done(std::vector<Told>());
    if (!redis_->connected()) return done(boost::system::error_code(boost::asio::error::not_connected));
    std::vector<std::string> keys;
    keys.reserve(userIds.size());
    for (const auto& id : userIds) keys.push_back(presenceKey(id));
    const std::size_t count = keys.size();
    told_.run(redis_, std::move(keys), count, [count, done = std::move(done)](boost::system::result<RedisReply> r) {
        if (!r) return done(r.error());
        if (r->type != RedisReply::Type::Array || r->elements.size() != 2 * count)
            return done(boost::system::error_code(boost::asio::error::invalid_argument));
        std::vector<Told> told;
        told.reserve(count);
        for (std::size_t i = 0; i < count; ++i)
            told.push_back(
                {r->elements[2 * i].integer == 1, static_cast<std::int64_t>(r->elements[2 * i + 1].integer)});
        done(std::move(told));
    });
}

// A lost answer decides nothing: the change is in Redis or not, and the re-registration after
// the reconnect decides for every user of the node.
void RedisPresence::onPair(const std::string& userId, const boost::system::result<RedisReply>& reply) {
    if (!reply || reply->type != RedisReply::Type::Array || reply->elements.size() != 2) {
        if (reply) spdlog::warn("presence: unexpected answer for {}: {}", userId, reply->str);
        return;
    }
    hand(userId, reply->elements[0].integer, reply->elements[1].integer);
}

void RedisPresence::onList(const boost::system::result<RedisReply>& reply) {
    if (!reply || reply->type != RedisReply::Type::Array) {
        if (reply) spdlog::warn("presence: unexpected answer of a sweep: {}", reply->str);
        return;
    }
    const auto& e = reply->elements;
    for (std::size_t i = 0; i + 2 < e.size(); i += 3) hand(e[i].str, e[i + 1].integer, e[i + 2].integer);
}

void RedisPresence::hand(const std::string& userId, long long kind, long long value) {
    if (kind == 0 || !handler_) return;
    Decision d;
    d.check = kind == 2;
    d.online = kind == 1 && value == 1;
    d.checkInMs = d.check ? value : 0;
    handler_(userId, d);
}

void RedisPresence::heartbeat(bool reregister) {
    heartbeat_.run(redis_, {nodeKey_, "parley:nodes", nodeUid_, std::to_string(options_.nodeTtl.count())}, 2,
                   [self = shared_from_this(), reregister](boost::system::result<RedisReply> r) {
                       if (!r || r->type != RedisReply::Type::Integer) return;
                       if (reregister || r->integer == 0) self->reregister();
                   });
}

void RedisPresence::reregister() {
    reregistrations_.fetch_add(1, std::memory_order_relaxed);
    std::vector<std::string> args{usersKey_, nodeUid_, windowArg_};
    args.reserve(3 + 2 * counts_.size());
    for (const auto& [user, count] : counts_) {
        args.push_back(user);
        args.push_back(std::to_string(count));
    }
    reregister_.run(redis_, std::move(args), 1,
                    [self = shared_from_this()](boost::system::result<RedisReply> r) { self->onList(r); });
}

void RedisPresence::sweep() {
    sweep_.run(redis_, {"parley:nodes", nodeUid_, windowArg_, std::to_string(options_.sweepBatch)}, 1,
               [self = shared_from_this()](boost::system::result<RedisReply> r) { self->onList(r); });
}

} // namespace parley::cluster
