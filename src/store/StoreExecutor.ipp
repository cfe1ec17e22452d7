// Template members of StoreExecutor; included by StoreExecutor.hpp only.
#pragma once

#include <future>

namespace parley::store {

template <class T>
StoreExecutor::Job StoreExecutor::makeJob(bool isWrite, boost::asio::io_context& ctx, std::function<T(Store&)> fn,
                                          Callback<T> done) {
    struct State {
        T value{};
        std::string error;
    };
    auto state = std::make_shared<State>();
    Job job;
    job.isWrite = isWrite;
    job.mayWait = isWrite;
    job.execute = [state, fn = std::move(fn)](Store& store) {
        try {
            state->value = fn(store);
        } catch (const std::exception& e) {
            state->error = e.what();
            if (state->error.empty()) state->error = "store error";
            throw;
        }
    };
    job.complete = [state, &ctx, done = std::move(done)](const std::string& commitError) mutable {
        if (state->error.empty() && !commitError.empty()) state->error = commitError;
        boost::asio::post(ctx,
                          [state, done = std::move(done)] { done(std::move(state->error), std::move(state->value)); });
    };
    return job;
}

template <class T>
T StoreExecutor::runSync(std::function<T(Store&)> fn) {
    // The store thread would wait for a job only it can run.
    PARLEY_ASSERT(std::this_thread::get_id() != thread_.get_id(), "runSync called on the store thread");
    auto promise = std::make_shared<std::promise<T>>();
    auto future = promise->get_future();
    Job job;
    job.isWrite = true;
    auto result = std::make_shared<std::optional<T>>();
    auto error = std::make_shared<std::string>();
    job.execute = [fn = std::move(fn), result, error](Store& store) {
        try {
            result->emplace(fn(store));
        } catch (const std::exception& e) {
            *error = e.what();
            throw;
        }
    };
    job.complete = [promise, result, error](const std::string& commitError) {
        if (!error->empty() || !commitError.empty())
            promise->set_exception(std::make_exception_ptr(StoreError(error->empty() ? commitError : *error)));
        else
            promise->set_value(std::move(**result));
    };
    enqueue(std::move(job));
    return future.get();
}

} // namespace parley::store
