#ifndef BALANCE_REPORT_CLIBXML2_SHIM_H
#define BALANCE_REPORT_CLIBXML2_SHIM_H

#include <libxml/xmlreader.h>
#include <libxml/xmlerror.h>
#include <libxml/parser.h>

/// `xmlFree` is a global function-pointer variable, which Swift 6 refuses as not concurrency-safe.
static inline void br_xmlFree(void *pointer) { xmlFree(pointer); }

#endif
