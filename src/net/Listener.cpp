#include "net/Listener.hpp"

#include <boost/asio/socket_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

namespace parley::net {

using tcp = boost::asio::ip::tcp;

Listener::Listener(IoThreads& threads, HttpHandler& handler, HttpLimits limits, PeerLimits* peers, Metrics* metrics)
    : threads_(threads), handler_(handler), limits_(limits), peers_(peers), metrics_(metrics),
      acceptor_(threads.context(0)) {}

unsigned short Listener::listen(const tcp::endpoint& endpoint) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(boost::asio::socket_base::max_listen_connections);
    return acceptor_.local_endpoint().port();
}

void Listener::start() {
    boost::asio::post(acceptor_.get_executor(), [self = shared_from_this()] { self->doAccept(); });
}

void Listener::stop() {
    boost::asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
        boost::system::error_code ec;
        self->acceptor_.close(ec);
    });
}

void Listener::doAccept() {
    const std::size_t index = next_;
    next_ = (next_ + 1) % threads_.size();
    acceptor_.async_accept(
        threads_.context(index), [self = shared_from_this(), index](boost::system::error_code ec, tcp::socket socket) {
            if (ec == boost::asio::error::operation_aborted) return;
            if (ec) {
                // Out of descriptors, most likely: say so, and retry after a pause instead of spinning.
                spdlog::warn("accept: {}", ec.message());
                auto timer = std::make_shared<boost::asio::steady_timer>(self->acceptor_.get_executor(),
                                                                         std::chrono::milliseconds(50));
                timer->async_wait([self, timer](boost::system::error_code) { self->doAccept(); });
                return;
            }
            {
                boost::system::error_code ignored;
                socket.set_option(tcp::no_delay(true), ignored);
                std::optional<PeerSlot> slot{PeerSlot{}};
                if (self->peers_) {
                    const auto remote = socket.remote_endpoint(ignored);
                    slot = ignored ? std::optional<PeerSlot>{PeerSlot{}} : self->peers_->acquire(remote.address());
                    if (!slot && self->metrics_)
                        self->metrics_->connectionsRefused.fetch_add(1, std::memory_order_relaxed);
                }
                self->threads_.postTo(index, [self, socket = std::move(socket), slot = std::move(slot)]() mutable {
                    if (!slot) {
                        HttpConnection::refused(std::move(socket), self->handler_, self->limits_)->start();
                        return;
                    }
                    std::make_shared<HttpConnection>(std::move(socket), self->handler_, self->limits_,
                                                     boost::beast::flat_buffer{}, std::move(*slot))
                        ->start();
                });
            }
            self->doAccept();
        });
}

} // namespace parley::net
