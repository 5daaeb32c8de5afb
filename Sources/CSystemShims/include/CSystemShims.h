#ifndef BALANCE_REPORT_CSYSTEMSHIMS_H
#define BALANCE_REPORT_CSYSTEMSHIMS_H

/// Atomically swaps two paths (Linux renameat2 with RENAME_EXCHANGE).
/// Returns 0 on success, -1 with errno set otherwise (ENOSYS/EINVAL where unsupported).
int br_exchange_paths(const char *from, const char *to);

/// pipe2(fds, O_CLOEXEC): a pipe no other child process inherits (send's sendmail pipes).
int br_pipe_cloexec(int fds[2]);

#endif
