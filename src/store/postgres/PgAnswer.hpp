#pragma once

#include "store/ChatStore.hpp"
#include "store/Deliver.hpp"
#include "store/postgres/PgJob.hpp"

#include <boost/asio/io_context.hpp>

#include <utility>

// How PgChatStore turns a reply into a Result and hands it to the caller; and the readers of
// the rows its statements return (the column orders PgStatements.hpp states).

namespace parley::store {

template <class T>
Result<T> failedWith(Errc error) {
    return Result<T>(boost::system::in_place_error, make_error_code(error));
}

/// A job's finish: `parse(reply)` when its statements ran, else the failure's Errc (Duplicate
/// for a unique violation of `duplicateOn`, when given; Internal ones are logged), delivered
/// on `ctx`.
template <class T, class Parse>
std::function<void(PgJob&, PgReply&)> answer(boost::asio::io_context& ctx, Done<T> done, const char* operation,
                                             Parse parse, const char* duplicateOn = nullptr) {
    return [&ctx, done = std::move(done), operation, parse = std::move(parse), duplicateOn](PgJob&,
                                                                                            PgReply& reply) mutable {
        if (reply.ok()) return deliver<T>(ctx, done, parse(reply));
        if (duplicateOn && reply.sqlState() == "23505" && reply.constraint() == duplicateOn)
            return deliver<T>(ctx, done, failedWith<T>(Errc::Duplicate));
        deliver<T>(ctx, done, failedWith<T>(reply.logged(operation)));
    };
}

inline User userFrom(const PgRows& rows, int row) {
    return User{rows.text(row, 0), rows.text(row, 1), rows.text(row, 2), rows.text(row, 3), rows.integer(row, 4)};
}

inline SessionRow sessionFrom(const PgRows& rows, int row) {
    return SessionRow{rows.text(row, 0), rows.text(row, 1), rows.integer(row, 2), rows.integer(row, 3)};
}

inline Chat chatFrom(const PgRows& rows, int row) {
    return Chat{rows.text(row, 0), rows.text(row, 1),    rows.optionalText(row, 2), rows.textArray(row, 6),
                rows.text(row, 3), rows.integer(row, 4), rows.integer(row, 5),      rows.integer(row, 7)};
}

/// The six message columns, from column `first`.
inline Message messageFrom(const PgRows& rows, int row, int first = 0) {
    return Message{rows.text(row, first),     rows.text(row, first + 1), rows.text(row, first + 2),
                   rows.text(row, first + 3), rows.text(row, first + 4), rows.integer(row, first + 5)};
}

inline ReadCursor cursorFrom(const PgRows& rows, int row) {
    return ReadCursor{rows.text(row, 0), rows.text(row, 1), rows.integer(row, 2), rows.integer(row, 3)};
}

} // namespace parley::store
