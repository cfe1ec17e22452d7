#include "store/postgres/PgJob.hpp"

#include "core/Assert.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdlib>

namespace parley::store {

namespace {

// SQLSTATEs after which the operation did not happen and may work on a retry: the server is
// going away, refuses connections, or broke a deadlock or serialization conflict.
bool transient(std::string_view state) {
    if (state.size() != 5) return false;
    const std::string_view cls = state.substr(0, 2);
    return cls == "08" || state == "57P01" || state == "57P02" || state == "57P03" || state == "53300" ||
           state == "40001" || state == "40P01";
}

std::string_view field(const PGresult* result, int code) {
    if (result == nullptr) return {};
    const char* value = PQresultErrorField(result, code);
    return value ? std::string_view(value) : std::string_view();
}

} // namespace

std::optional<std::string> PgRows::optionalText(int row, int column) const {
    if (isNull(row, column)) return std::nullopt;
    return text(row, column);
}

std::int64_t PgRows::integer(int row, int column) const {
    const std::string_view value = view(row, column);
    std::int64_t out = 0;
    std::from_chars(value.data(), value.data() + value.size(), out);
    return out;
}

std::vector<std::string> PgRows::textArray(int row, int column) const { return parsePgTextArray(view(row, column)); }

std::int64_t PgRows::affected() const {
    const char* count = PQcmdTuples(const_cast<PGresult*>(result_));
    return count && *count ? std::strtoll(count, nullptr, 10) : 0;
}

std::vector<std::string> parsePgTextArray(std::string_view text) {
    std::vector<std::string> items;
    std::size_t i = text.find('{');
    if (i == std::string_view::npos) return items;
    ++i;
    while (i < text.size() && text[i] != '}') {
        std::string item;
        bool quoted = text[i] == '"';
        if (quoted) {
            for (++i; i < text.size() && text[i] != '"'; ++i) {
                if (text[i] == '\\' && i + 1 < text.size()) ++i;
                item.push_back(text[i]);
            }
            ++i; // the closing quote
        } else {
            for (; i < text.size() && text[i] != ',' && text[i] != '}'; ++i) item.push_back(text[i]);
        }
        // An unquoted NULL is SQL NULL; the string "NULL" comes quoted.
        if (quoted || item != "NULL") items.push_back(std::move(item));
        if (i < text.size() && text[i] == ',') ++i;
    }
    return items;
}

std::string pgTextArray(const std::vector<std::string>& items) {
    std::string out = "{";
    for (const auto& item : items) {
        if (out.size() > 1) out.push_back(',');
        out.push_back('"');
        for (char c : item) {
            if (c == '"' || c == '\\') out.push_back('\\');
            out.push_back(c);
        }
        out.push_back('"');
    }
    out.push_back('}');
    return out;
}

PgReply PgReply::ofResults(std::vector<PgResultPtr> results, PgResultPtr failed) {
    PgReply reply;
    if (failed) {
        const std::string_view state = field(failed.get(), PG_DIAG_SQLSTATE);
        reply.error_ = transient(state) ? Errc::Unavailable : Errc::Internal;
        reply.failed_ = std::move(failed);
        return reply;
    }
    reply.results_ = std::move(results);
    return reply;
}

std::string_view PgReply::sqlState() const { return field(failed_.get(), PG_DIAG_SQLSTATE); }

std::string_view PgReply::constraint() const { return field(failed_.get(), PG_DIAG_CONSTRAINT_NAME); }

Errc PgReply::logged(std::string_view operation) const {
    PARLEY_ASSERT(!ok(), "only a failure is logged");
    if (*error_ == Errc::Internal && !logged_)
        spdlog::error("postgres: {} failed: {} (SQLSTATE {})", operation, field(failed_.get(), PG_DIAG_MESSAGE_PRIMARY),
                      sqlState());
    logged_ = true;
    return *error_;
}

std::uint8_t PgJob::param(std::string value) {
    PARLEY_ASSERT(paramCount < kMaxParams, "at most kMaxParams values");
    params[paramCount] = std::move(value);
    return paramCount++;
}

std::uint8_t PgJob::param(std::int64_t value) {
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    return param(std::string(digits, end));
}

std::uint8_t PgJob::param(std::optional<std::string> value) {
    PARLEY_ASSERT(paramCount < kMaxParams, "at most kMaxParams values");
    params[paramCount] = std::move(value);
    return paramCount++;
}

void PgJob::add(PgSql sql, std::initializer_list<std::uint8_t> args) {
    PARLEY_ASSERT(callCount < kMaxCalls && args.size() <= kMaxArgs, "at most kMaxCalls statements of kMaxArgs values");
    Call& call = calls[callCount++];
    call.sql = sql;
    call.argc = static_cast<std::uint8_t>(args.size());
    std::size_t i = 0;
    for (auto arg : args) call.args[i++] = arg;
}

void logNotices(PGconn* conn) noexcept {
    if (conn == nullptr) return;
    PQsetNoticeProcessor(
        conn,
        [](void*, const char* message) {
            std::string_view text(message);
            while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
            spdlog::debug("postgres: {}", text);
        },
        nullptr);
}

} // namespace parley::store
