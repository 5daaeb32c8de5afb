#ifndef BALANCE_REPORT_CZLIB_SHIM_H
#define BALANCE_REPORT_CZLIB_SHIM_H
#include <zlib.h>

/// `inflateInit2` is a macro (it passes the library's version and the stream's size), which Swift cannot call.
static inline int br_inflateInit2(z_stream *stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}
#endif
