#include "cluster/RedisReplyReader.hpp"

#include "cluster/RedisErrc.hpp"
#include "core/Assert.hpp"

#include <hiredis/read.h>

#include <algorithm>
#include <new>

namespace parley::cluster {

// hiredis calls these to build each value of a reply. Every task's privdata is the
// RedisReplyReader. The root goes to root_; any other value is appended to its parent array:
// hiredis fills an array's elements in order and finishes one (nested arrays included) before
// it starts the next, so a value in progress is always the last element of its parent and
// appending never moves a value that is still being filled.
struct RedisReplyReader::Callbacks {
    static RedisReply* place(const redisReadTask* task, std::size_t bytes) {
        auto* self = static_cast<RedisReplyReader*>(task->privdata);
        self->built_ += sizeof(RedisReply) + bytes;
        if (self->built_ > self->maxReplyBytes_) {
            self->tooLarge_ = true;
            return nullptr; // hiredis fails the reader (as out of memory)
        }
        if (task->parent == nullptr) {
            self->root_ = RedisReply{};
            return &self->root_;
        }
        auto* parent = static_cast<RedisReply*>(task->parent->obj);
        return &parent->elements.emplace_back();
    }

    static void* createString(const redisReadTask* task, char* str, size_t len) {
        RedisReply* reply = place(task, len);
        if (reply == nullptr) return nullptr;
        switch (task->type) {
        case REDIS_REPLY_ERROR: reply->type = RedisReply::Type::Error; break;
        case REDIS_REPLY_STATUS: reply->type = RedisReply::Type::Status; break;
        default: reply->type = RedisReply::Type::String; break;
        }
        reply->str.assign(str, len);
        return reply;
    }

    static void* createArray(const redisReadTask* task, int elements) {
        // hiredis passes a count it parsed as a long long; anything negative but -1 (nil) is
        // not RESP.
        if (elements < 0) return nullptr;
        RedisReply* reply = place(task, 0);
        if (reply == nullptr) return nullptr;
        reply->type = RedisReply::Type::Array;
        // The count is the server's word: reserve no more than a modest amount up front, the
        // byte bound limits what the elements can grow to.
        reply->elements.reserve(std::min(static_cast<std::size_t>(elements), std::size_t{1024}));
        return reply;
    }

    static void* createInteger(const redisReadTask* task, long long value) {
        RedisReply* reply = place(task, 0);
        if (reply == nullptr) return nullptr;
        reply->type = RedisReply::Type::Integer;
        reply->integer = value;
        return reply;
    }

    static void* createNil(const redisReadTask* task) {
        RedisReply* reply = place(task, 0);
        if (reply == nullptr) return nullptr;
        reply->type = RedisReply::Type::Nil;
        return reply;
    }

    // hiredis frees only a root (a reply abandoned on error, or pending when the reader is
    // freed): it is root_, which the next reply overwrites.
    static void freeObject(void* /*obj*/) {}

    static redisReplyObjectFunctions table;
};

redisReplyObjectFunctions RedisReplyReader::Callbacks::table{
    &createString, &createArray, &createInteger, &createNil, &freeObject,
};

RedisReplyReader::RedisReplyReader(std::size_t maxReplyBytes) : maxReplyBytes_(maxReplyBytes) { reset(); }

RedisReplyReader::~RedisReplyReader() {
    if (reader_ != nullptr) redisReaderFree(reader_);
}

void RedisReplyReader::reset() {
    if (reader_ != nullptr) redisReaderFree(reader_);
    reader_ = redisReaderCreateWithFunctions(&Callbacks::table);
    if (reader_ == nullptr) throw std::bad_alloc();
    reader_->privdata = this;
    root_ = RedisReply{};
    built_ = 0;
    tooLarge_ = false;
}

void RedisReplyReader::feed(std::string_view bytes) {
    if (bytes.empty()) return;
    // Fails only when the reader failed before (next() reports that) or out of memory.
    if (redisReaderFeed(reader_, bytes.data(), bytes.size()) != REDIS_OK && reader_->err == 0) throw std::bad_alloc();
}

boost::system::result<bool> RedisReplyReader::next(RedisReply& out) {
    void* reply = nullptr;
    if (redisReaderGetReply(reader_, &reply) != REDIS_OK)
        return tooLarge_ ? RedisErrc::ReplyTooLarge : RedisErrc::ProtocolError;
    if (reply == nullptr) {
        // Unparsed bytes count too: a bulk string announced as huge arrives and waits whole.
        if (reader_->len - reader_->pos > maxReplyBytes_) {
            tooLarge_ = true;
            reader_->err = REDIS_ERR_OTHER; // stays failed, as after any other error
            return RedisErrc::ReplyTooLarge;
        }
        return false;
    }
    PARLEY_ASSERT(reply == &root_, "hiredis returned a reply this reader did not build");
    out = std::move(root_);
    built_ = 0;
    return true;
}

} // namespace parley::cluster
