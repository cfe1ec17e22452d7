#include "cluster/RedisErrc.hpp"

#include <string>

namespace parley::cluster {

namespace {

class Category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "redis"; }

    std::string message(int value) const override {
        switch (static_cast<RedisErrc>(value)) {
        case RedisErrc::BadAddress: return "bad redis:// address";
        case RedisErrc::NotConnected: return "not connected to Redis";
        case RedisErrc::TooManyPending: return "too many Redis commands pending";
        case RedisErrc::Timeout: return "Redis did not answer in time";
        case RedisErrc::ConnectionLost: return "Redis connection lost";
        case RedisErrc::ProtocolError: return "Redis protocol error";
        case RedisErrc::ReplyTooLarge: return "Redis reply too large";
        case RedisErrc::HandshakeFailed: return "Redis refused the connection's setup";
        }
        return "unknown Redis error";
    }
};

} // namespace

const boost::system::error_category& redisCategory() noexcept {
    // One category object per process: error_code equality compares their addresses.
    static const Category category;
    return category;
}

boost::system::error_code make_error_code(RedisErrc e) noexcept { return {static_cast<int>(e), redisCategory()}; }

} // namespace parley::cluster
