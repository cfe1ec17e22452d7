#pragma once

#include <string>
#include <vector>

namespace parley::cluster {

/// A RESP reply.
struct RedisReply {
    enum class Type { Status, Error, Integer, Nil, String, Array } type = Type::Nil;
    std::string str;                  // Status, Error, String
    long long integer = 0;            // Integer
    std::vector<RedisReply> elements; // Array
};

} // namespace parley::cluster
