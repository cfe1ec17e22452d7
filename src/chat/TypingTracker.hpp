#pragma once

#include "chat/TypingSet.hpp"
#include "net/IoThreads.hpp"
#include "socketio/Socket.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace parley::chat {

/// Which chats each socket is typing in, so that every typing episode ends with exactly one
/// stop: the client's own, or the server's when the socket disconnects, leaves the chat's room
/// (room:leave, or removal from the chat) or stays silent for the timeout.
///
/// Threads: a socket's state lives on its own io thread, in that thread's table, and every call
/// for a socket is made there: no lock. A socket that never types costs nothing but a lookup in
/// an empty table when it leaves a chat room or disconnects; one that types holds one entry
/// (its user, its chats, one timer) until its last episode ends.
///
/// The timer is armed for the earliest deadline and never moved by a renewal: when it fires
/// early it expires nothing and is armed again, so a renewal costs no timer operation.
class TypingTracker {
public:
    /// Tells the room that `userId` stopped typing in `chatId` (an episode the server ended).
    using StopFn = std::function<void(const std::string& userId, const std::string& chatId)>;

    /// `timeout` zero: episodes never time out.
    TypingTracker(net::IoThreads& threads, std::chrono::milliseconds timeout, StopFn stop);

    /// typing:start from `socket` in `chatId`: starts or renews its episode there.
    void start(socketio::Socket& socket, const std::string& userId, std::string_view chatId);
    /// typing:stop from the client: true when the socket had an episode there (now ended; the
    /// caller tells the stop), false when there is nothing to tell.
    bool stop(const socketio::Socket& socket, std::string_view chatId);
    /// `socket` left `room`: when it was typing in that chat, the server tells the stop.
    void left(const socketio::Socket& socket, std::string_view room);
    /// `socket` disconnected: the server tells a stop for each chat it was typing in.
    void gone(const socketio::Socket& socket);

    /// Sockets with an episode on the calling io thread (tests and metrics).
    std::size_t typingSockets() const;

private:
    struct Typist {
        Typist(boost::asio::io_context& ctx, std::string user) : userId(std::move(user)), timer(ctx) {}
        std::string userId;
        TypingSet chats;
        boost::asio::steady_timer timer;
        std::int64_t armedFor = TypingSet::kNever; // the deadline the timer waits for; kNever: idle
    };
    using Table = std::unordered_map<const socketio::Socket*, std::shared_ptr<Typist>>;
    // One table per io thread, each touched only by its thread; padded so that two threads'
    // writes never share a cache line.
    struct alignas(64) ThreadTable {
        Table sockets;
    };

    Table& table() { return tables_[net::IoThreads::ownIndex(threads_)].sockets; }
    void arm(const socketio::Socket* key, const std::shared_ptr<Typist>& typist);
    void onTimer(const socketio::Socket* key, Typist& typist);
    static std::int64_t nowMs();

    net::IoThreads& threads_;
    std::int64_t timeoutMs_;
    StopFn stop_;
    std::vector<ThreadTable> tables_;
};

} // namespace parley::chat
