#include "store/sqlite/WalWriteBuffer.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <new>
#include <thread>
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
    int unpaced;      // writes since the last pause, or -1 when this file's writes do not pause
    int writebackFd;  // paced files: a descriptor of their own to start writeback with, or -1
};

constexpr std::size_t kRealFileOffset =
    (sizeof(File) + alignof(std::max_align_t) - 1) & ~(alignof(std::max_align_t) - 1);

sqlite3_vfs* wrapped = nullptr; // the default VFS; set once, before registration
sqlite3_vfs bufferedVfs{};      // the default VFS with WAL appends gathered (parley-wal-buffer)
sqlite3_vfs pacedVfs{};         // the same, with paced writes to main database files
std::atomic<unsigned long> pauses{0};

File& fileOf(sqlite3_file* base) { return *reinterpret_cast<File*>(base); }
sqlite3_file* realOf(sqlite3_file* base) { return fileOf(base).real; }
const sqlite3_io_methods& realMethods(sqlite3_file* base) { return *realOf(base)->pMethods; }

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
    File& file = fileOf(base);
    Pending* pending = file.pending;
    if (pending == nullptr) {
        if (file.unpaced >= 0 && ++file.unpaced >= kPacedWrites) {
            file.unpaced = 0;
            pauses.fetch_add(1, std::memory_order_relaxed);
#ifdef SYNC_FILE_RANGE_WRITE
            // Starts writing out the pages copied so far without waiting for them, so that the
            // checkpoint's sync at the end does not hand the disk a thousand pages at once, in
            // front of the writer's next sync of the log. Only a hint: the sync still decides.
            if (file.writebackFd >= 0) ::sync_file_range(file.writebackFd, 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
            std::this_thread::sleep_for(std::chrono::microseconds(kPacedPauseMicroseconds));
        }
        return realMethods(base).xWrite(realOf(base), data, size, offset);
    }
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
    if (fileOf(base).writebackFd >= 0) ::close(fileOf(base).writebackFd);
    fileOf(base).writebackFd = -1;
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
int lock(sqlite3_file* base, int level) { return realMethods(base).xLock(realOf(base), level); }
int unlock(sqlite3_file* base, int level) { return realMethods(base).xUnlock(realOf(base), level); }
int checkReservedLock(sqlite3_file* base, int* out) { return realMethods(base).xCheckReservedLock(realOf(base), out); }
int sectorSize(sqlite3_file* base) { return realMethods(base).xSectorSize(realOf(base)); }
int deviceCharacteristics(sqlite3_file* base) { return realMethods(base).xDeviceCharacteristics(realOf(base)); }
int shmMap(sqlite3_file* base, int region, int size, int extend, void volatile** out) {
    return realMethods(base).xShmMap(realOf(base), region, size, extend, out);
}
int shmLock(sqlite3_file* base, int offset, int n, int flags) {
    return realMethods(base).xShmLock(realOf(base), offset, n, flags);
}
void shmBarrier(sqlite3_file* base) { realMethods(base).xShmBarrier(realOf(base)); }
int shmUnmap(sqlite3_file* base, int deleteFlag) { return realMethods(base).xShmUnmap(realOf(base), deleteFlag); }
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

int openFile(sqlite3_vfs* self, const char* name, sqlite3_file* base, int flags, int* outFlags) {
    File& file = fileOf(base);
    base->pMethods = nullptr; // until the wrapped file is open: SQLite then calls no method
    file.real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(base) + kRealFileOffset);
    file.pending = nullptr;
    file.unpaced = self == &pacedVfs && (flags & SQLITE_OPEN_MAIN_DB) != 0 ? 0 : -1;
    file.writebackFd = -1;
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
    // Writeback applies to the file's pages whichever descriptor asks; without one, the pauses
    // alone still pace the copy.
    if (file.unpaced == 0 && name != nullptr) file.writebackFd = ::open(name, O_RDONLY | O_CLOEXEC);
    const int version = file.real->pMethods->iVersion < 3 ? file.real->pMethods->iVersion : 3;
    base->pMethods = &kMethods[version - 1];
    return SQLITE_OK;
}

void registerOnce() {
    static std::once_flag once;
    std::call_once(once, [] {
        wrapped = sqlite3_vfs_find(nullptr);
        // The default VFS's own methods (paths, access, time, randomness) serve as they are:
        // they need nothing but its mxPathname and pAppData, which the copies keep.
        bufferedVfs = *wrapped;
        bufferedVfs.pNext = nullptr;
        bufferedVfs.zName = "parley-wal-buffer";
        bufferedVfs.szOsFile = static_cast<int>(kRealFileOffset) + wrapped->szOsFile;
        bufferedVfs.xOpen = openFile;
        pacedVfs = bufferedVfs;
        pacedVfs.zName = "parley-wal-buffer-paced";
        sqlite3_vfs_register(&bufferedVfs, 0);
        sqlite3_vfs_register(&pacedVfs, 0);
    });
}

} // namespace

const char* walWriteBufferVfs() {
    registerOnce();
    return bufferedVfs.zName;
}

const char* pacedCheckpointVfs() {
    registerOnce();
    return pacedVfs.zName;
}

unsigned long pacedWritePauses() { return pauses.load(std::memory_order_relaxed); }

} // namespace parley::store
