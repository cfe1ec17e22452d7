#pragma once

namespace parley::store {

/// The name of a SQLite VFS that wraps the default one (registered on first call; thread-safe)
/// and writes each commit to the write-ahead log in one system call (one per 64 KiB) instead of
/// two per page.
///
/// SQLite appends a WAL frame as two writes, its 24-byte header and then the page, so a commit
/// that changes five pages costs ten pwrite calls before its fsync. Through this VFS, the appends
/// to a WAL file are gathered in memory while they are contiguous and reach the file, in order,
/// before anything can depend on them: before the WAL is synced, read, truncated, sized or
/// closed, before a write elsewhere in it, and whenever 64 KiB are pending. Every other file,
/// and every other operation, goes straight to the default VFS.
///
/// Only for connections on synchronous=FULL (or EXTRA), as SqliteStore's are. There a commit
/// syncs the WAL before it publishes the new frames to other connections (in the shared-memory
/// index), so they are in the file by then. On NORMAL a commit publishes frames without a sync,
/// and another connection could read a frame this VFS still holds (WalWriteBufferTest checks
/// that another connection sees each of SqliteStore's commits at once).
const char* walWriteBufferVfs();

} // namespace parley::store
