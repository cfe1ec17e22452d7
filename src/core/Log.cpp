#include "core/Log.hpp"

#include <spdlog/details/log_msg.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace parley::core {

namespace {

std::vector<LogField>& fields() {
    thread_local std::vector<LogField> inScope;
    return inScope;
}

void append(std::string& out, std::string_view key, std::string_view value, bool number) {
    out += ",\"";
    out += key;
    out += "\":";
    if (number) {
        out += value;
        return;
    }
    out.push_back('"');
    appendJsonEscaped(out, value);
    out.push_back('"');
}

} // namespace

LogFields::LogFields(std::initializer_list<LogField> more) : count_(more.size()) {
    auto& all = fields();
    all.insert(all.end(), more.begin(), more.end());
}

LogFields::~LogFields() {
    auto& all = fields();
    all.resize(all.size() - count_);
}

const std::vector<LogField>& currentLogFields() { return fields(); }

void appendJsonEscaped(std::string& out, std::string_view text) {
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        switch (ch) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                char escaped[8];
                std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
                out += escaped;
            } else {
                out.push_back(ch);
            }
        }
    }
}

void JsonLogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
    const auto since = msg.time.time_since_epoch();
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since - secs).count();
    const std::time_t t = secs.count();
    std::tm utc{};
    gmtime_r(&t, &utc);
    char stamp[80];
    std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                  utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(millis));
    std::string line = "{\"time\":\"";
    line += stamp;
    line += "\",\"level\":\"";
    const auto level = spdlog::level::to_string_view(msg.level);
    line.append(level.data(), level.size());
    line += "\",\"message\":\"";
    appendJsonEscaped(line, std::string_view(msg.payload.data(), msg.payload.size()));
    line.push_back('"');
    for (const auto& f : currentLogFields()) append(line, f.key, f.value, f.number);
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const { return std::make_unique<JsonLogFormatter>(); }

} // namespace parley::core
