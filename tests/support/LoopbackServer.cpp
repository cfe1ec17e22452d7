#include "support/LoopbackServer.hpp"

#include <boost/asio/ip/address.hpp>
#include <sodium.h>

#include <stdexcept>

namespace parley::testsupport {

namespace {
socketio::AdapterFactory localAdapters() {
    return [](const std::string& nsp, net::IoThreads& threads) {
        return std::make_unique<cluster::LocalAdapter>(threads, nsp);
    };
}
} // namespace

LoopbackServer::LoopbackServer(Options options)
    : threads_(options.threads), io_(threads_, options.socketio, localAdapters()),
      engine_(std::move(options.engineio), io_, threads_) {
    // Socket ids and sids come from libsodium, whose contract is sodium_init() first.
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    router_.mount(engine_);
}

LoopbackServer::~LoopbackServer() {
    if (listener_) {
        listener_->stop();
        engine_.closeAll();
        // closeAll() posts to every thread: once a later post has run there, each session is
        // closed and its Client has let go of it.
        for (std::size_t i = 0; i < threads_.size(); ++i) onThread(i, [] { return true; });
    }
    threads_.stop();
    threads_.join();
}

cluster::LocalAdapter& LoopbackServer::adapter(const std::string& nsp) {
    // Every namespace of this server is made by localAdapters().
    return static_cast<cluster::LocalAdapter&>(io_.of(nsp).adapter());
}

unsigned short LoopbackServer::start() {
    listener_ = std::make_shared<net::Listener>(threads_, router_, net::HttpLimits{});
    port_ = listener_->listen({boost::asio::ip::make_address("127.0.0.1"), 0});
    listener_->start();
    threads_.start();
    return port_;
}

} // namespace parley::testsupport
