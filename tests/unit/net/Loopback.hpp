#pragma once

// For tests that run a server-side connection and its client in one io_context on the test's
// thread, over a real loopback TCP connection.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/socket_base.hpp>

#include <chrono>
#include <utility>

namespace parley::net::test {

/// How long a test waits for an event that should come at once.
inline constexpr std::chrono::seconds kDeadline{5};

/// Runs `io`'s handlers one at a time until `done()` holds (checked before the first and after
/// each). False when the deadline passes first, or when nothing is left that could make it hold.
template <class Done>
bool runUntil(boost::asio::io_context& io, Done&& done, std::chrono::steady_clock::duration deadline = kDeadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (!done()) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= end) return false;
        io.restart();
        // Returns 0 at once, stopped, when no work is outstanding at all.
        if (io.run_one_for(end - now) == 0 && io.stopped()) return done();
    }
    return true;
}

/// Runs what is ready, until nothing is (bounded: a handler that always re-posts itself ends it).
inline void settle(boost::asio::io_context& io) {
    for (int i = 0; i < 1000; ++i) {
        io.restart();
        if (io.poll() == 0) return;
    }
}

/// A connected client/server pair of sockets. With `smallBuffers`, the client's receive and the
/// server's send buffers are as small as the kernel allows, so that a client that does not
/// read blocks the server's writes after a few kilobytes.
inline std::pair<boost::asio::ip::tcp::socket, boost::asio::ip::tcp::socket>
connectLoopback(boost::asio::io_context& io, bool smallBuffers = false) {
    using boost::asio::ip::tcp;
    tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
    tcp::socket client(io);
    client.open(tcp::v4());
    if (smallBuffers) client.set_option(boost::asio::socket_base::receive_buffer_size(4096));
    client.connect(acceptor.local_endpoint());
    tcp::socket server(io);
    acceptor.accept(server);
    if (smallBuffers) server.set_option(boost::asio::socket_base::send_buffer_size(4096));
    return {std::move(client), std::move(server)};
}

} // namespace parley::net::test
