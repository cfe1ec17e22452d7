#include "store/Errc.hpp"

#include <string>

namespace parley::store {

namespace {

class Category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "store"; }

    std::string message(int value) const override {
        switch (static_cast<Errc>(value)) {
        case Errc::NotFound: return "not found";
        case Errc::Forbidden: return "not a member of this chat";
        case Errc::Duplicate: return "already exists";
        case Errc::NotAGroup: return "the chat is not a group";
        case Errc::ChatFull: return "the chat has its maximum of members";
        case Errc::Unavailable: return "database unavailable";
        case Errc::Internal: return "database error";
        }
        return "unknown store error";
    }
};

} // namespace

const boost::system::error_category& errorCategory() noexcept {
    // One category object per process: error_code equality compares their addresses.
    static const Category category;
    return category;
}

boost::system::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), errorCategory()}; }

} // namespace parley::store
