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

/// The same VFS, but writes to a main database file pause for a moment after every
/// kPacedWrites of them, and start the writeback of what they wrote (sync_file_range, without
/// waiting): the checkpointer's connection uses it.
///
/// A checkpoint copies up to a thousand pages into the database file, then syncs it. Unpaced,
/// that is several milliseconds of copying in one burst on the server's busiest core, then a
/// thousand pages handed to the disk at once; the store thread's commits, and the sync of the
/// log each one waits for, queue behind both. Measured at 3000 clients with their chats'
/// senders spread over the second (bench/ab.sh, 2-3 interleaved runs each), ack p99 was
/// 5.3-6.9 ms; the pauses brought it to 4.1-4.8 ms, and the writeback to 2.9-3.3 ms. The
/// checkpoint takes a few milliseconds longer, which nothing waits for.
const char* pacedCheckpointVfs();

/// Pages written through the paced VFS per pause, and the pause.
inline constexpr int kPacedWrites = 32;
inline constexpr int kPacedPauseMicroseconds = 200;

/// Pauses taken by writes through the paced VFS since the process started (tests).
unsigned long pacedWritePauses();

} // namespace parley::store
