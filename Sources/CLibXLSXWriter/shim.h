#ifndef BALANCE_REPORT_CLIBXLSXWRITER_SHIM_H
#define BALANCE_REPORT_CLIBXLSXWRITER_SHIM_H

/* libxlsxwriter (Debian: libxlsxwriter-dev, pkg-config xlsxwriter): XLSX workbooks written cell by
   cell. Only the workbook and worksheet API is used. */
#include <xlsxwriter.h>

#endif
