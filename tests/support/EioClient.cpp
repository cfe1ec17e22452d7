#include "support/EioClient.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace parley::testsupport {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using boost::system::error_code;

// Everything but the inbox (and `closed`) is touched only by the client's own thread. Handlers
// hold it by raw pointer: ~EioClient joins that thread before the state goes.
struct EioClient::State {
    asio::io_context context{1};
    asio::executor_work_guard<asio::io_context::executor_type> work{context.get_executor()};
    websocket::stream<beast::tcp_stream> ws{context};
    beast::flat_buffer buffer;
    std::deque<Message> outbox; ///< at most one async_write in flight: the front one
    std::thread thread;

    std::mutex mutex;
    std::condition_variable changed;
    std::deque<Message> inbox;
    bool closed = false;

    void deliver(Message message) {
        {
            const std::lock_guard lock(mutex);
            inbox.push_back(std::move(message));
        }
        changed.notify_all();
    }

    void markClosed() {
        {
            const std::lock_guard lock(mutex);
            closed = true;
        }
        changed.notify_all();
    }

    void connect(unsigned short port, std::string target) {
        const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
        beast::get_lowest_layer(ws).async_connect(endpoint, [this, port, target](error_code ec) {
            if (ec) return markClosed();
            ws.async_handshake("127.0.0.1:" + std::to_string(port), target, [this](error_code hec) {
                if (hec) return markClosed();
                read();
            });
        });
    }

    void read() {
        ws.async_read(buffer, [this](error_code ec, std::size_t) {
            if (ec) return markClosed();
            Message message{!ws.got_text(), beast::buffers_to_string(buffer.data())};
            buffer.consume(buffer.size());
            // The server closes a session that does not answer its pings.
            if (!message.binary && message.data == "2")
                write(Message{false, "3"});
            else
                deliver(std::move(message));
            read();
        });
    }

    void write(Message message) {
        outbox.push_back(std::move(message));
        if (outbox.size() == 1) writeFront();
    }

    void writeFront() {
        ws.binary(outbox.front().binary);
        ws.async_write(asio::buffer(outbox.front().data), [this](error_code ec, std::size_t) {
            if (ec) return outbox.clear();
            outbox.pop_front();
            if (!outbox.empty()) writeFront();
        });
    }
};

EioClient::EioClient(unsigned short port, std::string_view path) : state_(std::make_shared<State>()) {
    auto* state = state_.get();
    state->thread = std::thread([state] { state->context.run(); });
    asio::post(state->context, [state, port, target = std::string(path) + "?EIO=4&transport=websocket"] {
        state->connect(port, target);
    });
    auto open = next();
    if (!open || open->binary || !open->data.starts_with('0')) {
        ADD_FAILURE() << "no Engine.IO OPEN packet: " << (open ? open->data : "nothing within the deadline");
        return;
    }
    const auto json = boost::json::parse(std::string_view(open->data).substr(1));
    sid_ = std::string(json.at("sid").as_string());
}

EioClient::~EioClient() {
    auto* state = state_.get();
    // Closing the socket aborts the pending read and write; their handlers start nothing more,
    // so run() returns once they have run.
    asio::post(state->context, [state] {
        error_code ignored;
        beast::get_lowest_layer(state->ws).socket().close(ignored);
        state->work.reset();
    });
    state->thread.join();
}

void EioClient::send(std::string text) {
    asio::post(state_->context, [state = state_.get(), text = std::move(text)]() mutable {
        state->write(Message{false, std::move(text)});
    });
}

void EioClient::sendBinary(std::string bytes) {
    asio::post(state_->context, [state = state_.get(), bytes = std::move(bytes)]() mutable {
        state->write(Message{true, std::move(bytes)});
    });
}

std::optional<EioClient::Message> EioClient::next(std::chrono::milliseconds timeout) {
    std::unique_lock lock(state_->mutex);
    state_->changed.wait_for(lock, timeout, [this] { return !state_->inbox.empty() || state_->closed; });
    if (state_->inbox.empty()) return std::nullopt;
    Message message = std::move(state_->inbox.front());
    state_->inbox.pop_front();
    return message;
}

std::string EioClient::nextText(std::chrono::milliseconds timeout) {
    auto message = next(timeout);
    if (!message) {
        ADD_FAILURE() << "no message within the deadline";
        return {};
    }
    if (message->binary) {
        ADD_FAILURE() << "a binary message (" << message->data.size() << " bytes) where text was expected";
        return {};
    }
    return std::move(message->data);
}

bool EioClient::waitClosed(std::chrono::milliseconds timeout) {
    std::unique_lock lock(state_->mutex);
    return state_->changed.wait_for(lock, timeout, [this] { return state_->closed; });
}

void EioClient::close() {
    asio::post(state_->context, [state = state_.get()] {
        state->ws.async_close(websocket::close_code::normal, [state](error_code) { state->markClosed(); });
    });
}

std::string EioClient::connectPacket(std::string_view nsp, std::string_view authJson) {
    std::string packet = "40";
    if (nsp != "/") {
        packet.append(nsp);
        packet.push_back(',');
    }
    packet.append(authJson);
    return packet;
}

} // namespace parley::testsupport
