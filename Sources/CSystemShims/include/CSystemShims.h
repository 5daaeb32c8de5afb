#ifndef BALANCE_REPORT_CSYSTEMSHIMS_H
#define BALANCE_REPORT_CSYSTEMSHIMS_H

/// Atomically swaps two paths (Linux renameat2 with RENAME_EXCHANGE).
/// Returns 0 on success, -1 with errno set otherwise (ENOSYS/EINVAL where unsupported).
int br_exchange_paths(const char *from, const char *to);

#endif
