#pragma once

#include "net/HttpConnection.hpp"
#include "net/IoThreads.hpp"
#include "net/Metrics.hpp"
#include "net/PeerLimits.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <memory>

namespace parley::net {

/// Accepts TCP connections on io thread 0 and hands each to the next io thread in turn,
/// where it lives as an HttpConnection for its whole life.
class Listener : public std::enable_shared_from_this<Listener> {
public:
    /// `peers` (optional, must outlive the listener) caps connections per address.
    Listener(IoThreads& threads, HttpHandler& handler, HttpLimits limits, PeerLimits* peers = nullptr,
             Metrics* metrics = nullptr);

    /// Binds and listens; throws on failure (start-up only). Returns the bound port.
    unsigned short listen(const boost::asio::ip::tcp::endpoint& endpoint);
    void start();
    void stop();

private:
    void doAccept();

    IoThreads& threads_;
    HttpHandler& handler_;
    HttpLimits limits_;
    PeerLimits* peers_;
    Metrics* metrics_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::size_t next_ = 0;
};

} // namespace parley::net
