#include "store/sqlite/WalWriteBuffer.hpp"

#include <sqlite3.h>

#include <cstddef>
#include <mutex>
#include <new>
#include <vector>

namespace parley::store {

namespace {

// Pending appends reach the file at this size at the latest. The unix VFS writes at most 128 KiB
// in one call (and fails a write of exactly a multiple of it), so a flush must stay below that.
constexpr std::size_t kMaxPending = 64 * 1024;

// The appends not yet written: `bytes` belong at `offset` in the file.
struct Pending {
    std::vector<char> bytes;
    sqlite3_int64 offset = 0;
};

// What SQLite holds for a file opened through this VFS. SQLite allocates szOsFile bytes for it:
// this struct, then the wrapped VFS's own file object.
struct File {
    sqlite3_file base; // first, so that SQLite's sqlite3_file* is a File*
    sqlite3_file* real;
    Pending* pending; // WAL files only; null for every other file
};

constexpr std::size_t kRealFileOffset =
    (sizeof(File) + alignof(std::max_align_t) - 1) & ~(alignof(std::max_align_t) - 1);

sqlite3_vfs* wrapped = nullptr; // the default VFS; set once, before registration
sqlite3_vfs vfs{};

File& fileOf(sqlite3_file* base) {
    return *reinterpret_cast<File*>(base);
}
sqlite3_file* realOf(sqlite3_file* base) {
    return fileOf(base).real;
}
const sqlite3_io_methods& realMethods(sqlite3_file* base) {
    return *realOf(base)->pMethods;
}

// Writes out the pending appends, if any. They are dropped even if the write fails: SQLite then
// fails the transaction, and the next one writes its frames again.
int flush(sqlite3_file* base) {
    Pending* pending = fileOf(base).pending;
    if (pending == nullptr || pending->bytes.empty()) return SQLITE_OK;
    int code = realMethods(base).xWrite(realOf(base), pending->bytes.data(), static_cast<int>(pending->bytes.size()),
                                        pending->offset);
    pending->bytes.clear();
    return code;
}

int writeFile(sqlite3_file* base, const void* data, int size, sqlite3_int64 offset) {
    Pending* pending = fileOf(base).pending;
    if (pending == nullptr) return realMethods(base).xWrite(realOf(base), data, size, offset);
    const auto amount = static_cast<std::size_t>(size);
    const bool contiguous = offset == pending->offset + static_cast<sqlite3_int64>(pending->bytes.size());
    if (!pending->bytes.empty() && (!contiguous || pending->bytes.size() + amount > kMaxPending)) {
        if (int code = flush(base); code != SQLITE_OK) return code;
    }
    if (amount > kMaxPending) return realMethods(base).xWrite(realOf(base), data, size, offset);
    if (pending->bytes.empty()) pending->offset = offset;
    const auto* bytes = static_cast<const char*>(data);
    pending->bytes.insert(pending->bytes.end(), bytes, bytes + amount);
    return SQLITE_OK;
}

int closeFile(sqlite3_file* base) {
    const int flushed = flush(base);
    const int closed = realMethods(base).xClose(realOf(base));
    delete fileOf(base).pending;
    fileOf(base).pending = nullptr;
    return flushed != SQLITE_OK ? flushed : closed;
}

// Everything that could see the file's contents or size, or make them durable, flushes first.
int readFile(sqlite3_file* base, void* data, int size, sqlite3_int64 offset) {
    if (int code = flush(base); code != SQLITE_OK) return code;
    return realMethods(base).xRead(realOf(base), data, size, offset);
}
int truncateFile(sqlite3_file* base, sqlite3_int64 size) {
    if (int code = flush(base); code != SQLITE_OK) return code;
    return realMethods(base).xTruncate(realOf(base), size);
}
int syncFile(sqlite3_file* base, int flags) {
    if (int code = flush(base); code != SQLITE_OK) return code;
    return realMethods(base).xSync(realOf(base), flags);
}
int fileSize(sqlite3_file* base, sqlite3_int64* size) {
    if (int code = flush(base); code != SQLITE_OK) return code;
    return realMethods(base).xFileSize(realOf(base), size);
}
int fileControl(sqlite3_file* base, int op, void* arg) {
    if (int code = flush(base); code != SQLITE_OK) return code;
    return realMethods(base).xFileControl(realOf(base), op, arg);
}

// The rest only passes through.
int lock(sqlite3_file* base, int level) {
    return realMethods(base).xLock(realOf(base), level);
}
int unlock(sqlite3_file* base, int level) {
    return realMethods(base).xUnlock(realOf(base), level);
}
int checkReservedLock(sqlite3_file* base, int* out) {
    return realMethods(base).xCheckReservedLock(realOf(base), out);
}
int sectorSize(sqlite3_file* base) {
    return realMethods(base).xSectorSize(realOf(base));
}
int deviceCharacteristics(sqlite3_file* base) {
    return realMethods(base).xDeviceCharacteristics(realOf(base));
}
int shmMap(sqlite3_file* base, int region, int size, int extend, void volatile** out) {
    return realMethods(base).xShmMap(realOf(base), region, size, extend, out);
}
int shmLock(sqlite3_file* base, int offset, int n, int flags) {
    return realMethods(base).xShmLock(realOf(base), offset, n, flags);
}
void shmBarrier(sqlite3_file* base) {
    realMethods(base).xShmBarrier(realOf(base));
}
int shmUnmap(sqlite3_file* base, int deleteFlag) {
    return realMethods(base).xShmUnmap(realOf(base), deleteFlag);
}
int fetch(sqlite3_file* base, sqlite3_int64 offset, int size, void** out) {
    return realMethods(base).xFetch(realOf(base), offset, size, out);
}
int unfetch(sqlite3_file* base, sqlite3_int64 offset, void* page) {
    return realMethods(base).xUnfetch(realOf(base), offset, page);
}

// One table per version of the io_methods struct: a wrapper offers exactly the methods of the
// file it wraps, since SQLite calls the newer ones only when iVersion says they exist.
constexpr sqlite3_io_methods methodsOfVersion(int version) {
    return {version,
            closeFile,
            readFile,
            writeFile,
            truncateFile,
            syncFile,
            fileSize,
            lock,
            unlock,
            checkReservedLock,
            fileControl,
            sectorSize,
            deviceCharacteristics,
            shmMap,
            shmLock,
            shmBarrier,
            shmUnmap,
            fetch,
            unfetch};
}
const sqlite3_io_methods kMethods[] = {methodsOfVersion(1), methodsOfVersion(2), methodsOfVersion(3)};

int openFile(sqlite3_vfs*, const char* name, sqlite3_file* base, int flags, int* outFlags) {
    File& file = fileOf(base);
    base->pMethods = nullptr; // until the wrapped file is open: SQLite then calls no method
    file.real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(base) + kRealFileOffset);
    file.pending = nullptr;
    int code = wrapped->xOpen(wrapped, name, file.real, flags, outFlags);
    if (code != SQLITE_OK) {
        if (file.real->pMethods != nullptr) file.real->pMethods->xClose(file.real);
        return code;
    }
    if ((flags & SQLITE_OPEN_WAL) != 0) {
        file.pending = new (std::nothrow) Pending;
        if (file.pending == nullptr) {
            file.real->pMethods->xClose(file.real);
            return SQLITE_NOMEM;
        }
    }
    const int version = file.real->pMethods->iVersion < 3 ? file.real->pMethods->iVersion : 3;
    base->pMethods = &kMethods[version - 1];
    return SQLITE_OK;
}

} // namespace

const char* walWriteBufferVfs() {
    static std::once_flag once;
    std::call_once(once, [] {
        wrapped = sqlite3_vfs_find(nullptr);
        // The default VFS's own methods (paths, access, time, randomness) serve as they are:
        // they need nothing but its mxPathname and pAppData, which the copy keeps.
        vfs = *wrapped;
        vfs.pNext = nullptr;
        vfs.zName = "parley-wal-buffer";
        vfs.szOsFile = static_cast<int>(kRealFileOffset) + wrapped->szOsFile;
        vfs.xOpen = openFile;
        sqlite3_vfs_register(&vfs, 0);
    });
    return vfs.zName;
}

} // namespace parley::store
