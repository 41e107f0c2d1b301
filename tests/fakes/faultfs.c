/* faultfs.so: a full disk or a read-only file system on demand, for the
 * fault tests, by LD_PRELOAD into the bot.  Only files under one directory
 * are affected, so logs, sockets and everything else work as before.
 *
 *   FAULTFS_DIR=/tmp/x FAULTFS_CTL=/tmp/x.ctl LD_PRELOAD=.../faultfs.so candlewatch ...
 *
 * The control file's first word says what writes to files under
 * FAULTFS_DIR meet, from the next call on:
 *   enospc   every write, truncate and allocation fails with ENOSPC (the
 *            disk is full: what SQLite sees as SQLITE_FULL)
 *   erofs    the same with EROFS, and opening for writing fails too (the
 *            file system was remounted read-only)
 *   anything else, or no file: no fault.
 * Reads always work, as they do on a full or read-only disk.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum mode { OK, FULL, READONLY };

static enum mode mode_now(void)
{
    const char *ctl = getenv("FAULTFS_CTL");
    if (!ctl)
        return OK;
    /* a raw syscall: open() is wrapped below */
    int fd = (int)syscall(SYS_openat, AT_FDCWD, ctl, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return OK;
    char buf[16] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return OK;
    if (!strncmp(buf, "enospc", 6))
        return FULL;
    if (!strncmp(buf, "erofs", 5))
        return READONLY;
    return OK;
}

static int under_dir(const char *path)
{
    const char *dir = getenv("FAULTFS_DIR");
    size_t n = dir ? strlen(dir) : 0;
    return n && !strncmp(path, dir, n) && (path[n] == '/' || path[n] == 0);
}

/* The fault for a write to fd, or OK. */
static enum mode fd_fault(int fd)
{
    enum mode m = mode_now();
    if (m == OK)
        return OK;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0)
        return OK;
    path[n] = 0;
    return under_dir(path) ? m : OK;
}

static int fail(enum mode m)
{
    errno = m == FULL ? ENOSPC : EROFS;
    return -1;
}

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

ssize_t write(int fd, const void *buf, size_t len)
{
    enum mode m = fd_fault(fd);
    return m ? fail(m) : REAL(write)(fd, buf, len);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
    enum mode m = fd_fault(fd);
    return m ? fail(m) : REAL(pwrite)(fd, buf, len, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
    enum mode m = fd_fault(fd);
    return m ? fail(m) : REAL(pwrite64)(fd, buf, len, off);
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
    enum mode m = fd_fault(fd);
    return m ? fail(m) : REAL(writev)(fd, iov, n);
}

int ftruncate(int fd, off_t len)
{
    enum mode m = fd_fault(fd);
    return m ? fail(m) : REAL(ftruncate)(fd, len);
}

int ftruncate64(int fd, off64_t len)
{
    enum mode m = fd_fault(fd);
    return m ? fail(m) : REAL(ftruncate64)(fd, len);
}

int fallocate(int fd, int how, off_t off, off_t len)
{
    enum mode m = fd_fault(fd);
    return m ? fail(m) : REAL(fallocate)(fd, how, off, len);
}

int fallocate64(int fd, int how, off64_t off, off64_t len)
{
    enum mode m = fd_fault(fd);
    return m ? fail(m) : REAL(fallocate64)(fd, how, off, len);
}

/* posix_fallocate returns the error instead of setting errno */
int posix_fallocate(int fd, off_t off, off_t len)
{
    enum mode m = fd_fault(fd);
    return m ? (m == FULL ? ENOSPC : EROFS) : REAL(posix_fallocate)(fd, off, len);
}

int posix_fallocate64(int fd, off64_t off, off64_t len)
{
    enum mode m = fd_fault(fd);
    return m ? (m == FULL ? ENOSPC : EROFS) : REAL(posix_fallocate64)(fd, off, len);
}

/* Opening for writing on a read-only file system fails; on a full disk
 * only creating a file can, and SQLite's files exist already. */
static int open_fault(int dirfd, const char *path, int flags)
{
    if ((flags & O_ACCMODE) == O_RDONLY && !(flags & O_CREAT))
        return 0;
    char abs[PATH_MAX];
    if (path[0] != '/' && dirfd == AT_FDCWD && getcwd(abs, sizeof abs)) {
        size_t n = strlen(abs);
        snprintf(abs + n, sizeof abs - n, "/%s", path);
        path = abs;
    }
    return under_dir(path) && mode_now() == READONLY;
}

#define OPEN_MODE(flags, mode)                      \
    mode_t mode = 0;                                \
    if ((flags) & (O_CREAT | O_TMPFILE)) {          \
        va_list ap;                                 \
        va_start(ap, flags);                        \
        mode = (mode_t)va_arg(ap, int);             \
        va_end(ap);                                 \
    }

int open(const char *path, int flags, ...)
{
    OPEN_MODE(flags, mode);
    return open_fault(AT_FDCWD, path, flags) ? fail(READONLY) : REAL(open)(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
    OPEN_MODE(flags, mode);
    return open_fault(AT_FDCWD, path, flags) ? fail(READONLY) : REAL(open64)(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
    OPEN_MODE(flags, mode);
    return open_fault(dirfd, path, flags) ? fail(READONLY)
                                          : REAL(openat)(dirfd, path, flags, mode);
}
