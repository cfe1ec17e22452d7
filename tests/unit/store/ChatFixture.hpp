#pragma once

#include "store/Store.hpp"

#include <string>
#include <utility>
#include <vector>

namespace parley::store::test {

// Creates the group chat `id` whose first member is its creator: the row that message tests
// need before they can insert (messages reference their chat).
inline void createGroupChat(Store& store, std::string id, std::vector<std::string> members) {
    Chat chat;
    chat.id = std::move(id);
    chat.type = "group";
    chat.createdBy = members.front();
    chat.memberIds = std::move(members);
    store.insertChat(chat);
}

} // namespace parley::store::test
