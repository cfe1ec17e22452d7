#include "socketio/Server.hpp"

#include "socketio/Client.hpp"

#include <sodium.h>

namespace parley::socketio {

std::string newSocketId() {
    unsigned char bytes[15];
    randombytes_buf(bytes, sizeof bytes);
    char text[21];
    sodium_bin2base64(text, sizeof text, bytes, sizeof bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return std::string(text, 20);
}

Server::Server(net::IoThreads& threads, Config config, AdapterFactory adapterFactory)
    : threads_(threads), config_(config), adapterFactory_(std::move(adapterFactory)) {}

Namespace& Server::of(const std::string& name) {
    auto it = namespaces_.find(name);
    if (it != namespaces_.end()) return *it->second;
    auto nsp = std::make_unique<Namespace>(name, adapterFactory_(name, threads_));
    return *namespaces_.emplace(name, std::move(nsp)).first->second;
}

Namespace* Server::find(std::string_view name) {
    auto it = namespaces_.find(name);
    return it == namespaces_.end() ? nullptr : it->second.get();
}

std::shared_ptr<engineio::SessionHandler> Server::onOpen(const std::shared_ptr<engineio::Session>& session) {
    auto client = std::make_shared<Client>(*this, session);
    client->start();
    return client;
}

} // namespace parley::socketio
