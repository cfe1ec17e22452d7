#pragma once

#include "store/ChatStore.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <utility>

namespace parley::store {

/// Posts `result` to `done` on `ctx`, both backends' way of completing a ChatStore call: a
/// completion never runs inside the call that caused it. `done` is moved from.
template <class T>
void deliver(boost::asio::io_context& ctx, Done<T>& done, Result<T> result) {
    boost::asio::post(ctx, [done = std::move(done), result = std::move(result)]() mutable { done(std::move(result)); });
}

} // namespace parley::store
